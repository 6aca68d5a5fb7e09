"""Does a sentence shown in another language say what the English sentence it cites says?

Names, numbers and negations are compared word by word (rag.claims); what they leave out is asked of the
multilingual model the bot ships (multilingual-e5-small, rag.multilingual): the shown sentence must be as
close to a sentence it cites as faithful translations are.
"""

from __future__ import annotations

import threading
from typing import Protocol

import numpy as np
from cachetools import LRUCache


# Cosine of multilingual-e5 between a sentence in Ukrainian, Russian or Spanish and the English sentence it cites,
# chosen on tests/data/claims.jsonl (48 faithful translations or paraphrases, 48 altered claims; the sweep:
# `python -m tests.claims_calibration`). The faithful sentences score 0.813 and up; altered ones that the word
# checks let through score 0.77-0.87 (a claim with the cited sentence's words and another meaning stays close).
# Set between the least similar faithful sentence (0.813) and the closest altered one below it (just under 0.800).
CROSSLINGUAL_SUPPORT = 0.805
CACHED_PASSAGES = 256  # cited sentences come back question after question: their vectors are kept


class SentenceVectors(Protocol):
    """A model that puts sentences of any language in one space (rag.multilingual.E5Embedding)."""

    def embed(self, texts: list[str]) -> np.ndarray: ...


class MeaningCheck:
    """Compares a sentence in any language with the English sentences it cites, by their meaning."""

    def __init__(self, model: SentenceVectors, threshold: float = CROSSLINGUAL_SUPPORT) -> None:
        self._model = model
        self._threshold = threshold
        self._cited: LRUCache[str, np.ndarray] = LRUCache(maxsize=CACHED_PASSAGES)
        self._lock = threading.Lock()  # the bot checks answers from several threads; cachetools' caches are not safe

    def similarity(self, shown: str, cited: list[str]) -> float:
        """The cosine of ``shown`` and the closest of the ``cited`` sentences."""
        return float((self._cited_vectors(cited) @ self._model.embed([shown])[0]).max())

    def problem(self, shown: str, cited: list[str]) -> str | None:
        """"meaning" when ``shown`` is not close enough to any of the ``cited`` sentences, else None.
        Raises MultilingualUnavailableError when the model cannot load."""
        return None if self.similarity(shown, cited) >= self._threshold else "meaning"

    def _cited_vectors(self, cited: list[str]) -> np.ndarray:
        with self._lock:
            vectors = {text: self._cited[text] for text in cited if text in self._cited}
        missing = [text for text in dict.fromkeys(cited) if text not in vectors]
        if missing:
            fresh = dict(zip(missing, self._model.embed(missing)))
            vectors.update(fresh)
            with self._lock:
                self._cited.update(fresh)
        return np.stack([vectors[text] for text in cited])
