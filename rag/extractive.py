"""The offline answerer: picks the sentences that answer, quoting them. No LLM needed."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from .citations import DraftSentence
from .matching import QuestionTerm, TermMatcher, coverage, question_terms
from .models import Evidence
from .text import NUMBER_WORDS, stem

# Weights of the ranking signals; the dense similarity dominates, coverage keeps
# the answer on the question's own words, the answer type breaks ties.
W_DENSE, W_COVERAGE, W_TYPE = 0.45, 0.30, 0.25
MIN_COVERAGE = 0.5  # below this the passage mentions the topic but does not answer
TYPED_MIN_COVERAGE = 0.3  # ...unless it also holds the kind of thing asked for ("how many" → a number)
TYPED_MIN_SIMILARITY = 0.4
NAMED_MIN_SIMILARITY = 0.2
# Numbers and times are easy to spot, so a passage without one cannot answer "how many" or "when".
REQUIRED_TYPES = frozenset({"number", "time"})
STRONG_SIMILARITY = 0.65  # a passage this close in meaning answers even in other words

_ANSWER_TYPES: list[tuple[str, re.Pattern[str]]] = [
    ("number", re.compile(r"\bhow (many|much|old)\b|\bnumber of\b|\bwhat (share|percentage)\b", re.I)),
    ("time", re.compile(r"\bwhen\b|\bhow long\b|\bwhat (year|month|day|date|time)\b|\bsince when\b", re.I)),
    ("place", re.compile(r"\bwhere\b|\b(which|what) (city|country|region|town|place|area|border)\b", re.I)),
    ("person", re.compile(r"\bwho\b|\bwhose\b|\bwhom\b|\bname of\b|\bwhat is the name\b", re.I)),
]
_TIME_WORDS = re.compile(
    r"(\d{4}|january|february|march|april|may|june|july|august|september|october|november|december|"
    r"hours?|days?|weeks?|months?|years?|ago|since|yesterday|today)",
    re.I,
)
_PLACE_BEFORE = re.compile(r"\b(in|at|near|from|across|to|with|like|of)( the)?( \w+)?$")
_MONTHS = frozenset("january february march april may june july august september october november december".split())
_YEAR = re.compile(r"^(1[89]|20)\d\d$")
_NAME = re.compile(r"(?<!^)\b[A-Z][a-z]+")


def answer_type(question: str) -> str | None:
    """What kind of thing the question asks for, when its wording says so."""
    for kind, pattern in _ANSWER_TYPES:
        if pattern.search(question):
            return kind
    return None


def _candidates(kind: str, tokens: list[str], question: str, common: frozenset[str]) -> list[int]:
    """Positions of words that could be the asked-for thing, not named by the question nor common to the corpus."""
    asked = {w.casefold() for w in re.findall(r"\w+", question)} | common
    found = []
    for i, token in enumerate(tokens):
        lower = token.casefold()
        if lower in asked:
            continue
        if kind == "number":
            hit = (token.isdigit() and not _YEAR.match(token)) or lower in NUMBER_WORDS
        elif kind == "time":
            near_digit = any(t.isdigit() for t in tokens[max(0, i - 1) : i + 2])
            hit = bool(_TIME_WORDS.fullmatch(lower)) and (lower != "may" or near_digit)
        elif kind == "place":
            before = " ".join(tokens[max(0, i - 3) : i]).casefold()
            hit = token[:1].isupper() and lower not in _MONTHS and bool(_PLACE_BEFORE.search(before))
        else:
            hit = i > 0 and token[:1].isupper() and lower not in _MONTHS
        if hit:
            found.append(i)
    return found


def type_fit(
    kind: str | None, passage: str, question: str, question_stems: set[str], common: frozenset[str]
) -> float:
    """How well the passage offers the asked-for kind of answer (0..1).

    Near the question's own words scores higher (the answer sits by what was
    asked about), and one candidate higher than several (a sentence stating one
    figure answers "how many" more directly than one stating three).
    """
    if kind is None:
        return 0.0
    tokens = re.findall(r"[^\W_]+", passage)
    candidates = _candidates(kind, tokens, question, common)
    if not candidates:
        return 0.0
    groups = sum(1 for i, pos in enumerate(candidates) if i == 0 or pos - candidates[i - 1] > 1)
    anchors = [i for i, t in enumerate(tokens) if stem(t.casefold()) in question_stems]
    if anchors:
        distance = min(abs(c - a) for c in candidates for a in anchors)
        proximity = 1.0 / (1.0 + distance / 4.0)
    else:
        proximity = 0.5
    return proximity / math.sqrt(groups)


@dataclass(frozen=True)
class RankedEvidence:
    evidence: Evidence
    coverage: float
    matches: list[float]
    offers_type: bool
    names_matched: bool  # the question names someone or somewhere, and the passage names them all
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
        stems = {t.stem for t in terms}
        ranked = []
        for item in evidence:
            matches = self._matcher.term_matches(terms, vectors, item.passage.passage_id)
            cover = coverage(terms, matches)
            offers = type_fit(kind, item.passage.text, question, stems, self._matcher.common_words)
            score = W_DENSE * item.dense_similarity + W_COVERAGE * cover + W_TYPE * offers
            names = [m for t, m in zip(terms, matches) if t.weight > 1.0]
            named = bool(names) and all(m >= 1.0 for m in names)
            ranked.append(RankedEvidence(item, cover, matches, bool(offers), named, score))
        return sorted(ranked, key=lambda r: -r.score)

    def _answers(self, ranked: RankedEvidence, kind: str | None) -> bool:
        similarity = ranked.evidence.dense_similarity
        if ranked.names_matched and ranked.coverage >= 0.99 and similarity >= NAMED_MIN_SIMILARITY:
            return True  # "What did Trump say?": a short question about a name the passage holds
        if similarity < self._min_relevance:
            return False
        if kind in REQUIRED_TYPES and not ranked.offers_type:
            return False
        if ranked.offers_type and ranked.coverage >= TYPED_MIN_COVERAGE and similarity >= TYPED_MIN_SIMILARITY:
            return True
        return ranked.coverage >= MIN_COVERAGE or similarity >= STRONG_SIMILARITY

    def draft(self, question: str, evidence: list[Evidence]) -> list[DraftSentence]:
        """Sentences to say, each citing its passage; empty when nothing answers."""
        kind = answer_type(question)
        ranked = [r for r in self.rank(question, evidence) if self._answers(r, kind)]
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
