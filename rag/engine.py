"""The engine: corpus → passages → Chroma + BM25 → evidence → checked, cited answer.

``Engine.answer(question)`` is the one entry point the bot, the CLI, the eval
and the benchmarks share.
"""

from __future__ import annotations

import logging
import threading
import time
import unicodedata
from dataclasses import replace
from typing import TYPE_CHECKING, Literal, Protocol

from cachetools import LRUCache

from .citations import CheckedAnswer, CitationChecker, DraftSentence
from .claims import known_names
from .corpus import ProgressCallback, SentenceSplitter, load_documents
from .embeddings import MODEL_NAME, MiniLMEmbedding
from .errors import EmptyQuestionError, LLMUnavailableError, MultilingualUnavailableError, QuestionTooLongError
from .followup import continuation_readings, read_with_context
from .index import PassageIndex, SyncReport, server_breaker
from .language import LanguageGuard, in_other_script
from .keyword import KeywordIndex
from .models import Answer, AnswerMode, Citation, Document, EngineInfo, Evidence, Passage
from .reader import AnswerabilityReader, ReaderAnswerer
from .retrieve import Retriever
from .settings import Settings
from .spelling import SpellingCorrector

if TYPE_CHECKING:
    from .llm import LLMDrafter
    from .multilingual import CrossLingualAnswerer

log = logging.getLogger(__name__)

# Offline, the embedding model reads English only: better to say so than to claim the article is silent.
ENGLISH_ONLY = (
    "Without a language model I can only search the article in English. "
    "Please ask your question in English."
)


def is_latin_corpus(passages: list[Passage]) -> bool:
    """An article in English (or at least in Latin script): other questions are searched across languages."""
    return not in_other_script(" ".join(p.text for p in passages[:50]))


def not_in_article(documents: list[Document]) -> str:
    """The fixed answer when nothing retrieved answers the question."""
    if len(documents) == 1:
        return f"The article does not say. I can only answer from “{documents[0].title}”."
    return "The articles I have do not say."


def clean_question(question: str, limit: int) -> str:
    """Whitespace-normalised question without control characters; raises on empty or too long."""
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in question or "")
    text = " ".join(text.split())
    if not any(ch.isalnum() for ch in text):
        raise EmptyQuestionError("question has no words")
    if len(text) > limit:
        raise QuestionTooLongError(len(text), limit)
    return text


class OfflineAnswerer(Protocol):
    """Orders the retrieved evidence by how well each passage answers, and drafts the offline answer from it
    (the learned reader, rag.reader.ReaderAnswerer)."""

    def read(self, question: str, evidence: list[Evidence]) -> tuple[list[Evidence], list[DraftSentence]]: ...


class AnswerCache:
    """A bounded LRU of answers by question: in a group, the same question comes many times."""

    def __init__(self, size: int) -> None:
        self._answers: LRUCache[str, Answer] | None = LRUCache(maxsize=size) if size else None
        self._lock = threading.Lock()  # the bot answers from several threads; cachetools' caches are not thread-safe

    @staticmethod
    def _key(question: str) -> str:
        return " ".join(question.casefold().split())

    def get(self, question: str) -> Answer | None:
        if self._answers is None:
            return None
        with self._lock:
            return self._answers.get(self._key(question))

    def put(self, question: str, answer: Answer) -> None:
        if self._answers is None:
            return
        with self._lock:
            self._answers[self._key(question)] = answer


class Engine:
    """Everything needed to answer, built once and shared by every caller."""

    def __init__(
        self,
        settings: Settings,
        embedder: MiniLMEmbedding,
        index: PassageIndex,
        documents: list[Document],
        passages: list[Passage],
        offline: OfflineAnswerer,
        llm: LLMDrafter | None = None,
        crosslingual: CrossLingualAnswerer | None = None,
    ) -> None:
        """``offline`` orders the evidence every caller sees and drafts the answer when no LLM does."""
        self.settings = settings
        self.documents = documents
        self._index = index
        self._passages = {p.passage_id: p for p in passages}
        self._ordered = passages
        self._documents = {d.doc_id: d for d in documents}
        self._retriever = Retriever(index, KeywordIndex(passages), embedder, self._passages)
        self._spelling = SpellingCorrector(passages, embedder.known_words())
        self._offline = offline
        self._checker = CitationChecker(
            embedder, self._documents, known_names([p.text for p in passages]), crosslingual.embedder if crosslingual else None
        )
        self._llm = llm
        self._crosslingual = crosslingual
        self.last_sync: SyncReport | None = None
        self.last_multilingual_sync: SyncReport | None = None
        self._cache = AnswerCache(settings.answer_cache_size)
        self._corpus_is_latin = is_latin_corpus(passages)
        self._language = LanguageGuard(self._spelling.known_words)

    @classmethod
    def open(
        cls,
        settings: Settings,
        progress: ProgressCallback | None = None,
        embedder: MiniLMEmbedding | None = None,
        reader: AnswerabilityReader | None = None,
    ) -> "Engine":
        """Load the corpus, sync the index (embedding only what changed) and get ready to answer.

        Pass ``embedder`` (and ``reader``) to share loaded models between engines (tests, benchmarks, eval);
        the reader's model loads on its first question.
        """
        started = time.perf_counter()
        documents = load_documents(settings.corpus_dir)
        embedder = embedder or MiniLMEmbedding(threads=settings.embedding_threads, model_dir=settings.model_dir)
        loading = embedder.load_in_background()  # first use waits on the same lock, so this only saves time
        try:
            passages = SentenceSplitter().split(documents, progress)
            # Both collections live on one server: when it hangs, neither is asked until the cool-down ends.
            breaker = server_breaker(settings) if settings.chroma_host else None
            index = PassageIndex.open(settings, embedder, breaker)
            titles = {d.doc_id: d.title for d in documents}
            report = index.sync(passages, titles, progress)
            crosslingual, multilingual_report = None, None
            if settings.multilingual_search and is_latin_corpus(passages):
                from .multilingual import open_crosslingual  # its model loads on first use

                crosslingual, multilingual_report = open_crosslingual(settings, passages, titles, progress, breaker)
            drafter = None
            if settings.llm_enabled:
                from .llm import LLMDrafter  # imported only when configured: keeps offline start-up light

                drafter = LLMDrafter(settings)
        except BaseException:
            loading.join()  # a process that exits while onnxruntime is mid-load aborts instead of exiting
            raise
        reader = reader or AnswerabilityReader(threads=settings.embedding_threads)
        offline = ReaderAnswerer(reader, settings.reader_threshold)
        engine = cls(settings, embedder, index, documents, passages, offline, drafter, crosslingual)
        engine.last_sync = report
        engine.last_multilingual_sync = multilingual_report
        log.info(
            "engine.ready mode=%s documents=%d passages=%d index=%s seconds=%.2f",
            engine.mode, len(documents), len(passages), index.location, time.perf_counter() - started,
        )
        return engine

    @property
    def mode(self) -> Literal["offline", "llm"]:
        return "llm" if self._llm else "offline"

    def answer(self, question: str, context: str | None = None) -> Answer:
        """A cited answer to ``question``, or the fixed "not in the article" answer.

        ``context`` is the previous question of the conversation. It is used only when the
        message cannot stand alone ("Where did he announce it?", "and soldiers?"): a
        self-contained question is answered exactly as without it.
        """
        started = time.perf_counter()
        text = clean_question(question, self.settings.max_question_chars)
        previous = self._previous_question(text, context)
        cache_key = text if previous is None else f"{previous}\n{text}"
        cached = self._cache.get(cache_key)
        if cached is not None:
            latency = (time.perf_counter() - started) * 1000
            log.info("answer cached=True mode=%s grounded=%s latency_ms=%.1f", cached.mode, cached.grounded, latency)
            return replace(cached, question=text, latency_ms=latency)
        answer = self._answer(text, started) if previous is None else self._answer_follow_up(text, previous, started)
        if answer.mode != "offline-fallback":  # a fallback is worth retrying next time
            self._cache.put(cache_key, answer)
        return answer

    def _previous_question(self, text: str, context: str | None) -> str | None:
        """The context this message is read with, or None when it stands alone (or the two are too long)."""
        if not context:
            return None
        try:
            previous = read_with_context(text, clean_question(context, self.settings.max_question_chars))
        except (EmptyQuestionError, QuestionTooLongError):
            return None
        if previous is not None and len(previous) + len(text) + 1 > self.settings.max_question_chars:
            return None
        return previous

    def _answer_follow_up(self, text: str, previous: str, started: float) -> Answer:
        """A follow-up: offline, searched and scored together with the previous question; with a
        language model, first rewritten into a standalone question (the "condense question" step)."""
        together = f"{previous} {text}"
        standalone = None
        deadline = self._llm.budget_deadline() if self._llm else 0.0  # rewriting shares the answer's time budget
        if self._llm:
            try:
                standalone = self._llm.condense(previous, text, deadline)
            except LLMUnavailableError as exc:
                log.warning("answer.llm_fallback stage=condense error=%s reason=%s", type(exc).__name__, exc)
        if standalone is None:
            readings = continuation_readings(previous, text)  # "and soldiers?": the last question, about soldiers
            standalone = max(readings, key=self._best_relevance) if readings else together
        log.info("answer.follow_up rewritten=%s chars=%d", standalone != together, len(standalone))
        return replace(self._answer(standalone, started, deadline), question=text, read_as=standalone)

    def _answer(self, text: str, started: float, deadline: float | None = None) -> Answer:
        mode: AnswerMode = self.mode
        note = None
        english = not self._corpus_is_latin or self._language.is_english(text)
        if self._llm and not english:
            # One time budget for all LLM calls of an answer, from the first: the offline reader's scoring
            # between them is not time spent waiting for the model.
            deadline = deadline or self._llm.budget_deadline()
            try:
                search_text = self._llm.translate(text, deadline)
            except LLMUnavailableError as exc:
                log.warning("answer.llm_fallback stage=translate error=%s reason=%s", type(exc).__name__, exc)
                mode, note, search_text = "offline-fallback", exc.fallback_note, text
        else:
            # The corpus vocabulary is English: spelling is corrected only for text searched as written.
            search_text = self._spelling.correct(text)
        if mode != "llm" and not english:
            return self._answer_across_languages(text, mode, started, note)
        evidence, offline_drafts = self._ranked(search_text)
        drafts: list[DraftSentence] | None = None
        if mode == "llm" and self._llm:
            try:
                drafts = self._llm(text, evidence, deadline)  # the reader's own words: it answers in their language
            except LLMUnavailableError as exc:
                log.warning("answer.llm_fallback stage=answer error=%s reason=%s", type(exc).__name__, exc)
                mode, note = "offline-fallback", exc.fallback_note
        if drafts is None:
            drafts = offline_drafts
        return self._finish_checked(text, self._checker.check(drafts, evidence), mode, started, note, evidence)

    def _answer_across_languages(self, text: str, mode: AnswerMode, started: float, note: str | None) -> Answer:
        """Offline, a question in another language: quote the English sentence the multilingual model finds."""
        if self._crosslingual is None:
            return self._finish(text, ENGLISH_ONLY, [], mode, started, note, [])
        from .multilingual import NOTES, REFUSAL_NOTES, reader_language

        try:
            evidence = self._crosslingual.search(text, self.settings.top_k)
        except MultilingualUnavailableError as exc:
            log.warning("answer.multilingual_unavailable reason=%s", exc)
            return self._finish(text, ENGLISH_ONLY, [], mode, started, note, [])
        checked = self._checker.check(self._crosslingual.draft(text, evidence), evidence)
        language = reader_language(text)
        log.info(
            "answer.crosslingual note_language=%s top_similarity=%.3f margin=%.3f",
            language, evidence[0].dense_similarity if evidence else 0.0, self._crosslingual.margin(evidence),
        )
        language_note = (NOTES if checked.citations else REFUSAL_NOTES).get(language)
        note = " ".join(n for n in (note, language_note) if n) or None
        return self._finish_checked(text, checked, mode, started, note, evidence)

    def _finish_checked(
        self,
        question: str,
        checked: CheckedAnswer,
        mode: AnswerMode,
        started: float,
        note: str | None,
        evidence: list[Evidence],
    ) -> Answer:
        """The checked answer, or the fixed "not in the article" when no cited sentence survived the check."""
        if not checked.citations:
            return self._finish(question, not_in_article(self.documents), [], mode, started, note, evidence)
        return self._finish(question, checked.text, checked.citations, mode, started, note, evidence)

    def _finish(
        self,
        question: str,
        text: str,
        citations: list[Citation],
        mode: AnswerMode,
        started: float,
        note: str | None,
        evidence: list[Evidence],
    ) -> Answer:
        """The Answer, with its latency, and one log line an operator can use."""
        latency = (time.perf_counter() - started) * 1000
        log.info(
            "answer mode=%s grounded=%s citations=%s top_similarity=%.3f top_relevance=%.3f latency_ms=%.1f",
            mode, bool(citations), [c.passage_id for c in citations],
            max((e.dense_similarity for e in evidence), default=0.0),
            max((e.relevance for e in evidence), default=0.0), latency,
        )
        return Answer(
            question=question,
            text=text,
            citations=citations,
            grounded=bool(citations),
            mode=mode,
            latency_ms=latency,
            note=note,
            evidence=evidence,
        )

    def _ranked(self, search_text: str) -> tuple[list[Evidence], list[DraftSentence]]:
        """Fused retrieval, then ordered by how well each passage answers (the one retrieval step), with the
        offline answerer's draft from that order."""
        return self._offline.read(search_text, self._retriever.retrieve(search_text, self.settings.top_k).evidence)

    def _best_relevance(self, question: str) -> float:
        """How well the best passage answers the question, as the offline answerer judges it."""
        return max((e.relevance for e in self.retrieve(question)), default=0.0)

    def retrieve(self, question: str) -> list[Evidence]:
        """The evidence ``answer`` would use, best first (for eval and benchmarks); typos are corrected first."""
        text = self._spelling.correct(clean_question(question, self.settings.max_question_chars))
        return self._ranked(text)[0]

    def passage_with_context(self, passage_id: str, window: int = 1) -> list[Passage]:
        """The passage and up to ``window`` neighbours each side from the same document, in order."""
        passage = self._passages.get(passage_id)
        if passage is None:
            return []
        lo, hi = passage.ordinal - window, passage.ordinal + window
        return [p for p in self._ordered if p.doc_id == passage.doc_id and lo <= p.ordinal <= hi]

    def passage_counts(self) -> dict[str, int]:
        """Passages of each document, by document id (for /articles)."""
        counts = dict.fromkeys(self._documents, 0)
        for passage in self._ordered:
            counts[passage.doc_id] += 1
        return counts

    def document(self, doc_id: str) -> Document | None:
        return self._documents.get(doc_id)

    def info(self) -> EngineInfo:
        return EngineInfo(
            mode=self.mode,
            llm_model=self.settings.openai_model if self._llm else None,
            embedding_model=MODEL_NAME,
            index_location=self._index.location,
            passages=len(self._passages),
            documents=list(self.documents),
            multilingual_model=self._crosslingual.model_name if self._crosslingual else None,
        )

    def close(self) -> None:
        """Release resources; the embedded Chroma client flushes on its own."""
        log.debug("engine.closed")
