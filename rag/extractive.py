"""The offline answerer: quotes the sentences the reader judged to answer. No LLM needed."""

from __future__ import annotations

from .citations import DraftSentence
from .models import Evidence
from .reader import Calibration


class ExtractiveAnswerer:
    """Quotes the best sentence when the reader says it answers, and a second one that scores nearly as well."""

    def __init__(self, calibration: Calibration) -> None:
        self._calibration = calibration

    def draft(self, evidence: list[Evidence]) -> list[DraftSentence]:
        """Sentences to say, each citing its passage; empty when nothing clears the reader's threshold.

        ``evidence`` is in the reader's order, with its probability as ``relevance``.
        """
        threshold = self._calibration.threshold
        if not evidence or evidence[0].relevance < threshold:
            return []
        best = evidence[0]
        chosen = [best]
        if len(evidence) > 1:
            runner_up = evidence[1]
            if runner_up.relevance >= max(threshold, self._calibration.second_share * best.relevance):
                chosen.append(runner_up)
        chosen.sort(key=lambda e: (e.passage.doc_id, e.passage.ordinal))  # reading order
        return [DraftSentence(e.passage.text, [e.passage.passage_id]) for e in chosen]
