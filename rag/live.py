"""A living corpus: the engine is rebuilt when an article is added, changed or removed, and swapped whole.

``LiveEngine`` holds the engine every caller answers with. A change in ``CORPUS_DIR`` (seen by
``CorpusWatcher``: OS file events, or polling for mounted volumes where events do not arrive)
builds a new ``Engine`` next to the old one — the index sync embeds only new or changed
sentences — and then swaps one reference. Until the new engine is complete the old one keeps
answering; if the build fails (a broken corpus, the index server down) the old one stays and the
next change retries. When the last article is removed there is nothing left to answer from: the
old engine is retired (a removed article is never cited again) and ``current`` raises
``EmptyCorpusError``, whose message callers show, until an article is added. Callers take ``live.current`` once per question, so one answer never mixes
two corpora, or ask through ``live.answer``: a question that took the old engine just as a reload closed it
is asked again, once, of the engine that replaced it, and the asker never notices.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import TypeVar

from watchfiles import Change, DefaultFilter, watch

from .corpus import SUFFIXES
from .embeddings import SentenceEmbedder
from .engine import Engine, models_for
from .errors import EmptyCorpusError, EngineClosedError, RagError
from .index import ProgressCallback
from .models import Answer
from .reader import AnswerabilityReader
from .settings import Settings
from .sync_lease import SyncLease

log = logging.getLogger(__name__)

# watchfiles waits this long for a burst of writes (an editor's save, a copy) to go quiet before reporting it.
QUIET_MS = 200

Result = TypeVar("Result")


def open_engine(
    settings: Settings,
    embedder: SentenceEmbedder,
    reader: AnswerabilityReader,
    progress: ProgressCallback | None = None,
) -> Engine:
    """``Engine.open``; on a Chroma server, under the sync lease, so replicas never write the index at once."""
    if not settings.chroma_host:
        return Engine.open(settings, progress, embedder=embedder, reader=reader)
    with SyncLease.for_settings(settings):
        # The replica that waited finds the collection already in step: its sync embeds and writes nothing.
        return Engine.open(settings, progress, embedder=embedder, reader=reader)


class LiveEngine:
    """The current engine, replaced atomically by ``reload``."""

    def __init__(
        self, engine: Engine, embedder: SentenceEmbedder | None = None, reader: AnswerabilityReader | None = None
    ) -> None:
        self._engine: Engine | None = engine
        self._settings = engine.settings
        engine.start_checking_examples()  # what /start suggests, ready before anyone asks
        # Every rebuild shares the loaded models: a reload loads none. Without them this holder cannot rebuild
        # (an engine handed in by a caller).
        self._embedder = embedder
        self._reader = reader
        self._reload_lock = threading.Lock()
        self.synced_at = datetime.now(timezone.utc)
        self.reloads = 0

    @classmethod
    def open(
        cls,
        settings: Settings,
        embedder: SentenceEmbedder | None = None,
        progress: ProgressCallback | None = None,
        reader: AnswerabilityReader | None = None,
    ) -> "LiveEngine":
        embedder, reader = models_for(settings, embedder, reader)
        return cls(open_engine(settings, embedder, reader, progress), embedder, reader)

    @property
    def current(self) -> Engine:
        """The engine to answer with now; take it once per question. ``EmptyCorpusError`` while no article is left."""
        if self._engine is None:
            raise EmptyCorpusError(f"every article was removed from {self._settings.corpus_dir}")
        return self._engine

    def with_current(self, call: Callable[[Engine], Result]) -> Result:
        """``call(current)``; if a reload closed that engine before ``call`` could use it, ``call`` once more with
        the engine that replaced it. ``EngineClosedError`` still when it was closed for good (``close``)."""
        engine = self.current
        try:
            return call(engine)
        except EngineClosedError:
            replacement = self.current  # EmptyCorpusError when that reload removed the last article
            if replacement is engine:
                raise
            log.info("engine.retried reason=replaced_while_asked")
            return call(replacement)

    def answer(self, question: str, context: str | None = None) -> Answer:
        """``Engine.answer`` of the current engine, asked again of its replacement if a reload closed it meanwhile."""
        return self.with_current(lambda engine: engine.answer(question, context))

    @property
    def can_reload(self) -> bool:
        return self._embedder is not None and self._reader is not None

    def reload(self) -> bool:
        """Build an engine over the corpus as it is now and swap it in; False (old engine kept) on failure."""
        if self._embedder is None or self._reader is None:
            return False
        with self._reload_lock:  # one rebuild at a time; a change during it triggers the next one
            started = time.perf_counter()
            try:
                engine: Engine | None = open_engine(self._settings, self._embedder, self._reader)
            except EmptyCorpusError:
                engine = None
            except RagError as exc:
                log.warning("corpus.reload_failed kept=previous error=%s", exc)
                return False
            if engine is not None:
                engine.start_checking_examples()
            previous, self._engine = self._engine, engine
            self.synced_at = datetime.now(timezone.utc)
            self.reloads += 1
            if previous is not None:
                previous.close()
        if engine is None:
            log.warning("corpus.emptied documents=0 answering=no")
            return True
        report = engine.last_sync
        log.info(
            "corpus.reloaded documents=%d passages=%d embedded=%d removed=%d seconds=%.2f",
            len(engine.documents), engine.info().passages, report.embedded if report else 0,
            report.removed if report else 0, time.perf_counter() - started,
        )
        return True

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()


class ArticleFilter(DefaultFilter):
    """Article files only: editors' swap and backup files and other suffixes are not changes to the corpus."""

    def __call__(self, change: Change, path: str) -> bool:
        return super().__call__(change, path) and path.lower().endswith(SUFFIXES)


class CorpusWatcher:
    """Runs ``on_change`` in a background thread whenever an article file appears, changes or goes."""

    def __init__(self, corpus_dir: Path, on_change: Callable[[], object], poll_seconds: float = 0.0) -> None:
        self._corpus_dir = corpus_dir
        self._on_change = on_change
        self._poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> "CorpusWatcher":
        self._thread = threading.Thread(target=self._run, name="corpus-watcher", daemon=True)
        self._thread.start()
        log.info(
            "corpus.watching dir=%s method=%s", self._corpus_dir,
            f"poll every {self._poll_seconds:g} s" if self._poll_seconds else "file events",
        )
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        changes_seen = watch(
            self._corpus_dir,
            watch_filter=ArticleFilter(),
            step=QUIET_MS,
            stop_event=self._stop,
            force_polling=bool(self._poll_seconds) or None,  # None: watchfiles' own choice (and its env variable)
            poll_delay_ms=int(self._poll_seconds * 1000) or 300,
            raise_interrupt=False,
        )
        for changes in changes_seen:
            log.info("corpus.changed files=%s", sorted({Path(path).name for _, path in changes}))
            try:
                self._on_change()
            except Exception:  # the watcher must outlive one failed rebuild: the next change retries
                log.exception("corpus.reload_crashed")


def watch_corpus(live: LiveEngine, settings: Settings) -> CorpusWatcher | None:
    """Start watching ``CORPUS_DIR`` for ``live`` when the settings ask for it and it can rebuild."""
    if not settings.corpus_watch or not live.can_reload:
        return None
    return CorpusWatcher(settings.corpus_dir, live.reload, settings.corpus_poll_seconds).start()
