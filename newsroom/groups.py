"""Questions grouped by meaning: paraphrases of one question end up in one group, largest groups first.

The vectors are the engine's own MiniLM embeddings (normalised, so cosine is a dot product). Grouping is
centroid-based and greedy: questions are taken most-asked first; each joins the group whose centroid it is
closest to when that similarity reaches ``threshold``, or starts a new group. It is one matrix product per
batch of questions against the groups so far, so a week of a busy bot groups in well under a second; a
question asked many times in the same words counts once per asking but is compared once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# Paraphrases of one question sit above this cosine in MiniLM, two different questions on one topic mostly
# below: chosen on the labelled sample in benchmarks/grouping.py (README, "For the newsroom").
PARAPHRASE_THRESHOLD = 0.65
_BATCH = 256


@dataclass(frozen=True)
class QuestionGroup:
    """Questions that ask the same thing: how often it was asked and a few of its wordings, the most typical first."""

    count: int
    examples: tuple[str, ...]


def same_wording(question: str) -> str:
    """The key under which two askings are the same words: case, spacing and end punctuation aside."""
    return " ".join(question.casefold().split()).rstrip("?!. ")


def group_labels(vectors: np.ndarray, weights: np.ndarray, threshold: float = PARAPHRASE_THRESHOLD) -> np.ndarray:
    """The group number of each vector (rows normalised), taking the heaviest first; groups numbered from 0."""
    order = np.argsort(-weights, kind="stable")
    labels = np.full(len(vectors), -1, dtype=np.int64)
    sums = np.zeros((0, vectors.shape[1]), dtype=np.float32)  # each group's weighted sum of vectors
    for start in range(0, len(order), _BATCH):
        batch = order[start:start + _BATCH]
        known = len(sums)
        centroids = sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
        similarity = vectors[batch] @ centroids.T  # against the groups before this batch, all at once
        best = similarity.argmax(axis=1) if known else np.zeros(len(batch), dtype=np.int64)
        best_similarity = similarity[np.arange(len(batch)), best] if known else np.full(len(batch), -1.0)
        # A question close enough to an earlier group joins it; the others, few, are compared one by one with
        # the groups started within this batch.
        close = best_similarity >= threshold
        labels[batch[close]] = best[close]
        fresh = np.zeros((int((~close).sum()), vectors.shape[1]), dtype=np.float32)
        fresh_norms = np.ones(len(fresh), dtype=np.float32)
        started = 0
        for row in np.flatnonzero(~close):
            item = batch[row]
            label, score = int(best[row]), float(best_similarity[row])
            if started:
                fresh_similarity = fresh[:started] @ vectors[item] / fresh_norms[:started]
                candidate = int(fresh_similarity.argmax())
                if fresh_similarity[candidate] > score:
                    label, score = known + candidate, float(fresh_similarity[candidate])
            if score < threshold:
                label = known + started
                started += 1
            labels[item] = label
            if label >= known:
                fresh[label - known] += weights[item] * vectors[item]
                fresh_norms[label - known] = max(float(np.linalg.norm(fresh[label - known])), 1e-12)
        joined = labels[batch] < known
        np.add.at(sums, labels[batch][joined], weights[batch][joined, None] * vectors[batch][joined])
        sums = np.vstack([sums, fresh[:started]])
    return labels


def group_questions(
    questions: Sequence[str], vectors: np.ndarray, threshold: float = PARAPHRASE_THRESHOLD, examples: int = 3
) -> list[QuestionGroup]:
    """``questions`` (one per asking) grouped by meaning, ``vectors`` their embeddings row by row; largest first."""
    if not questions:
        return []
    wordings: dict[str, int] = {}
    exact: dict[str, int] = {}  # most repeats are the very same string: normalised once
    first_of: list[int] = []
    asking_wording = np.empty(len(questions), dtype=np.int64)
    for n, question in enumerate(questions):
        wording = exact.get(question)
        if wording is None:
            key = same_wording(question)
            if key not in wordings:
                wordings[key] = len(first_of)
                first_of.append(n)
            wording = exact[question] = wordings[key]
        asking_wording[n] = wording
    weights = np.bincount(asking_wording, minlength=len(first_of)).astype(np.float32)
    unique = np.asarray(vectors, dtype=np.float32)[first_of]
    unique /= np.maximum(np.linalg.norm(unique, axis=1, keepdims=True), 1e-12)
    labels = group_labels(unique, weights, threshold)
    by_label = np.argsort(labels, kind="stable")
    bounds = np.flatnonzero(np.diff(labels[by_label])) + 1
    groups = []
    for members in np.split(by_label, bounds):
        centroid = (weights[members, None] * unique[members]).sum(axis=0)
        typical = members[np.argsort(-(unique[members] @ centroid), kind="stable")]
        groups.append(QuestionGroup(
            count=int(weights[members].sum()), examples=tuple(questions[first_of[m]] for m in typical[:examples]),
        ))
    return sorted(groups, key=lambda g: -g.count)


def groups_by_wording(questions: Sequence[str], examples: int = 3) -> list[QuestionGroup]:
    """``questions`` with no vector grouped by their words alone (case, spacing and end punctuation aside): with no
    model at hand, the same words are the same question and nothing more is known. Linear in the questions."""
    by_wording: dict[str, list[str]] = {}
    for question in questions:
        by_wording.setdefault(same_wording(question), []).append(question)
    groups = [QuestionGroup(count=len(asked), examples=tuple(dict.fromkeys(asked))[:examples])
              for asked in by_wording.values()]
    return sorted(groups, key=lambda g: -g.count)
