"""Hybrid retrieval: dense (Chroma) and keyword (BM25) rankings fused by reciprocal rank."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .embeddings import SentenceEmbedder
from .index import PassageIndex
from .keyword import KeywordIndex
from .models import Evidence, Passage

RRF_K = 60  # the constant from Cormack et al.; damps the weight of the very first ranks


@dataclass(frozen=True)
class Retrieval:
    """Evidence for one question, with the question's vector for later similarity checks."""

    question_vector: np.ndarray
    evidence: list[Evidence]


class Retriever:
    """Ranks passages for a question; the one place retrieval happens."""

    def __init__(
        self, index: PassageIndex, keywords: KeywordIndex, embedder: SentenceEmbedder, passages: dict[str, Passage]
    ) -> None:
        self._index = index
        self._keywords = keywords
        self._embedder = embedder
        self._passages = passages

    def retrieve(self, question: str, k: int) -> Retrieval:
        """The ``k`` best passages, fused; each keeps its dense similarity and BM25 score."""
        vector = self._embedder.embed([question])[0]
        pool = max(3 * k, 20)
        dense = [(pid, sim) for pid, sim in self._index.query(vector, pool) if pid in self._passages]
        keyword = self._keywords.search(question, pool)
        fused: dict[str, float] = {}
        for ranking in (dense, keyword):
            for rank, (pid, _) in enumerate(ranking):
                fused[pid] = fused.get(pid, 0.0) + 1.0 / (RRF_K + rank + 1)
        similarity = dict(dense)
        missing = [pid for pid in fused if pid not in similarity]
        for pid, stored in self._index.vectors(missing).items():
            similarity[pid] = float(stored @ vector)
        bm25 = dict(keyword)
        best = sorted(fused, key=lambda pid: (-fused[pid], -similarity.get(pid, 0.0)))[:k]
        evidence = [
            Evidence(
                passage=self._passages[pid],
                score=fused[pid],
                dense_similarity=similarity.get(pid, 0.0),
                keyword_score=bm25.get(pid, 0.0),
            )
            for pid in best
        ]
        return Retrieval(question_vector=vector, evidence=evidence)
