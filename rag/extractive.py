"""The offline answerer: picks the sentences that answer, quoting them. No LLM needed."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .citations import DraftSentence
from .matching import QuestionTerm, TermMatcher, coverage, question_terms
from .models import Evidence
from .text import numbers

# Weights of the ranking signals; the dense similarity dominates, coverage keeps
# the answer on the question's own words, the answer type breaks ties.
W_DENSE, W_COVERAGE, W_TYPE = 0.5, 0.35, 0.15
MIN_COVERAGE = 0.5  # below this the passage mentions the topic but does not answer
STRONG_SIMILARITY = 0.65  # a passage this close in meaning answers even in other words

_ANSWER_TYPES: list[tuple[str, re.Pattern[str]]] = [
    ("number", re.compile(r"\bhow (many|much|old)\b|\bnumber of\b|\bwhat (share|percentage)\b", re.I)),
    ("time", re.compile(r"\bwhen\b|\bhow long\b|\bwhat (year|month|day|date|time)\b|\bsince when\b", re.I)),
    ("place", re.compile(r"\bwhere\b|\b(which|what) (city|country|region|town|place|area|border)\b", re.I)),
    ("person", re.compile(r"\bwho\b|\bwhose\b|\bwhom\b|\bname of\b|\bwhat is the name\b", re.I)),
]
_TIME_WORDS = re.compile(
    r"\b(\d{4}|january|february|march|april|may|june|july|august|september|october|november|december|"
    r"hours?|days?|weeks?|months?|years?|ago|since|last|yesterday|today)\b",
    re.I,
)
_PLACE_PHRASE = re.compile(r"\b(in|at|near|from|across|to|border with|like)\s+(the\s+)?[A-Z]\w+")
_NAME = re.compile(r"(?<!^)\b[A-Z][a-z]+")


def answer_type(question: str) -> str | None:
    """What kind of thing the question asks for, when its wording says so."""
    for kind, pattern in _ANSWER_TYPES:
        if pattern.search(question):
            return kind
    return None


def _offers(kind: str | None, passage: str, question: str) -> float:
    """1.0 when the passage holds something of the asked-for kind that the question does not already name."""
    if kind is None:
        return 0.0
    if kind == "number":
        return 1.0 if numbers(passage) - numbers(question) else 0.0
    if kind == "time":
        return 1.0 if _TIME_WORDS.search(passage) else 0.0
    asked = set(re.findall(r"\w+", question.casefold()))
    if kind == "place":
        found = [m.group(0).split()[-1] for m in _PLACE_PHRASE.finditer(passage)]
    else:
        found = _NAME.findall(passage)
    return 1.0 if any(w.casefold() not in asked for w in found) else 0.0


@dataclass(frozen=True)
class RankedEvidence:
    evidence: Evidence
    coverage: float
    matches: list[float]
    score: float


class ExtractiveAnswerer:
    """Quotes the one or two retrieved sentences that best answer the question."""

    def __init__(self, matcher: TermMatcher, min_relevance: float) -> None:
        self._matcher = matcher
        self._min_relevance = min_relevance

    def rank(self, question: str, evidence: list[Evidence]) -> list[RankedEvidence]:
        """Evidence re-scored for answering, best first."""
        terms = question_terms(question)
        vectors = self._matcher.word_vectors(terms)
        kind = answer_type(question)
        ranked = []
        for item in evidence:
            matches = self._matcher.term_matches(terms, vectors, item.passage.passage_id)
            cover = coverage(terms, matches)
            score = (
                W_DENSE * item.dense_similarity
                + W_COVERAGE * cover
                + W_TYPE * _offers(kind, item.passage.text, question)
            )
            ranked.append(RankedEvidence(item, cover, matches, score))
        return sorted(ranked, key=lambda r: -r.score)

    def _answers(self, ranked: RankedEvidence) -> bool:
        similarity = ranked.evidence.dense_similarity
        if similarity < self._min_relevance:
            return False
        return ranked.coverage >= MIN_COVERAGE or similarity >= STRONG_SIMILARITY

    def draft(self, question: str, evidence: list[Evidence]) -> list[DraftSentence]:
        """Sentences to say, each citing its passage; empty when nothing answers."""
        ranked = [r for r in self.rank(question, evidence) if self._answers(r)]
        if not ranked:
            return []
        best = ranked[0]
        chosen = [best]
        # A second sentence earns its place only by answering a part of the question the first leaves open.
        uncovered = np.array(best.matches) < 1.0
        for other in ranked[1:3]:
            adds = uncovered & (np.array(other.matches) >= 1.0)
            if adds.any() and other.score >= 0.85 * best.score:
                chosen.append(other)
                break
        chosen.sort(key=lambda r: (r.evidence.passage.doc_id, r.evidence.passage.ordinal))  # reading order
        return [DraftSentence(r.evidence.passage.text, [r.evidence.passage.passage_id]) for r in chosen]
