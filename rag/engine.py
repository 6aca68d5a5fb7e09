"""The engine: corpus → passages → Chroma + BM25 → evidence → checked, cited answer.

``Engine.answer(question)`` is the one entry point the bot, the CLI, the eval
and the benchmarks share.
"""

from __future__ import annotations

import logging
import threading
import time
import unicodedata
from contextlib import ExitStack
from dataclasses import replace
from typing import TYPE_CHECKING, Literal

from .answer_types import answer_kind, offers_kind
from .answering import Answerer, EvidenceSearch, LLMAnswering, OfflineAnswering, Reading
from .breaker import CircuitBreaker
from .citations import CitationChecker
from .claims import known_names
from .corpus import ProgressCallback, SentenceSplitter, load_documents
from .embeddings import MODEL_NAME, MiniLMEmbedding, SentenceEmbedder
from .errors import EmptyQuestionError, QuestionTooLongError, RagError
from .followup import continuation_readings, read_with_context
from .index import PassageIndex, SyncReport, server_breaker
from .language import LanguageGuard, in_other_script
from .lifetime import AnswerCache, ReleaseWhenIdle
from .keyword import KeywordIndex
from .models import Answer, Document, EngineInfo, Evidence, Passage, newest
from .reader import AnswerabilityReader, ReaderAnswerer
from .retrieve import Retriever
from .settings import Settings
from .spelling import SpellingCorrector

if TYPE_CHECKING:
    from .multilingual import CrossLingualAnswerer

log = logging.getLogger(__name__)


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


def models_for(
    settings: Settings, embedder: SentenceEmbedder | None = None, reader: AnswerabilityReader | None = None
) -> tuple[SentenceEmbedder, AnswerabilityReader]:
    """The models given, or the packaged ones as the settings ask: every engine opener takes its defaults here."""
    embedder = embedder or MiniLMEmbedding(threads=settings.embedding_threads, model_dir=settings.model_dir)
    return embedder, reader or AnswerabilityReader(threads=settings.embedding_threads)


class Engine:
    """Everything needed to answer, built once by ``Engine.open`` and shared by every caller.

    The engine owns its Chroma clients (``index`` and the cross-language answerer's) and closes them with
    ``close``; the models (embedder, reader) may be shared between engines and are never closed here.
    """

    def __init__(
        self,
        settings: Settings,
        documents: list[Document],
        passages: list[Passage],
        index: PassageIndex,
        search: EvidenceSearch,
        answerer: Answerer,
        crosslingual: CrossLingualAnswerer | None = None,
        last_sync: SyncReport | None = None,
        last_multilingual_sync: SyncReport | None = None,
        breakers: tuple[CircuitBreaker, ...] = (),
    ) -> None:
        """The parts, already built (``Engine.open`` chooses them): ``search`` orders the evidence every caller
        sees; ``answerer`` drafts and checks the answer; ``index`` and ``crosslingual`` are closed with the engine;
        ``last_sync``/``last_multilingual_sync`` say what opening did to the two collections; ``breakers`` guard
        the dependencies that can hang (a Chroma server, the LLM)."""
        self.settings = settings
        self.documents = documents
        self._passages = {p.passage_id: p for p in passages}
        self._ordered = passages
        self._documents = {d.doc_id: d for d in documents}
        self._index = index
        self._search = search
        self._answerer = answerer
        self._crosslingual = crosslingual
        self.last_sync = last_sync
        self.last_multilingual_sync = last_multilingual_sync
        self.breakers = breakers
        self._cache = AnswerCache(settings.answer_cache_size)
        self._lifetime = ReleaseWhenIdle(self._release)
        self._answered_examples: tuple[str, ...] | None = None  # set once the examples are checked
        self._examples_check_lock = threading.Lock()
        self._examples_check_started = False

    @classmethod
    def open(
        cls,
        settings: Settings,
        progress: ProgressCallback | None = None,
        embedder: SentenceEmbedder | None = None,
        reader: AnswerabilityReader | None = None,
    ) -> "Engine":
        """Load the corpus, sync the index (embedding only what changed) and get ready to answer: the one place
        that chooses and builds the engine's parts.

        Pass ``embedder`` (and ``reader``) to share loaded models between engines (tests, benchmarks, eval);
        both models start loading at once, in the background, while the index is opened.
        """
        started = time.perf_counter()
        documents = load_documents(settings.corpus_dir)
        embedder, reader = models_for(settings, embedder, reader)
        # First use waits on the same locks, so loading both models now only saves time. (A process that fails
        # to open and exits waits for the loads: their threads are not daemons.)
        embedder.load_in_background()
        reader.load_in_background()
        with ExitStack() as on_failure:  # undone in reverse when opening fails; kept (pop_all) when it succeeds
            passages = SentenceSplitter().split(documents, progress)
            # Both collections live on one server: when it hangs, neither is asked until the cool-down ends.
            breaker = server_breaker(settings) if settings.chroma_host else None
            index = PassageIndex.open(settings, embedder, breaker)
            on_failure.callback(index.close)
            titles = {d.doc_id: d.title for d in documents}
            report = index.sync(passages, titles, progress)
            corpus_is_latin = is_latin_corpus(passages)
            crosslingual, multilingual_report = None, None
            if settings.multilingual_search and corpus_is_latin:
                from .multilingual import open_crosslingual  # its model loads on first use

                crosslingual, multilingual_report = open_crosslingual(settings, passages, titles, progress, breaker)
                if crosslingual is not None:
                    on_failure.callback(crosslingual.close)
            drafter = None
            if settings.llm_enabled:
                from .llm import LLMDrafter  # imported only when configured: keeps offline start-up light

                drafter = LLMDrafter(settings)
            retriever = Retriever(index, KeywordIndex(passages), embedder, {p.passage_id: p for p in passages})
            spelling = SpellingCorrector(passages, embedder.known_words())
            ranker = ReaderAnswerer(reader, settings.reader_threshold)
            # Searches are kept only where answers are: with the cache off, every question is searched afresh.
            search = EvidenceSearch(retriever, ranker, spelling, settings.top_k, min(settings.answer_cache_size, 16))
            language = LanguageGuard(spelling.known_words)
            meaning = None
            if crosslingual is not None or (drafter is not None and corpus_is_latin):
                from .multilingual import meaning_check  # a model answering in the reader's language is checked in it

                meaning = meaning_check(crosslingual)
            checker = CitationChecker(
                embedder, {d.doc_id: d for d in documents},
                lambda text: not corpus_is_latin or language.sentence_is_english(text),
                known_names([p.text for p in passages]), meaning,
            )
            offline = OfflineAnswering(
                search, checker, language, not_in_article(documents), corpus_is_latin, crosslingual, settings.top_k,
            )
            answerer: Answerer = LLMAnswering(drafter, offline) if drafter else offline
            on_failure.pop_all()
        breakers = tuple(b for b in (breaker, drafter.breaker if drafter else None) if b is not None)
        engine = cls(
            settings, documents, passages, index, search, answerer, crosslingual, report, multilingual_report, breakers
        )
        log.info(
            "engine.ready mode=%s documents=%d passages=%d index=%s seconds=%.2f",
            engine.mode, len(documents), len(passages), index.location, time.perf_counter() - started,
        )
        return engine

    @property
    def mode(self) -> Literal["offline", "llm"]:
        return self._answerer.mode

    def answer(self, question: str, context: str | None = None) -> Answer:
        """A cited answer to ``question``, or the fixed "not in the article" answer.

        ``context`` is the previous question of the conversation. It is used only when the
        message cannot stand alone ("Where did he announce it?", "and soldiers?"): a
        self-contained question is answered exactly as without it. ``EngineClosedError`` once closed.
        """
        started = time.perf_counter()
        text = clean_question(question, self.settings.max_question_chars)
        with self._lifetime.in_use():  # closing meanwhile leaves the index open until this answer is done
            previous = self._previous_question(text, context)
            cache_key = text if previous is None else f"{previous}\n{text}"
            cached = self._cache.get(cache_key)
            if cached is not None:
                latency = (time.perf_counter() - started) * 1000
                log.info(
                    "answer cached=True mode=%s grounded=%s latency_ms=%.1f", cached.mode, cached.grounded, latency
                )
                return replace(cached, question=text, latency_ms=latency)
            if previous is None:
                answer = self._answer(text, started)
            else:
                answer = self._answer_follow_up(text, previous, started)
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
        deadline = self._answerer.budget_deadline()  # rewriting shares the answer's time budget
        standalone = self._answerer.condense(previous, text, deadline)
        if standalone is None:
            readings = continuation_readings(previous, text)  # "and the visitors?": the last question, about them
            standalone = max(readings, key=self._best_relevance) if readings else together
        log.info("answer.follow_up rewritten=%s chars=%d", standalone != together, len(standalone))
        return replace(self._answer(standalone, started, deadline), question=text, read_as=standalone)

    def _answer(self, text: str, started: float, deadline: float | None = None) -> Answer:
        """The answerer's outcome as the Answer, with its latency, and one log line an operator can use."""
        outcome = self._answerer.answer(text, deadline)
        latency = (time.perf_counter() - started) * 1000
        log.info(
            "answer mode=%s grounded=%s citations=%s top_similarity=%.3f top_relevance=%.3f latency_ms=%.1f",
            outcome.mode, bool(outcome.citations), [c.passage_id for c in outcome.citations],
            max((e.dense_similarity for e in outcome.evidence), default=0.0),
            max((e.relevance for e in outcome.evidence), default=0.0), latency,
        )
        return Answer(
            question=text,
            text=outcome.text,
            citations=outcome.citations,
            grounded=bool(outcome.citations),
            mode=outcome.mode,
            latency_ms=latency,
            note=outcome.note,
            evidence=outcome.evidence,
            embedding=outcome.question_vector,
        )

    def _best_relevance(self, question: str) -> float:
        """How well the best passage answers the question, as the offline answerer judges it."""
        return max((e.relevance for e in self._evidence(question)), default=0.0)

    def _reading(self, question: str) -> Reading:
        return self._search.read(clean_question(question, self.settings.max_question_chars))

    def _evidence(self, question: str) -> list[Evidence]:
        return self._reading(question).evidence

    def retrieve(self, question: str) -> list[Evidence]:
        """The evidence ``answer`` would use, best first (for eval and benchmarks); typos are corrected first."""
        with self._lifetime.in_use():
            return self._evidence(question)

    def answers(self, question: str) -> bool:
        """Whether the offline reader quotes a sentence for ``question`` that holds the kind of answer it asks for
        (a number for "how many", a place for "where": ``rag.answer_types``), no language model asked (it is also
        the fallback when one fails): the bot suggests only example questions that this holds for. The reader
        leans on shared words, so it may quote a sentence that shares the question's words but not its answer."""
        with self._lifetime.in_use():
            quoted = [sentence.text for sentence in self._reading(question).draft]
        kind = answer_kind(question)
        return bool(quoted) and (kind is None or any(offers_kind(kind, sentence) for sentence in quoted))

    def suggested_examples(self) -> tuple[str, ...]:
        """The newest article's example questions that the engine answers (/start suggests them); all of them
        until ``start_checking_examples`` is done: this never waits. With a language model, all of them: it reads
        the evidence itself, and may answer what the reader would refuse (so they are never checked)."""
        if self._answered_examples is not None:
            return self._answered_examples
        return newest(self.documents).examples

    def start_checking_examples(self) -> None:
        """Ask the newest article's example questions in the background, once (offline only; the bot's live engine
        does this for each engine it opens): one the reader would refuse is no longer suggested, and is logged
        for the newsroom to reword in the front matter. Not waited for: a reload must not wait on the index."""
        with self._examples_check_lock:
            if self.mode != "offline" or self._examples_check_started:
                return
            self._examples_check_started = True
        threading.Thread(target=self._check_examples, name="examples-check").start()

    def _check_examples(self) -> None:
        document = newest(self.documents)
        try:
            answered = tuple(q for q in document.examples if self.answers(q))
        except RagError as exc:  # closed meanwhile, or the index failed: keep suggesting them all
            log.info("engine.examples_unchecked doc=%s reason=%s", document.doc_id, type(exc).__name__)
            return
        if len(answered) < len(document.examples):
            log.info(
                "engine.examples_not_answered doc=%s not_answered=%s",
                document.doc_id, [q for q in document.examples if q not in answered],
            )
        self._answered_examples = answered

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
            llm_model=self._answerer.model,
            embedding_model=MODEL_NAME,
            index_location=self._index.location,
            passages=len(self._passages),
            documents=list(self.documents),
            multilingual_model=self._crosslingual.model_name if self._crosslingual else None,
        )

    def close(self) -> None:
        """Close the engine's Chroma clients, now or when the answers in progress end; then ``answer`` and
        ``retrieve`` raise ``EngineClosedError``. The shared models (embedder, reader) stay loaded: other
        engines may use them. Closing twice does nothing."""
        self._lifetime.close()

    def _release(self) -> None:
        self._index.close()
        if self._crosslingual is not None:
            self._crosslingual.close()
        log.debug("engine.closed index=%s", self._index.location)
