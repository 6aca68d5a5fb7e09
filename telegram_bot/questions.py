"""The question log as the bot writes it: answer ids a replay repeats, entries without identity, writes off the loop.

Every answer gets an id derived from the update it answers (a keyed hash of what makes the update itself:
its chat and message, or its inline query), so the journal's replay of an update after a crash derives the
same id and the log, idempotent by id, keeps one row.  The key comes from the bot token: an id cannot be
turned back into a chat id by anyone without it.  The log's writes wait for the disk (synchronous=FULL), so
they run in one thread of their own; the reply goes out meanwhile and the handler waits for the write only
after, so that an update is marked answered in the journal only once its row is durable.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from cachetools import LRUCache
from telegram import Update

from newsroom.log import LoggedQuestion, QuestionLog, VoteResult, question_log_path
from newsroom.report import render_summary, summarize
from rag import Answer
from rag.models import Document

from .journal import update_key

ANSWER_ID_BYTES = 8  # 16 hex characters: ids of two answers never meet in a log that keeps a month


def answer_id_key(token: str) -> bytes:
    """The key of answer ids, from the bot token (stable across restarts, secret like it)."""
    return hashlib.sha256(b"exchange-bot answer id\x00" + token.encode()).digest()


def answer_id(update: Update, key: bytes) -> str:
    """The id of the answer to ``update``: the same for the update replayed after a crash."""
    return hashlib.blake2b(update_key(update).encode(), key=key, digest_size=ANSWER_ID_BYTES).hexdigest()


def logged_answer(
    answer: Answer, answer_id: str, chat_type: str, documents: dict[str, Document], asked_at: float
) -> LoggedQuestion:
    """The log entry of an answer (answered, refused or an LLM fallback); ``documents`` by id, for versions."""
    return LoggedQuestion.from_answer(answer, answer_id=answer_id, chat_type=chat_type, documents=documents,
                                      asked_at=asked_at)


def logged_error(question: str, answer_id: str, chat_type: str, mode: str, latency_ms: float, asked_at: float) -> LoggedQuestion:
    """The log entry of a question the engine could not answer (index down, timeout, too long)."""
    return LoggedQuestion(
        answer_id=answer_id, question=question, outcome="error", mode=mode, latency_ms=latency_ms,
        chat_type=chat_type, article=None, article_version=None, passage_ids=(), asked_at=asked_at,
    )


HELD_INLINE = 1024  # inline answers offered and not yet sent or voted on, the most recent kept


@dataclass
class QuestionRecorder:
    """The bot's handle on the question log: every call in one thread of its own; ``enabled`` False when
    QUESTION_LOG_DAYS is 0 (then nothing is written and answers carry no vote buttons)."""

    log: QuestionLog
    key: bytes
    _thread: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=1, thread_name_prefix="question-log"), repr=False
    )
    # Inline answers are offered as the reader types ("How many", "How many peo", …): each is held here and
    # written only when the reader sends it (a chosen inline result) or votes on it, so previews never fill the log.
    _held: LRUCache[str, LoggedQuestion] = field(default_factory=lambda: LRUCache(maxsize=HELD_INLINE), repr=False)

    @classmethod
    def open(cls, data_dir: Path, retention_days: int, token: str) -> QuestionRecorder:
        """Open the log under DATA_DIR (blocking: call it off the event loop); 0 days turns it off."""
        return cls(QuestionLog.open(question_log_path(data_dir), retention_days=retention_days), answer_id_key(token))

    @property
    def enabled(self) -> bool:
        return self.log.enabled

    def answer_id(self, update: Update) -> str:
        """The id the answer to ``update`` is logged and voted under."""
        return answer_id(update, self.key)

    def votable(self, answer_id: str) -> str | None:
        """The id 👍/👎 buttons carry: ``answer_id``, or None (no vote buttons) with the log off."""
        return answer_id if self.enabled else None

    async def record(self, entry: LoggedQuestion) -> None:
        """Write ``entry``, durably, without holding the event loop."""
        if self.enabled:
            await asyncio.get_running_loop().run_in_executor(self._thread, self.log.record, entry)

    def hold(self, entry: LoggedQuestion) -> None:
        """Keep an inline answer's entry until the reader sends it or votes on it (``sent``)."""
        if self.enabled:
            self._held[entry.answer_id] = entry

    async def sent(self, answer_id: str) -> None:
        """Write a held inline answer's entry: the reader sent it into a chat (or voted on it)."""
        entry = self._held.pop(answer_id, None)
        if entry is not None:
            await self.record(entry)

    async def vote(self, answer_id: str, user_id: int, value: int) -> VoteResult:
        """A reader's vote on an answer; the log keeps a keyed hash of the two, never the user id."""
        await self.sent(answer_id)  # an inline answer voted on was sent, whether or not Telegram told the bot
        return await asyncio.get_running_loop().run_in_executor(self._thread, self.log.vote, answer_id, str(user_id), value)

    async def summary(self, days: int) -> str:
        """The newsroom report's summary of the last ``days`` days, as /stats sends it."""
        if not self.enabled:
            return "The question log is off (QUESTION_LOG_DAYS=0): there is nothing to sum up."
        since = time.time() - days * 24 * 3600
        # Not on the log's writer thread: grouping a month of questions takes seconds, and every answer's write
        # and every vote would queue behind it (the log's lock covers only the read of the rows).
        return await asyncio.to_thread(lambda: render_summary(summarize(self.log, since)))

    async def prune_daily(self) -> None:
        """Let questions older than the retention go, once a day, until cancelled."""
        while True:
            await asyncio.sleep(24 * 3600)
            await asyncio.get_running_loop().run_in_executor(self._thread, self.log.prune, time.time())

    def close(self) -> None:
        """Finish the writes queued, then close the log."""
        self._thread.shutdown(wait=True)
        self.log.close()
