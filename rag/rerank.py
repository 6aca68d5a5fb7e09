"""Re-ranking: retrieved evidence re-scored by how well each passage answers the question.

Fused retrieval finds passages on the question's topic; this stage asks which
of them answers it: closeness in meaning, coverage of the question's own words
(names must match exactly), and whether the passage offers the kind of answer
asked for (a number for "how many", a place for "where") near those words.
The offline answerer quotes from the top of this ranking; the language model
reads the passages in this order.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from .matching import QuestionTerm, TermMatcher, coverage
from .models import Evidence
from .text import NUMBER_WORDS, stem, words

# Weights of the ranking signals: meaning, the question's own words, and the kind of answer offered.
# Chosen on three question sets together (the shared sample, our paraphrases, and an unseen set written
# before the weights were tried), so no one phrasing decides them.
W_DENSE, W_COVERAGE, W_TYPE = 0.40, 0.30, 0.35
# Numbers and times are easy to spot, so a passage without one cannot answer "how many" or "when".
REQUIRED_TYPES = frozenset({"number", "age", "time", "duration"})
# A headline restates the body in few words: what it says, a body sentence says with the detail asked for.
HEADING_WEIGHT = 0.7
W_PROXIMITY = 0.4  # for "how many X": being near the question's words counts less than counting X
PROXIMITY_SCALE = 6.0  # words between the answer and the question's words that halve the fit

# The kind of answer asked for, in English and, for questions searched across languages (rag.multilingual),
# in the languages our readers use most. "How long" comes before "how many": "скільки часу", "wie lange".
_ANSWER_TYPES: list[tuple[str, re.Pattern[str]]] = [
    ("age", re.compile(r"\bhow old\b|\bwhat age\b|\bat what age\b", re.I)),
    ("duration", re.compile(
        r"\bhow long\b|\b(як довго|скільки часу|как долго|сколько времени|cuánto tiempo|wie lange|combien de temps|"
        r"quanto tempo|jak długo)\b", re.I)),
    ("number", re.compile(
        r"\bhow (many|much)\b|\bnumber of\b|\bwhat (share|percentage)\b|"
        r"\b(скільки|сколько|яка кількість|какое количество|cuántos|cuántas|wie viele|wie viel|combien|"
        r"quanti|quante|quantos|quantas|ile)\b", re.I)),
    ("time", re.compile(
        r"\bwhen\b|\bwhat (year|month|day|date|time)\b|\bsince when\b|"
        r"\b(коли|когда|якого року|какого года|з якого часу|с какого времени|cuándo|wann|quand|quando|kiedy)\b",
        re.I)),
    ("place", re.compile(
        r"\bwhere\b|\b(which|what) (city|cities|country|countries|region|regions|town|towns|place|places|area|areas|"
        r"border|location|locations)\b|\b(location|venue|site) of\b|\bin what place\b|"
        r"\b(де|где|звідки|откуда|в якому місті|в каком городе|dónde|wo|où|dove|onde|gdzie)\b", re.I)),
    ("person", re.compile(
        r"\bwho\b|\bwhose\b|\bwhom\b|\bname of\b|\bwhat is the name\b|\b(full|first|last) name\b|"
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
_PLACE_MODIFIERS = frozenset(
    "northern southern eastern western central north south east west occupied".split()
)
_PLACE_JOINERS = _PLACE_NOUNS | {"and", "or", "with", "of", "the"}
UNMARKED_PLACE = 0.6  # "in Istanbul": probably a place, but the sentence does not say so
_MONTHS = frozenset("january february march april may june july august september october november december".split())
_COUNTED = re.compile(r"\b(?:how (?:many|much)|number of)\s+([^\W\d_]+)", re.I)
_YEAR = re.compile(r"^(1[89]|20)\d\d$")
# "How many are still held?", "When will the next one be?": a question about what goes on or comes next is not
# answered by a sentence that only tells what happened; such a sentence has none of these words.
# Also "next" and "will" in the languages searched across (rag.multilingual); not "ще"/"noch", which also mean "else".
_ASKS_ONGOING = re.compile(
    r"\b(still|remain|remains|remaining|next|will|yet|anymore|currently|upcoming|"
    r"наступн\w*|следующ\w*|буде|будуть|будет|будут|próxim\w*|nächst\w*|prochain\w*|prossim\w*)\b",
    re.I,
)
# Not "potential" or "ongoing": "signaling potential shifts in ongoing negotiations" tells of a past swap.
_ONGOING = frozenset(
    "still remain remains remaining next will would future further additional plan plans planned intend intends "
    "intention intentions continue continues continued upcoming expected underway".split()
)
_ASKS_POSSESSIVE = re.compile(r"\w(?:'|’)s\b", re.I)


def in_time_frame(question: str, passage: str) -> bool:
    """False when the question asks what goes on or comes next and the passage only tells what happened."""
    return not _ASKS_ONGOING.search(question) or not _ONGOING.isdisjoint(words(passage))


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
    asked = {w.casefold() for w in re.findall(r"\w+", question)}
    found = []
    for i, token in enumerate(tokens):
        lower = token.casefold()
        if lower in asked:
            continue
        if lower in common and not (kind == "place" and i > 0 and tokens[i - 1].casefold() in _PLACE_MODIFIERS):
            continue  # "Ukraine" answers nothing in an article on Ukraine, but "northern Ukraine" does
        if kind == "number":
            hit = (token.isdigit() and not _YEAR.match(token)) or lower in NUMBER_WORDS
        elif kind == "age":  # "aged 25", "a 25-year-old", "25 years old": not "two months ago"
            after = " ".join(tokens[i + 1 : i + 3]).casefold()
            before = tokens[i - 1].casefold() if i > 0 else ""
            number = token.isdigit() or lower in NUMBER_WORDS
            hit = number and (after.startswith(("year old", "years old")) or before == "aged")
        elif kind == "duration":  # "two-hour", "three days": a count of a unit, not "last week"
            before = tokens[i - 1].casefold() if i > 0 else ""
            hit = bool(_DURATION_UNITS.fullmatch(lower)) and (before.isdigit() or before in NUMBER_WORDS)
        elif kind == "time":
            near_digit = any(t.isdigit() for t in tokens[max(0, i - 1) : i + 2])
            hit = bool(_TIME_WORDS.fullmatch(lower)) and (lower != "may" or near_digit)
        elif kind == "place":
            before = " ".join(tokens[max(0, i - 3) : i]).casefold()
            # "Italy's Prime Minister" answers "which country's prime minister", not "where was he born".
            possessive = tokens[i + 1 : i + 2] == ["s"] and bool(_ASKS_POSSESSIVE.search(question))
            hit = token[:1].isupper() and lower not in _MONTHS and (bool(_PLACE_BEFORE.search(before)) or possessive)
        else:
            hit = i > 0 and token[:1].isupper() and lower not in _MONTHS
        if hit:
            found.append(i)
    return found


def _answer_groups(kind: str, tokens: list[str], candidates: list[int]) -> list[list[int]]:
    """Candidates that make one answer: "Kyiv, Chernihiv, and Donetsk", "the Ukrainian border with Belarus"."""
    groups: list[list[int]] = []
    for pos in candidates:
        between = tokens[groups[-1][-1] + 1 : pos] if groups else []
        joined = kind == "place" and all(t.casefold() in _PLACE_JOINERS for t in between)
        if groups and (pos - groups[-1][-1] <= 1 or joined):
            groups[-1].append(pos)
        else:
            groups.append([pos])
    return groups


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
    groups = _answer_groups(kind, tokens, candidates)
    anchors = [i for i, t in enumerate(tokens) if stem(t.casefold()) in question_stems]
    best = 0.0
    for group in groups:
        if anchors:
            distance = min(abs(c - a) for c in group for a in anchors)
            fit = 1.0 / (1.0 + distance / PROXIMITY_SCALE)
        else:
            fit = 0.5
        if kind == "place":
            near = tokens[max(0, group[0] - 3) : group[-1] + 3]
            fit *= 1.0 if any(t.casefold() in _PLACE_NOUNS for t in near) else UNMARKED_PLACE
        if counts is not None:
            unit = max((counts(t) for t in tokens[group[-1] + 1 : group[-1] + 3]), default=0.0)
            fit = W_PROXIMITY * fit + (1.0 - W_PROXIMITY) * unit
        if distributive and not _DISTRIBUTIVE.search(" ".join(tokens[max(0, group[0] - 5) : group[0]])):
            continue  # "how many did each side free": a total is not the answer, even of the right unit
        best = max(best, fit)
    return best / math.sqrt(len(groups))


@dataclass(frozen=True)
class RankedEvidence:
    evidence: Evidence
    coverage: float
    matches: list[float]  # per question term: 1 for the same word, the word similarity for a paraphrase, else 0
    offers_type: bool
    names_matched: bool  # the passage names everyone and everywhere the question names (true when none)
    time_frame_matched: bool  # a question on what goes on or comes next meets a passage that speaks of it
    score: float


@dataclass(frozen=True)
class Ranking:
    """Evidence for one question, best answer first."""

    kind: str | None  # the kind of answer asked for: number, time, duration, place, person, or None
    type_required: bool  # a passage that does not offer that kind of answer cannot answer
    items: list[RankedEvidence]

    @property
    def evidence(self) -> list[Evidence]:
        return [item.evidence for item in self.items]


class Reranker:
    """Orders retrieved evidence by how well each passage answers the question."""

    def __init__(self, matcher: TermMatcher) -> None:
        self._matcher = matcher

    def rank(self, question: str, evidence: list[Evidence]) -> Ranking:
        """Evidence re-scored for answering; passages lacking a required kind of answer go last."""
        terms = self._matcher.question_terms(question)
        vectors = self._matcher.word_vectors(terms)
        kind, framing = answer_frame(question)
        asked = {t.stem for t in terms} - framing  # "which regions": the answer need not sit by "region"
        # The answer sits by the question's words, or by their listed news synonyms: "swap" by "exchanged".
        stems = asked | {other for root in asked for other in self._matcher.synonyms(root)}
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
            names_matched = all(m >= 1.0 for t, m in zip(terms, matches) if t.is_name)
            time_frame = in_time_frame(question, item.passage.text)
            ranked.append(RankedEvidence(
                replace(item, relevance=score), cover, matches, bool(offers), names_matched, time_frame, score
            ))
        # Places are harder to spot than numbers ("on social media"): "where" needs one only if some passage has one.
        required = kind in REQUIRED_TYPES or (kind == "place" and any(r.offers_type for r in ranked))
        ranked.sort(key=lambda r: (required and not r.offers_type, -r.score))
        return Ranking(kind, required, ranked)

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
