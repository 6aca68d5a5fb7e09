"""Who answers a question: the offline answerer, or a language model with the offline answer standing in.

``Engine.open`` chooses one ``Answerer`` once: ``OfflineAnswering`` without a language model,
``LLMAnswering`` (the model, falling back to the offline answerer) with one. Either turns a
question into an ``Outcome``: the checked answer, the evidence, which mode answered and, when the
offline answer stood in for the model, why (the note the reader sees).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np
from cachetools import LRUCache

from .citations import CheckedAnswer, DraftSentence
from .errors import LLMUnavailableError, MultilingualUnavailableError
from .language import LanguageGuard
from .models import AnswerMode, Citation, Evidence
from .retrieve import Retrieval
from .spelling import SpellingCorrector

if TYPE_CHECKING:
    from .multilingual import CrossLingualAnswerer

log = logging.getLogger(__name__)

# Offline, the embedding model reads English only: better to say so than to claim the article is silent.
ENGLISH_ONLY = (
    "Without a language model I can only search the article in English. "
    "Please ask your question in English."
)


class EvidenceRetriever(Protocol):
    """Finds the passages for a question, best first (rag.retrieve.Retriever: dense and BM25, fused)."""

    def retrieve(self, question: str, k: int) -> Retrieval: ...


class OfflineAnswerer(Protocol):
    """Orders the retrieved evidence by how well each passage answers, and drafts the offline answer from it
    (the learned reader, rag.reader.ReaderAnswerer)."""

    def read(self, question: str, evidence: list[Evidence]) -> tuple[list[Evidence], list[DraftSentence]]: ...


class AnswerChecker(Protocol):
    """Keeps only the drafted sentences the retrieved passages support (rag.citations.CitationChecker)."""

    def check(self, drafts: list[DraftSentence], evidence: list[Evidence]) -> CheckedAnswer: ...


class Drafter(Protocol):
    """A language model that drafts cited answers (rag.llm.LLMDrafter).

    Each call raises ``LLMUnavailableError`` when the model cannot answer within ``deadline``.
    """

    model: str

    def budget_deadline(self) -> float: ...

    def __call__(
        self, question: str, evidence: list[Evidence], deadline: float | None = None
    ) -> list[DraftSentence]: ...

    def translate(self, question: str, deadline: float | None = None) -> str: ...

    def condense(self, previous: str, follow_up: str, deadline: float | None = None) -> str: ...


@dataclass(frozen=True)
class Outcome:
    """An answer before it is an ``Answer``: what to say, what it cites, the evidence, who answered and why."""

    text: str
    citations: list[Citation]
    mode: AnswerMode
    evidence: list[Evidence]
    note: str | None = None  # e.g. why the offline answerer stood in for the language model
    question_vector: np.ndarray | None = None  # the English embedding retrieval searched with; None across languages


@dataclass(frozen=True)
class Reading:
    """The evidence for a question, best first, the offline answerer's draft from it, and the question's vector."""

    evidence: list[Evidence]
    draft: list[DraftSentence]
    question_vector: np.ndarray | None = None


class EvidenceSearch:
    """Fused retrieval, then ordered by how well each passage answers: the one retrieval step.

    The last ``kept`` readings are kept (0: none, as when the answer cache is off): a follow-up's readings are each
    searched to choose one, and the chosen one is then answered. An engine's corpus never changes (a reload
    builds a new engine), so a kept reading stays true.
    """

    def __init__(
        self, retriever: EvidenceRetriever, ranker: OfflineAnswerer, spelling: SpellingCorrector, top_k: int,
        kept: int = 0,
    ) -> None:
        self._retriever = retriever
        self._ranker = ranker
        self._spelling = spelling
        self._top_k = top_k
        self._recent: LRUCache[str, Reading] | None = LRUCache(maxsize=kept) if kept else None
        self._lock = threading.Lock()  # the bot searches from several threads; cachetools' caches are not thread-safe

    def read(self, question: str) -> Reading:
        """A question searched as written: the corpus vocabulary is English, so its typos are corrected first."""
        return self.read_exactly(self._spelling.correct(question))

    def read_exactly(self, text: str) -> Reading:
        """``text`` searched as given: a language model's English rendering of a question has no typos to fix."""
        if self._recent is not None:
            with self._lock:
                kept = self._recent.get(text)
            if kept is not None:
                return kept
        retrieval = self._retriever.retrieve(text, self._top_k)
        reading = Reading(*self._ranker.read(text, retrieval.evidence), retrieval.question_vector)
        if self._recent is not None:
            with self._lock:
                self._recent[text] = reading
        return reading


class Answerer(Protocol):
    """What ``Engine.open`` chose to answer with: ``OfflineAnswering``, or ``LLMAnswering`` over it."""

    mode: Literal["offline", "llm"]
    model: str | None  # the language model's name, None offline

    def budget_deadline(self) -> float | None:
        """When the model calls of an answer starting now must be over; None without a model."""

    def condense(self, previous: str, follow_up: str, deadline: float | None) -> str | None:
        """A follow-up rewritten as a standalone question, or None when it is left to the engine."""

    def answer(self, question: str, deadline: float | None = None) -> Outcome: ...


class OfflineAnswering:
    """Answers without a language model: the reader quotes the sentence that answers an English question; the
    multilingual model finds it for a question in another language (without it, the reader is asked for English)."""

    mode: Literal["offline", "llm"] = "offline"
    model: str | None = None

    def __init__(
        self,
        search: EvidenceSearch,
        checker: AnswerChecker,
        language: LanguageGuard,
        refusal: str,
        corpus_is_latin: bool,
        crosslingual: CrossLingualAnswerer | None,
        top_k: int,
    ) -> None:
        """``refusal``: the fixed answer when nothing retrieved answers. ``corpus_is_latin``: the articles are in
        English (Latin script), so questions in other languages go another way: across languages, or translated."""
        self.search = search
        self._checker = checker
        self._language = language
        self._refusal = refusal
        self._corpus_is_latin = corpus_is_latin
        self._crosslingual = crosslingual
        self._top_k = top_k

    def budget_deadline(self) -> float | None:
        """No model to wait for: no time budget."""
        return None

    def condense(self, previous: str, follow_up: str, deadline: float | None) -> str | None:
        """Offline, the engine reads a follow-up together with its context itself (rag.followup)."""
        return None

    def is_english(self, question: str) -> bool:
        """Whether ``question`` is searched as written (else across languages, or translated first)."""
        return not self._corpus_is_latin or self._language.is_english(question)

    def answer(self, question: str, deadline: float | None = None) -> Outcome:
        if not self.is_english(question):
            return self.across_languages(question)
        reading = self.search.read(question)
        return replace(self.checked(reading.draft, reading.evidence), question_vector=reading.question_vector)

    def checked(self, drafts: list[DraftSentence], evidence: list[Evidence], mode: AnswerMode = "offline") -> Outcome:
        """The drafts as the checker leaves them, or the fixed refusal when no cited sentence survives."""
        checked = self._checker.check(drafts, evidence)
        if not checked.citations:
            return Outcome(self._refusal, [], mode, evidence)
        return Outcome(checked.text, checked.citations, mode, evidence)

    def across_languages(self, question: str) -> Outcome:
        """A question in another language: quote the English sentence the multilingual model finds."""
        if self._crosslingual is None:
            return Outcome(ENGLISH_ONLY, [], "offline", [])
        from .multilingual import NOTES, REFUSAL_NOTES, reader_language

        try:
            evidence = self._crosslingual.search(question, self._top_k)
        except MultilingualUnavailableError as exc:
            log.warning("answer.multilingual_unavailable reason=%s", exc)
            return Outcome(ENGLISH_ONLY, [], "offline", [])
        outcome = self.checked(self._crosslingual.draft(question, evidence), evidence)
        language = reader_language(question)
        log.info(
            "answer.crosslingual note_language=%s top_similarity=%.3f margin=%.3f",
            language, evidence[0].dense_similarity if evidence else 0.0, self._crosslingual.margin(evidence),
        )
        return replace(outcome, note=(NOTES if outcome.citations else REFUSAL_NOTES).get(language))


def _log_fallback(stage: str, error: LLMUnavailableError) -> None:
    log.warning("answer.llm_fallback stage=%s error=%s reason=%s", stage, type(error).__name__, error)


def stood_in(stage: str, error: LLMUnavailableError, offline: Callable[[], Outcome]) -> Outcome:
    """The offline answer in place of the model's, marked "offline-fallback", its note saying why first."""
    _log_fallback(stage, error)
    outcome = offline()
    notes = (error.fallback_note, outcome.note)
    return replace(outcome, mode="offline-fallback", note=" ".join(note for note in notes if note) or None)


class LLMAnswering:
    """A language model drafts the answer from the evidence; when it cannot, the offline answer stands in."""

    mode: Literal["offline", "llm"] = "llm"

    def __init__(self, llm: Drafter, offline: OfflineAnswering) -> None:
        self._llm = llm
        self._offline = offline
        self.model: str | None = llm.model

    def budget_deadline(self) -> float | None:
        """When the model calls of an answer starting now must be over."""
        return self._llm.budget_deadline()

    def condense(self, previous: str, follow_up: str, deadline: float | None) -> str | None:
        """The follow-up rewritten as a standalone question, or None when the model cannot (the engine then
        reads it with its context offline, and the answer asks the model again)."""
        try:
            return self._llm.condense(previous, follow_up, deadline)
        except LLMUnavailableError as exc:
            _log_fallback("condense", exc)
            return None

    def answer(self, question: str, deadline: float | None = None) -> Outcome:
        if self._offline.is_english(question):
            reading = self._offline.search.read(question)
        else:
            # One time budget for all model calls of an answer, from the first: the offline reader's scoring
            # between them is not time spent waiting for the model.
            deadline = deadline or self._llm.budget_deadline()
            try:
                english = self._llm.translate(question, deadline)
            except LLMUnavailableError as exc:
                return stood_in("translate", exc, lambda: self._offline.across_languages(question))
            reading = self._offline.search.read_exactly(english)
        try:
            # The reader's own words, not the translation: the model answers in their language.
            drafts = self._llm(question, reading.evidence, deadline)
        except LLMUnavailableError as exc:
            outcome = stood_in("answer", exc, lambda: self._offline.checked(reading.draft, reading.evidence))
        else:
            outcome = self._offline.checked(drafts, reading.evidence, "llm")
        return replace(outcome, question_vector=reading.question_vector)
