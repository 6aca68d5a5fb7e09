"""The offline answerer: quotes the re-ranked sentences that answer. No LLM needed."""

from __future__ import annotations

import numpy as np

from .citations import DraftSentence
from .models import Evidence
from .rerank import RankedEvidence, Ranking, Reranker

FULL_COVERAGE_MIN_SIMILARITY = 0.2  # every question word in the passage: little paraphrase left to doubt
STRONG_SIMILARITY = 0.65  # a passage this close in meaning answers even in other words
SECOND_SENTENCE_SHARE = 0.92  # a second quote must score nearly as well as the first
SCORE_MARGIN = 0.05  # above the relevance floor: what coverage or the answer type must add to dense similarity


class ExtractiveAnswerer:
    """Quotes the one or two retrieved sentences that best answer the question."""

    def __init__(self, min_relevance: float) -> None:
        self._min_score = min_relevance + SCORE_MARGIN

    def _answers(self, ranked: RankedEvidence, type_required: bool) -> bool:
        similarity = ranked.evidence.dense_similarity
        if not ranked.time_frame_matched:
            return False  # "How many are still held?" is not answered by "390 were exchanged"
        if not ranked.names_matched:
            return False  # about someone or somewhere else: "Did Putin attend?" is not answered by a sentence on Lavrov
        if type_required and not ranked.offers_type:
            return False
        if ranked.coverage >= 0.99 and similarity >= FULL_COVERAGE_MIN_SIMILARITY and any(ranked.matches):
            return True  # "What did Trump say?": every word of a short question is in the passage
        return ranked.score >= self._min_score or similarity >= STRONG_SIMILARITY

    def draft(self, ranking: Ranking) -> list[DraftSentence]:
        """Sentences to say, each citing its passage; empty when nothing answers."""
        ranked = [r for r in ranking.items if self._answers(r, ranking.type_required)]
        if not ranked:
            return []
        best = ranked[0]
        chosen = [best]
        # A second sentence earns its place only by answering a part of the question the first leaves open.
        uncovered = np.array(best.matches) < 1.0
        for other in ranked[1:3]:
            adds = uncovered & (np.array(other.matches) >= 1.0)
            if adds.any() and other.score >= SECOND_SENTENCE_SHARE * best.score:
                chosen.append(other)
                break
        chosen.sort(key=lambda r: (r.evidence.passage.doc_id, r.evidence.passage.ordinal))  # reading order
        return [DraftSentence(r.evidence.passage.text, [r.evidence.passage.passage_id]) for r in chosen]


class RuleAnswerer:
    """The hand-tuned offline answerer: the re-ranker's order, and the extractive answerer's quotes."""

    def __init__(self, reranker: Reranker, extractive: ExtractiveAnswerer) -> None:
        self._reranker = reranker
        self._extractive = extractive

    def read(self, question: str, evidence: list[Evidence]) -> tuple[list[Evidence], list[DraftSentence]]:
        """The evidence re-ranked by how well each passage answers, and the sentences to quote."""
        ranking = self._reranker.rank(question, evidence)
        return ranking.evidence, self._extractive.draft(ranking)
