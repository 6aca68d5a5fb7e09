"""Engine answers off the event loop, in a bounded pool of their own, each with a time budget.

``Engine.answer`` is blocking work (embedding, Chroma, maybe an LLM).  It runs in a pool of
TELEGRAM_ANSWER_WORKERS threads that nothing else uses, so answers stuck on a frozen index
server or a hanging model can occupy at most that pool: commands, source lookups and the
event loop stay free.  The bot waits at most TELEGRAM_ANSWER_TIMEOUT seconds for an answer,
then tells the user to try again; the stuck thread finishes (or not) on its own, since a
Python thread cannot be cancelled.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

from rag import Answer, RagError
from rag.live import LiveEngine

logger = logging.getLogger("bot.engine")

Result = TypeVar("Result")


class AnswerTimeoutError(RagError):
    """The engine did not answer within the bot's time budget."""

    user_message = "The article index is taking too long to answer right now. Please try again in a minute."


@dataclass
class EngineRunner:
    """Runs ``live.answer`` (and other engine work) in a dedicated pool of ``workers`` threads, waiting at most ``budget_s``."""

    live: LiveEngine
    workers: int
    budget_s: float
    _pool: ThreadPoolExecutor = field(init=False, repr=False)
    _running: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="engine-answer")

    async def answer(self, question: str, previous: str | None = None) -> Answer:
        """The engine's answer, ``previous`` being the conversation's earlier question;
        :class:`AnswerTimeoutError` once the budget is spent."""
        # The engine current when a worker takes the question: a corpus change swaps it whole,
        # and one queued behind a busy pool must not be answered by an engine already closed.
        return await self.run(lambda live: live.answer(question, previous), "answer")

    async def run(self, call: Callable[[LiveEngine], Result], what: str) -> Result:
        """``call(live)`` in the pool (any blocking engine work: answers, /start's example check);
        :class:`AnswerTimeoutError` once the budget is spent."""
        future = asyncio.get_running_loop().run_in_executor(self._pool, self._counted, call)
        try:
            return await asyncio.wait_for(future, self.budget_s)
        except TimeoutError:
            logger.warning(
                "%s.timeout budget_s=%.0f busy_workers=%d of=%d", what, self.budget_s, self._running, self.workers
            )
            raise AnswerTimeoutError(f"no answer within {self.budget_s:.0f} s") from None

    def _counted(self, call: Callable[[LiveEngine], Result]) -> Result:
        self._running += 1  # read for the log line only: an approximate count is enough
        try:
            return call(self.live)
        finally:
            self._running -= 1

    def close(self) -> None:
        """Stop taking work; threads stuck on a dependency are not waited for."""
        self._pool.shutdown(wait=False, cancel_futures=True)
