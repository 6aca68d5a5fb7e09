"""The offline answerer: picks the sentences that answer, quoting them. No LLM needed."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .citations import DraftSentence
from .matching import QuestionTerm, TermMatcher, coverage
from .models import Evidence
from .text import NUMBER_WORDS, stem, words

# Weights of the ranking signals; the dense similarity dominates, coverage keeps
# the answer on the question's own words, the answer type breaks ties.
W_DENSE, W_COVERAGE, W_TYPE = 0.45, 0.30, 0.25
FULL_COVERAGE_MIN_SIMILARITY = 0.2  # every question word in the passage: little paraphrase left to doubt
# Numbers and times are easy to spot, so a passage without one cannot answer "how many" or "when".
REQUIRED_TYPES = frozenset({"number", "time", "duration"})
STRONG_SIMILARITY = 0.65  # a passage this close in meaning answers even in other words
# A headline restates the body in few words: what it says, a body sentence says with the detail asked for.
HEADING_WEIGHT = 0.7
SECOND_SENTENCE_SHARE = 0.92  # a second quote must score nearly as well as the first
SCORE_MARGIN = 0.05  # above the relevance floor: what coverage or the answer type must add to dense similarity
W_PROXIMITY = 0.4  # for "how many X": being near the question's words counts less than counting X

_ANSWER_TYPES: list[tuple[str, re.Pattern[str]]] = [
    ("number", re.compile(r"\bhow (many|much|old)\b|\bnumber of\b|\bwhat (share|percentage)\b", re.I)),
    ("duration", re.compile(r"\bhow long\b", re.I)),
    ("time", re.compile(r"\bwhen\b|\bwhat (year|month|day|date|time)\b|\bsince when\b", re.I)),
    ("place", re.compile(
        r"\bwhere\b|\b(which|what) (city|cities|country|countries|region|regions|town|towns|place|places|area|areas|"
        r"border|location|locations)\b", re.I)),
    ("person", re.compile(
        r"\bwho\b|\bwhose\b|\bwhom\b|\bname of\b|\bwhat is the name\b|"
        r"\b(which|what) (\w+ )?(president|minister|leader|official|person|politician)\b", re.I)),
]
_TIME_WORDS = re.compile(
    r"(\d{4}|january|february|march|april|may|june|july|august|september|october|november|december|"
    r"hours?|days?|weeks?|months?|years?|ago|since|yesterday|today)",
    re.I,
)
_DISTRIBUTIVE = re.compile(r"\b(each|per|every|apiece)\b", re.I)
_DURATION_UNITS = re.compile(r"(second|minute|hour|day|week|month|year)s?", re.I)
_PLACE_BEFORE = re.compile(r"\b(in|at|near|from|across|to|with|like|of)( the)?( \w+)?$")
# Nouns that make a capitalised word a place beyond doubt: "the border with Belarus", "the Luhansk region".
_PLACE_NOUNS = frozenset(
    "border borders city cities capital region regions town village area areas province oblast district country "
    "frontier crossing site airport port base camp prison front".split()
)
UNMARKED_PLACE = 0.6  # "in Istanbul": probably a place, but the sentence does not say so
UNDISTRIBUTED = 0.6  # "how many did each side free": a number with no "each"/"per" before it is likely the total
_MONTHS = frozenset("january february march april may june july august september october november december".split())
_COUNTED = re.compile(r"\b(?:how (?:many|much)|number of)\s+([^\W\d_]+)", re.I)
_YEAR = re.compile(r"^(1[89]|20)\d\d$")


def is_heading(text: str) -> bool:
    """A title or subhead: a line with no sentence-final punctuation."""
    return text.rstrip()[-1:] not in ".!?…\"'”»)"


def answer_frame(question: str) -> tuple[str | None, frozenset[str]]:
    """The kind of thing asked for, and the stems of the words that say so.

    "What city ...", "how long ...", "what is the name of ...": the passage
    answers with "Istanbul", "two-hour", "Valerii", so it need not repeat
    "city", "long" or "name".
    """
    for kind, pattern in _ANSWER_TYPES:
        match = pattern.search(question)
        if match:
            return kind, frozenset(stem(w) for w in words(match.group(0)))
    return None, frozenset()


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
        elif kind == "duration":  # "two-hour", "three days": a count of a unit, not "last week"
            before = tokens[i - 1].casefold() if i > 0 else ""
            hit = bool(_DURATION_UNITS.fullmatch(lower)) and (before.isdigit() or before in NUMBER_WORDS)
        elif kind == "time":
            near_digit = any(t.isdigit() for t in tokens[max(0, i - 1) : i + 2])
            hit = bool(_TIME_WORDS.fullmatch(lower)) and (lower != "may" or near_digit)
        elif kind == "place":
            before = " ".join(tokens[max(0, i - 3) : i]).casefold()
            possessive = tokens[i + 1 : i + 2] == ["s"]  # "Italy's Prime Minister" answers "which country's"
            hit = token[:1].isupper() and lower not in _MONTHS and (bool(_PLACE_BEFORE.search(before)) or possessive)
        else:
            hit = i > 0 and token[:1].isupper() and lower not in _MONTHS
        if hit:
            found.append(i)
    return found


def type_fit(
    kind: str | None,
    passage: str,
    question: str,
    question_stems: set[str],
    common: frozenset[str],
    counts: Callable[[str], float] | None = None,
) -> float:
    """How well the passage offers the asked-for kind of answer (0..1).

    Near the question's own words scores higher (the answer sits by what was
    asked about), and one candidate higher than several (a sentence stating one
    figure answers "how many" more directly than one stating three). For "how
    many X", ``counts`` says how well a word names X: "390 individuals" answers
    "how many people", "270 military personnel" does not.
    """
    if kind is None:
        return 0.0
    tokens = re.findall(r"[^\W_]+", passage)
    candidates = _candidates(kind, tokens, question, common)
    if not candidates:
        return 0.0
    distributive = kind == "number" and bool(_DISTRIBUTIVE.search(question))
    groups: list[list[int]] = []
    for pos in candidates:
        if groups and pos - groups[-1][-1] <= 1:
            groups[-1].append(pos)
        else:
            groups.append([pos])
    anchors = [i for i, t in enumerate(tokens) if stem(t.casefold()) in question_stems]
    best = 0.0
    for group in groups:
        if anchors:
            distance = min(abs(c - a) for c in group for a in anchors)
            fit = 1.0 / (1.0 + distance / 4.0)
        else:
            fit = 0.5
        if kind == "place":
            near = tokens[max(0, group[0] - 3) : group[-1] + 3]
            fit *= 1.0 if any(t.casefold() in _PLACE_NOUNS for t in near) else UNMARKED_PLACE
        if distributive and not _DISTRIBUTIVE.search(" ".join(tokens[max(0, group[0] - 5) : group[0]])):
            fit *= UNDISTRIBUTED
        if counts is not None:
            unit = max((counts(t) for t in tokens[group[-1] + 1 : group[-1] + 3]), default=0.0)
            fit = W_PROXIMITY * fit + (1.0 - W_PROXIMITY) * unit
        best = max(best, fit)
    return best / math.sqrt(len(groups))


@dataclass(frozen=True)
class RankedEvidence:
    evidence: Evidence
    coverage: float
    matches: list[float]
    offers_type: bool
    names_matched: bool  # the passage names everyone and everywhere the question names (true when none)
    score: float


class ExtractiveAnswerer:
    """Quotes the one or two retrieved sentences that best answer the question."""

    def __init__(self, matcher: TermMatcher, min_relevance: float) -> None:
        self._matcher = matcher
        self._min_score = min_relevance + SCORE_MARGIN

    def rank(self, question: str, evidence: list[Evidence]) -> list[RankedEvidence]:
        """Evidence re-scored for answering, best first."""
        terms = self._matcher.question_terms(question)
        vectors = self._matcher.word_vectors(terms)
        kind, framing = answer_frame(question)
        stems = {t.stem for t in terms}
        counts = self._counted(question, terms, vectors)
        ranked = []
        for item in evidence:
            matches = self._matcher.term_matches(terms, vectors, item.passage.passage_id)
            cover = coverage(terms, matches, optional=framing)
            heading = is_heading(item.passage.text)
            offers = 0.0 if heading else type_fit(
                kind, item.passage.text, question, stems, self._matcher.common_words, counts
            )
            score = W_DENSE * item.dense_similarity + W_COVERAGE * cover + W_TYPE * offers
            if heading:
                score *= HEADING_WEIGHT
            names = [m for t, m in zip(terms, matches) if t.is_name]
            ranked.append(RankedEvidence(item, cover, matches, bool(offers), all(m >= 1.0 for m in names), score))
        return sorted(ranked, key=lambda r: -r.score)

    def _counted(
        self, question: str, terms: list[QuestionTerm], vectors: np.ndarray
    ) -> Callable[[str], float] | None:
        """For "how many X": how well a passage word names X (1 for the same stem, else word similarity)."""
        match = _COUNTED.search(question)
        if not match:
            return None
        root = stem(match.group(1).casefold())
        row = next((i for i, t in enumerate(terms) if t.stem == root), None)
        if row is None:
            return None
        vector = vectors[row]

        def counts(word: str) -> float:
            lower = word.casefold()
            return 1.0 if stem(lower) == root else self._matcher.similarity(vector, lower)

        return counts

    def _answers(self, ranked: RankedEvidence, kind: str | None) -> bool:
        similarity = ranked.evidence.dense_similarity
        if not ranked.names_matched:
            return False  # about someone or somewhere else: "Did Putin attend?" is not answered by a sentence on Lavrov
        if kind in REQUIRED_TYPES and not ranked.offers_type:
            return False
        if ranked.coverage >= 0.99 and similarity >= FULL_COVERAGE_MIN_SIMILARITY and any(ranked.matches):
            return True  # "What did Trump say?": every word of a short question is in the passage
        return ranked.score >= self._min_score or similarity >= STRONG_SIMILARITY

    def draft(self, question: str, evidence: list[Evidence]) -> list[DraftSentence]:
        """Sentences to say, each citing its passage; empty when nothing answers."""
        kind = answer_frame(question)[0]
        ranked = [r for r in self.rank(question, evidence) if self._answers(r, kind)]
        if not ranked:
            return []
        best = ranked[0]
        chosen = [best]
        # A second sentence earns its place only by answering a part of the question the first leaves open.
        uncovered = np.array(best.matches) < 1.0
        for other in ranked[1:3]:
            adds = uncovered & (np.array(other.matches) >= 1.0)
            if adds.any() and other.score >= SECOND_SENTENCE_SHARE * best.score:
                chosen.append(other)
                break
        chosen.sort(key=lambda r: (r.evidence.passage.doc_id, r.evidence.passage.ordinal))  # reading order
        return [DraftSentence(r.evidence.passage.text, [r.evidence.passage.passage_id]) for r in chosen]
