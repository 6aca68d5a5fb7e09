"""Words: the one place that splits text into words, for every module of the engine.

Modules need different things of a word; each difference is an option of ``WordSplitter``, not a
regular expression of their own:

- ``fold_case``: casefold the text first, for matching ("Harbour" is "harbour"); case is kept where a
  capital means something (a name, the "He" of a follow-up).
- ``digits``: ``"in_words"`` keeps letters and digits in one word ("covid19", "2022" are words);
  ``"apart"`` makes each run of digits a word of its own ("covid", "19"), for checks that tell names from
  numbers by position; ``"dropped"`` reads letters only ("20-year-old" is "year-old").
- ``joiners``: the marks that hold a compound together when a letter or digit follows them: apostrophes
  ("didn't", "Anna's"), the hyphen ("two-hour"), both (the default), or none ("two", "hour").
- ``acronyms``: "U.S." is the word "US", not "U" and "S".

A word never holds an underscore, and never starts or ends with a joiner ("sailors'" is "sailors").
The BM25 index reads words through this module too (``rag.keyword`` says why not through bm25s' own).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

Digits = Literal["in_words", "apart", "dropped"]

APOSTROPHES = "'’"
HYPHEN = "-"
# The Cyrillic block: Ukrainian and Russian letters, for the checks that romanize names or pick a stemmer.
CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_ACRONYM = re.compile(r"\b(?:[^\W\d_]\.){2,}")


@lru_cache(maxsize=16)
def _pattern(digits: Digits, joiners: str) -> re.Pattern[str]:
    char = r"[^\W_]" if digits == "in_words" else r"[^\W\d_]"
    word = f"{char}+(?:[{re.escape(joiners)}]{char}+)*" if joiners else f"{char}+"
    return re.compile(word + r"|\d+" if digits == "apart" else word)


@dataclass(frozen=True)
class WordSplitter:
    """How a module reads words (see the module's docstring for each option); ``WordSplitter()`` keeps
    case and digits and holds apostrophe and hyphen compounds together."""

    fold_case: bool = False
    digits: Digits = "in_words"
    joiners: str = APOSTROPHES + HYPHEN
    acronyms: bool = False

    def split(self, text: str) -> list[str]:
        """The words of ``text``, in order, with repeats."""
        if self.acronyms:
            text = _ACRONYM.sub(lambda m: m.group(0).replace(".", ""), text)
        if self.fold_case:
            text = text.casefold()
        return _pattern(self.digits, self.joiners).findall(text)

    def spans(self, text: str) -> Iterator[re.Match[str]]:
        """The words as matches in ``text`` as written, for callers that slice or rewrite it around them."""
        self._require_text_as_written()
        return _pattern(self.digits, self.joiners).finditer(text)

    def replace(self, text: str, new_word: Callable[[str], str]) -> str:
        """``text`` with each word replaced by ``new_word(word)``, everything between words kept."""
        self._require_text_as_written()
        return _pattern(self.digits, self.joiners).sub(lambda m: new_word(m.group(0)), text)

    def _require_text_as_written(self) -> None:
        # Folding ("ß" -> "ss") and acronyms ("U.S." -> "US") change lengths: positions would not fit the text.
        if self.fold_case or self.acronyms:
            raise ValueError("spans and replace read the text as written: fold_case and acronyms must be off")


def without_possessive(word: str) -> str:
    """The word without a final "'s" ("Lindqvist's" -> "Lindqvist", "Ingrid’s" -> "Ingrid")."""
    for suffix in ("'s", "’s"):
        if word.endswith(suffix):
            return word[: -len(suffix)]
    return word
