"""What every handler shares, as ``context.bot_data``: PTB's ``ContextTypes(bot_data=BotState)``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from telegram.ext import CallbackContext, ContextTypes, ExtBot

from rag import Engine, Settings
from rag.live import CorpusWatcher, LiveEngine

from .conversation import ConversationMemory
from .engine import EngineRunner
from .policy import Access, OncePerWindow, SlidingWindowLimiter
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
    notices: OncePerWindow = field(default_factory=OncePerWindow)  # one "please wait" or refusal a minute
    live: LiveEngine | None = None  # opened by post_init, unless the caller shares one
    owns_engine: bool = False  # post_init opened it, so shutdown closes it
    runner: EngineRunner | None = None  # the answer pool, started by post_init
    watcher: CorpusWatcher | None = None

    def configure(self, settings: Settings, telegram: TelegramSettings, engine: Engine | LiveEngine | None) -> None:
        """Take the settings; ``engine`` (a plain one is answered from as it is) saves post_init opening one."""
        self.settings, self.telegram = settings, telegram
        self.limiter = SlidingWindowLimiter(telegram.user_rate_limit)
        self.conversation = ConversationMemory(settings.followup_window_seconds)
        self.access = Access(frozenset(telegram.allowed_user_ids), frozenset(telegram.allowed_chat_ids))
        if engine is not None:
            self.live = engine if isinstance(engine, LiveEngine) else LiveEngine(engine)

    def close(self) -> None:
        """Stop watching the corpus and the answer pool; close the engine if post_init opened it."""
        if self.watcher:
            self.watcher.stop()
        if self.runner:  # not when start-up failed before post_init
            self.runner.close()
        if self.owns_engine and self.live:
            self.live.close()

    @property
    def engine(self) -> Engine:
        """The engine as it is now: a corpus change swaps it whole, so take it once per question."""
        return self._opened().current

    @property
    def synced_at(self) -> datetime:
        """When the engine last took in the corpus."""
        return self._opened().synced_at

    def _opened(self) -> LiveEngine:
        if self.live is None:
            raise RuntimeError("the engine is opened in post_init")
        return self.live

    @property
    def answers(self) -> EngineRunner:
        """The pool that answers questions; there from post_init on."""
        if self.runner is None:
            raise RuntimeError("the answer pool is started in post_init")
        return self.runner


# The ``context`` every handler of this bot gets.
BotContext = CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotState]
CONTEXT_TYPES = ContextTypes(bot_data=BotState)
