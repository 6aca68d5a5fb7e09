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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from rag import Answer, RagError
from rag.live import LiveEngine

logger = logging.getLogger("bot.engine")


class AnswerTimeoutError(RagError):
    """The engine did not answer within the bot's time budget."""

    user_message = "The article index is taking too long to answer right now. Please try again in a minute."


@dataclass
class EngineRunner:
    """Runs ``live.answer`` in a dedicated pool of ``workers`` threads, waiting at most ``budget_s``."""

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
        future = asyncio.get_running_loop().run_in_executor(self._pool, self._answer, question, previous)
        try:
            return await asyncio.wait_for(future, self.budget_s)
        except TimeoutError:
            logger.warning(
                "answer.timeout budget_s=%.0f busy_workers=%d of=%d", self.budget_s, self._running, self.workers
            )
            raise AnswerTimeoutError(f"no answer within {self.budget_s:.0f} s") from None

    def _answer(self, question: str, previous: str | None) -> Answer:
        self._running += 1  # read for the log line only: an approximate count is enough
        try:
            # The engine current when a worker takes the question: a corpus change swaps it whole,
            # and one queued behind a busy pool must not be answered by an engine already closed.
            return self.live.answer(question, previous)
        finally:
            self._running -= 1

    def close(self) -> None:
        """Stop taking work; threads stuck on a dependency are not waited for."""
        self._pool.shutdown(wait=False, cancel_futures=True)
