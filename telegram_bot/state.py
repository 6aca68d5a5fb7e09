"""What every handler shares, as ``context.bot_data``: PTB's ``ContextTypes(bot_data=BotState)``."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from telegram.ext import CallbackContext, ContextTypes, ExtBot

from rag import Engine, RagError, Settings
from rag.breaker import State
from rag.models import Document
from rag.live import CorpusWatcher, LiveEngine

from .conversation import ConversationMemory
from .engine import EngineRunner
from .metrics import BotMetrics, MetricsServer
from .policy import Access, OncePerWindow, SlidingWindowLimiter
from .questions import QuestionRecorder
from .settings import TelegramSettings


@dataclass
class BotState:
    """The settings, the engine and the per-user bookkeeping every handler reads.

    PTB makes it with no arguments while it builds the Application (``ContextTypes`` asks that of
    ``bot_data``), so what the settings decide is set by :meth:`configure`, and the engine and its
    answer pool by the application's ``post_init``.
    """

    settings: Settings = field(init=False, repr=False)
    telegram: TelegramSettings = field(init=False, repr=False)
    limiter: SlidingWindowLimiter = field(init=False, repr=False)
    conversation: ConversationMemory = field(init=False, repr=False)
    access: Access = field(init=False, repr=False)
    metrics: BotMetrics = field(init=False, repr=False)
    notices: OncePerWindow = field(default_factory=OncePerWindow)  # one "please wait" or refusal a minute
    live: LiveEngine | None = None  # opened by post_init, unless the caller shares one
    owns_engine: bool = False  # post_init opened it, so shutdown closes it
    runner: EngineRunner | None = None  # the answer pool, started by post_init
    watcher: CorpusWatcher | None = None
    recorder: QuestionRecorder | None = None  # the question log, opened by post_init
    pruning: asyncio.Task[None] | None = None  # the question log's daily prune
    metrics_server: MetricsServer | None = None  # polling mode with METRICS_PORT

    def configure(
        self, settings: Settings, telegram: TelegramSettings, engine: Engine | LiveEngine | None, metrics: BotMetrics
    ) -> None:
        """Take the settings and the application's metrics; ``engine`` (a plain one is answered from as it is)
        saves post_init opening one."""
        self.settings, self.telegram, self.metrics = settings, telegram, metrics
        self.limiter = SlidingWindowLimiter(telegram.user_rate_limit)
        self.conversation = ConversationMemory(settings.followup_window_seconds)
        self.access = Access(frozenset(telegram.allowed_user_ids), frozenset(telegram.allowed_chat_ids))
        if engine is not None:
            self.live = engine if isinstance(engine, LiveEngine) else LiveEngine(engine)

    def close(self) -> None:
        """Stop watching the corpus, the metrics server and the answer pool; close the question log, and the
        engine if post_init opened it."""
        if self.watcher:
            self.watcher.stop()
        if self.pruning:
            self.pruning.cancel()
        if self.metrics_server:
            self.metrics_server.stop()
        if self.runner:  # not when start-up failed before post_init
            self.runner.close()
        if self.recorder:
            self.recorder.close()
        if self.owns_engine and self.live:
            self.live.close()

    @property
    def engine(self) -> Engine:
        """The engine as it is now: a corpus change swaps it whole, so take it once per question."""
        return self._opened().current

    @property
    def mode(self) -> str:
        """The answering mode the settings choose (for a question the engine could not answer)."""
        return "llm" if self.settings.llm_enabled else "offline"

    def breaker_states(self) -> dict[str, State]:
        """Each guarded dependency of the current engine and its breaker's state (none while no article is left)."""
        try:
            return {breaker.name: breaker.state for breaker in self.engine.breakers}
        except RagError:
            return {}

    def documents(self) -> dict[str, Document]:
        """The current articles by id (the question log records their versions); none while no article is left:
        an answer already given is logged without a version rather than turned into an apology."""
        try:
            return {document.doc_id: document for document in self.engine.documents}
        except RagError:
            return {}

    def corpus_reloads(self) -> int:
        """Engines swapped in since start, after corpus changes."""
        return self._opened().reloads

    @property
    def synced_at(self) -> datetime:
        """When the engine last took in the corpus."""
        return self._opened().synced_at

    def _opened(self) -> LiveEngine:
        if self.live is None:
            raise RuntimeError("the engine is opened in post_init")
        return self.live

    @property
    def questions(self) -> QuestionRecorder:
        """The question log; there from post_init on."""
        if self.recorder is None:
            raise RuntimeError("the question log is opened in post_init")
        return self.recorder

    @property
    def answers(self) -> EngineRunner:
        """The pool that answers questions; there from post_init on."""
        if self.runner is None:
            raise RuntimeError("the answer pool is started in post_init")
        return self.runner


# The ``context`` every handler of this bot gets.
BotContext = CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotState]
CONTEXT_TYPES = ContextTypes(bot_data=BotState)
