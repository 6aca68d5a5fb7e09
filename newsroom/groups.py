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
        similarity = vectors[batch] @ centroids.T if known else np.zeros((len(batch), 0), dtype=np.float32)
        new_sums: list[np.ndarray] = []
        for row, item in enumerate(batch):
            best, best_similarity = -1, -1.0
            if known:
                best = int(np.argmax(similarity[row]))
                best_similarity = float(similarity[row, best])
            if new_sums:  # groups started within this batch: few, compared one by one
                fresh = np.stack(new_sums)
                fresh_similarity = fresh @ vectors[item] / np.maximum(np.linalg.norm(fresh, axis=1), 1e-12)
                candidate = int(np.argmax(fresh_similarity))
                if fresh_similarity[candidate] > best_similarity:
                    best, best_similarity = known + candidate, float(fresh_similarity[candidate])
            if best_similarity >= threshold:
                labels[item] = best
                if best >= known:
                    new_sums[best - known] = new_sums[best - known] + weights[item] * vectors[item]
            else:
                labels[item] = known + len(new_sums)
                new_sums.append(weights[item] * vectors[item])
        joined = labels[batch] < known
        if joined.any():
            np.add.at(sums, labels[batch][joined], weights[batch][joined, None] * vectors[batch][joined])
        if new_sums:
            sums = np.vstack([sums, np.stack(new_sums).astype(np.float32)])
    return labels


def group_questions(
    questions: Sequence[str], vectors: np.ndarray, threshold: float = PARAPHRASE_THRESHOLD, examples: int = 3
) -> list[QuestionGroup]:
    """``questions`` (one per asking) grouped by meaning, ``vectors`` their embeddings row by row; largest first."""
    if not questions:
        return []
    wordings: dict[str, int] = {}
    first_of: list[int] = []
    asking_wording = np.empty(len(questions), dtype=np.int64)
    for n, question in enumerate(questions):
        key = same_wording(question)
        if key not in wordings:
            wordings[key] = len(first_of)
            first_of.append(n)
        asking_wording[n] = wordings[key]
    weights = np.bincount(asking_wording, minlength=len(first_of)).astype(np.float32)
    unique = np.asarray(vectors, dtype=np.float32)[first_of]
    unique /= np.maximum(np.linalg.norm(unique, axis=1, keepdims=True), 1e-12)
    labels = group_labels(unique, weights, threshold)
    groups = []
    for label in range(int(labels.max()) + 1):
        members = np.flatnonzero(labels == label)
        centroid = (weights[members, None] * unique[members]).sum(axis=0)
        typical = members[np.argsort(-(unique[members] @ centroid), kind="stable")]
        groups.append(QuestionGroup(
            count=int(weights[members].sum()), examples=tuple(questions[first_of[m]] for m in typical[:examples]),
        ))
    return sorted(groups, key=lambda g: -g.count)
