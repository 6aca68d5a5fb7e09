"""Is a question in English? The English model reads only English; other questions go another way.

With a language model they are translated for retrieval; offline the multilingual
model (rag.multilingual) searches them. Most English questions are recognised
at once by their function words ("how", "did", "the"); a question made mostly of
English or the article's own words ("Scholz demands") is English too; anything
else is asked of a language identifier (py3langid: its model ships in the package).
"""

from __future__ import annotations

import threading
from typing import Any

from .text import STOPWORDS, words

ENGLISH_FUNCTION_SHARE = 0.25  # "Qui a annoncé le retour ?" has one English-looking word in seven
# Words the English tokenizer or the article knows: "Scholz demands" is English, "Quem é Olaf Scholz?" is not.
KNOWN_WORD_SHARE = 0.75
LATIN_SHARE = 0.7


def in_other_script(text: str) -> bool:
    """True when most letters are outside the Latin script (Cyrillic, Greek, Arabic, CJK, …)."""
    letters = [ch for ch in text if ch.isalpha()]
    latin = sum(1 for ch in letters if ch.isascii() or "\u00c0" <= ch <= "\u024f")
    return bool(letters) and latin / len(letters) < LATIN_SHARE


class LanguageGuard:
    """Tells English questions from others, given the English words and the article's own."""

    def __init__(self, known_words: frozenset[str]) -> None:
        self._known_words = known_words
        self._identifier: Any = None
        self._lock = threading.Lock()

    def _identify(self, text: str) -> str:
        # Loaded on first need (about 0.8 s): most English questions never need it, and loading it at start
        # made every `exchange-bot ask` 0.6 s slower.
        if self._identifier is None:
            with self._lock:
                if self._identifier is None:
                    from py3langid.langid import MODEL_FILE, LanguageIdentifier

                    self._identifier = LanguageIdentifier.from_model_file(MODEL_FILE)
        return str(self._identifier.classify(text)[0])

    def sentence_is_english(self, sentence: str) -> bool:
        """True for a whole sentence in English, as an answer shows it. A sentence is long enough for the identifier,
        and the question shortcuts would misjudge it: "El tren no llegó a tiempo" has two English
        function words in five ("no", "a")."""
        return not in_other_script(sentence) and self._identify(sentence) == "en"

    def is_english(self, question: str) -> bool:
        """True for a question the English model can search as written."""
        if in_other_script(question):
            return False
        tokens = words(question)
        if not tokens:
            return True
        function_words = sum(t in STOPWORDS for t in tokens)
        if function_words >= 2 and function_words / len(tokens) >= ENGLISH_FUNCTION_SHARE:
            return True  # one alone proves little: "a" and "no" are Spanish and Portuguese words too
        if sum(t in self._known_words or t.isdigit() for t in tokens) / len(tokens) >= KNOWN_WORD_SHARE:
            return True  # a keyword search ("Scholz demands"): too short for the identifier to judge
        return self._identify(question) == "en"
