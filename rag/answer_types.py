"""The kind of answer a question asks for, and whether a sentence offers one: for the offline cross-language path,
and for the check of the example questions /start suggests (``Engine.answers``).

English questions are answered by the learned reader (rag.reader), which reads question and
sentence together, and these checks do not filter its answers; the reader reads English only,
so a question in another language is matched to an English sentence by multilingual-e5
alone, with no translation to check against. These checks are what that path has left:
"how many" needs a number in the sentence, "when" a time, "where" a place, and a question
about what goes on or comes next a sentence that speaks of it. Without them, on
tests/data/multilingual.jsonl, citation precision fell from 1.0 to 0.897 and refusal
accuracy from 1.0 to 0.955. The question patterns cover the languages our readers use most.
"""

from __future__ import annotations

import re

from .text import NUMBER_WORDS, words
from .tokens import WordSplitter

# The kinds asked for, in English and in other languages. "How long" comes before "how many": "скільки часу",
# "wie lange".
_ANSWER_KINDS: list[tuple[str, re.Pattern[str]]] = [
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
]
_TIME_WORDS = re.compile(
    r"(\d{4}|january|february|march|april|may|june|july|august|september|october|november|december|"
    r"hours?|days?|weeks?|months?|years?|ago|since|yesterday|today)",
    re.I,
)
_DURATION_UNITS = re.compile(r"(second|minute|hour|day|week|month|year)s?", re.I)
_PLACE_BEFORE = re.compile(r"\b(in|at|near|from|across|to|with|like|of)( the)?( \w+)?$")
_MONTHS = frozenset("january february march april may june july august september october november december".split())
_YEAR = re.compile(r"^(1[89]|20)\d\d$")
# As written, with no compounds: "25-year-old" is "25", "year", "old", each a candidate on its own.
_PLAIN_WORDS = WordSplitter(joiners="")
# "How many are still held?", "When will the next one be?": a question about what goes on or comes next is not
# answered by a sentence that only tells what happened; such a sentence has none of these words.
# Not "ще"/"noch", which also mean "else".
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


def answer_kind(question: str) -> str | None:
    """The kind of answer asked for: "age", "duration", "number", "time", "place", or None."""
    return next((kind for kind, pattern in _ANSWER_KINDS if pattern.search(question)), None)


def _is_candidate(kind: str, tokens: list[str], i: int) -> bool:
    """Whether ``tokens[i]`` could be the asked-for thing."""
    token, lower = tokens[i], tokens[i].casefold()
    before = tokens[i - 1].casefold() if i > 0 else ""
    if kind == "number":
        return (token.isdigit() and not _YEAR.match(token)) or lower in NUMBER_WORDS
    if kind == "age":  # "aged 25", "a 25-year-old", "25 years old": not "two months ago"
        after = " ".join(tokens[i + 1 : i + 3]).casefold()
        number = token.isdigit() or lower in NUMBER_WORDS
        return number and (after.startswith(("year old", "years old")) or before == "aged")
    if kind == "duration":  # "two-hour", "three days": a count of a unit, not "last week"
        return bool(_DURATION_UNITS.fullmatch(lower)) and (before.isdigit() or before in NUMBER_WORDS)
    if kind == "time":
        near_digit = any(t.isdigit() for t in tokens[max(0, i - 1) : i + 2])
        return bool(_TIME_WORDS.fullmatch(lower)) and (lower != "may" or near_digit)
    # a place: a capitalised word after "in", "at", "near the", …
    preceding = " ".join(tokens[max(0, i - 3) : i]).casefold()
    return token[:1].isupper() and lower not in _MONTHS and bool(_PLACE_BEFORE.search(preceding))


def offers_kind(kind: str, passage: str) -> bool:
    """Whether the passage holds something of the asked-for kind: a number, an age, a duration, a time, a place."""
    tokens = _PLAIN_WORDS.split(passage)
    return any(_is_candidate(kind, tokens, i) for i in range(len(tokens)))


def in_time_frame(question: str, passage: str) -> bool:
    """False when the question asks what goes on or comes next and the passage only tells what happened."""
    return not _ASKS_ONGOING.search(question) or not _ONGOING.isdisjoint(words(passage))


def is_heading(text: str) -> bool:
    """A title or subhead: a line with no sentence-final punctuation."""
    return text.rstrip()[-1:] not in ".!?…\"'”»)"
