"""Search words, stems and numbers, shared by keyword search, answerer and citation check (words split by rag.tokens)."""

from __future__ import annotations

import re
from functools import lru_cache

import snowballstemmer

from .tokens import CYRILLIC, HYPHEN, WordSplitter, without_possessive

# Function words carry no evidence: matching "the" or "did" proves nothing.
STOPWORDS = frozenset(
    """
    a about above after again against all am an and any are aren't as at be because been before being below
    between both but by can could did didn't do does doesn't doing don't down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is isn't it it's its itself
    just me more most my myself no nor not now of off on once only or other our ours ourselves out over own
    same she should so some such than that that's the their theirs them themselves then there these they this
    those through to too under until up very was wasn't we were weren't what when where which while who whom
    why will with would you your yours yourself yourselves also s t tell know please article say says said
    many much
    hey hi hello bot guys anyone someone somebody got get gets give gave happen happened like really actually
    thanks thank ok okay yes yeah question quick exactly kind whether could would might maybe
    yo lol btw pls plz u ur q hmm bro folks dude idk wondering wonder curious asking anybody guess
    come came comes coming go goes went take took make made makes put let
    total overall altogether approximately roughly exactly
    """.split()
)

# Case folded, "U.S." read as "us", compounds held together until the hyphen is split off below.
_SEARCH_WORDS = WordSplitter(fold_case=True, acronyms=True)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")

NUMBER_WORDS = {
    "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
    "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "twenty": "20",
    "thirty": "30", "forty": "40", "fifty": "50", "hundred": "100", "thousand": "1000",
}


@lru_cache(maxsize=4)
def _stemmer(language: str) -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer(language)


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Snowball stem of a lower-cased word; Cyrillic words use the Russian stemmer."""
    language = "russian" if CYRILLIC.search(word) else "english"
    return _stemmer(language).stemWord(word)


def words(text: str) -> list[str]:
    """Lower-cased words, hyphenated parts split: "two-hour" → ["two", "hour"]."""
    tokens: list[str] = []
    for word in _SEARCH_WORDS.split(text):
        token = without_possessive(word.replace("’", "'"))
        tokens.extend(part for part in token.split(HYPHEN) if part)
    return tokens


def terms(text: str) -> list[str]:
    """Stemmed content terms (no stopwords), in order, with repeats."""
    return [stem(w) for w in words(text) if w not in STOPWORDS]


def numbers(text: str) -> set[str]:
    """Numbers a sentence states, digits or number words: "two-hour meeting" → {"2"}."""
    found = {n.replace(",", "") for n in _NUMBER.findall(text)}
    found.update(NUMBER_WORDS[w] for w in words(text) if w in NUMBER_WORDS)
    return found
