"""Typos corrected against the words the engine knows, before a question is searched.

"wher did teh prisoner swop take place" → "where did the prisoner swap take place": a word that is neither
in the English tokenizer's vocabulary nor in the corpus is replaced by the closest corpus word, if close.
"""

from __future__ import annotations

import difflib
import re

from .models import Passage
from .text import STOPWORDS, stem, words

TYPO_CUTOFF = 0.75  # difflib ratio: one wrong letter in a four-letter word still matches


class SpellingCorrector:
    """Knows the English vocabulary and the corpus's own words; fixes the rest where a close word exists."""

    def __init__(self, english_words: frozenset[str], passages: list[Passage]) -> None:
        corpus_words = {w for p in passages for w in words(p.text) if len(w) > 1}
        self.known_words = english_words | corpus_words | STOPWORDS
        self._targets = frozenset(corpus_words | STOPWORDS)
        self._sorted_targets = sorted(self._targets)
        self._corpus_stems = {stem(w) for w in corpus_words}

    def correct(self, question: str) -> str:
        """The question with unknown words replaced by their closest corpus word."""

        def fix(match: re.Match[str]) -> str:
            word = match.group(0)
            lower = word.casefold()
            if len(lower) < 3 or not lower.isalpha() or lower in self.known_words or stem(lower) in self._corpus_stems:
                return word  # "mediate" is no typo of "media" when the article says "mediating"
            # Two swapped letters ("teh") are the commonest typo, and too short for a similarity cutoff.
            swapped = (lower[:i] + lower[i + 1] + lower[i] + lower[i + 2 :] for i in range(len(lower) - 1))
            fixed = next((w for w in swapped if w in self._targets), None)
            if fixed:
                return fixed
            close = difflib.get_close_matches(lower, self._sorted_targets, n=1, cutoff=TYPO_CUTOFF)
            return close[0] if close else word

        return re.sub(r"[^\W\d_]+", fix, question)
