"""Typos corrected against the corpus before searching: "wher did teh ferry sial" finds what "where … sail" finds.

Neither the embedding model nor BM25 reads a misspelt word as the word meant, so a word
that is neither English (the embedding model's tokenizer vocabulary) nor the article's
is replaced by the closest word of the article, if one is close.
"""

from __future__ import annotations

import difflib

from .models import Passage
from .text import STOPWORDS, stem, words
from .tokens import WordSplitter

TYPO_CUTOFF = 0.75  # difflib ratio: one wrong letter in a four-letter word still matches
# Each run of letters on its own: "sial's" and "two-hour" are checked word by word, numbers never.
_LETTERS = WordSplitter(digits="dropped", joiners="")


class SpellingCorrector:
    """Corrects a question's typos towards the corpus vocabulary; knows which words are English or the article's."""

    def __init__(self, passages: list[Passage], english_words: frozenset[str]) -> None:
        """``english_words``: lower-cased words of the English tokenizer (``MiniLMEmbedding.known_words()``)."""
        vocabulary = {w for p in passages for w in words(p.text) if w not in STOPWORDS and len(w) > 1}
        self._dictionary = frozenset(english_words | vocabulary | STOPWORDS)
        self._targets = frozenset(vocabulary | STOPWORDS)
        self._corpus_stems = {stem(w) for w in vocabulary}

    @property
    def known_words(self) -> frozenset[str]:
        """Words of the English tokenizer, the corpus and the stopword list, lower-cased."""
        return self._dictionary

    def correct(self, question: str) -> str:
        """Words that are neither English nor in the corpus replaced by the closest corpus word, if close.

        "wher did teh ferry sial from" → "where did the ferry sail from".
        """

        def fix(word: str) -> str:
            lower = word.casefold()
            if len(lower) < 3 or not lower.isalpha() or lower in self._dictionary or stem(lower) in self._corpus_stems:
                return word  # "mediate" is no typo of "media" when the article says "mediating"
            # Two swapped letters ("teh") are the commonest typo, and too short for a similarity cutoff.
            swapped = (lower[:i] + lower[i + 1] + lower[i] + lower[i + 2 :] for i in range(len(lower) - 1))
            fixed = next((w for w in swapped if w in self._targets), None)
            if fixed:
                return fixed
            close = difflib.get_close_matches(lower, self._targets, n=1, cutoff=TYPO_CUTOFF)
            return close[0] if close else word

        return _LETTERS.replace(question, fix)
