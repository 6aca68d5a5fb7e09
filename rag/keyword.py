"""BM25 keyword search over the passages, built once per engine."""

from __future__ import annotations

import bm25s
import numpy as np

from .models import Passage
from .text import terms


class KeywordIndex:
    """BM25 over stemmed content terms; rebuilt only when the passages change."""

    def __init__(self, passages: list[Passage]) -> None:
        self._ids = [p.passage_id for p in passages]
        # Our terms, not bm25s' own tokenizer: its r"\b\w\w+\b" drops the "5" of "5 ships", the "t" of
        # "didn't" and all of "U.S."; BM25 must read the words the spelling corrector and the citation check read.
        corpus_terms = [terms(p.text) or ["\u2205"] for p in passages]  # bm25s needs one token per doc
        self._bm25 = bm25s.BM25()
        self._bm25.index(corpus_terms, show_progress=False)
        self._vocabulary = {t for doc in corpus_terms for t in doc}

    def scores(self, question: str) -> np.ndarray:
        """BM25 score of every passage, in passage order; zeros when no term is known."""
        query = [t for t in terms(question) if t in self._vocabulary]
        if not query:
            return np.zeros(len(self._ids), dtype=np.float32)
        return np.asarray(self._bm25.get_scores(query), dtype=np.float32)

    def search(self, question: str, k: int) -> list[tuple[str, float]]:
        """Top ``k`` ``(passage_id, score)`` with a positive score, best first."""
        scores = self.scores(question)
        if not scores.any():
            return []
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        ranked = sorted(top, key=lambda i: -scores[i])
        return [(self._ids[i], float(scores[i])) for i in ranked if scores[i] > 0]
