"""A durable journal of received updates: a crash loses no question, a redelivery answers none twice.

Both transports hand every update to the application's update queue: long polling before its
next ``getUpdates`` confirms the batch to Telegram, the webhook before it answers 200.  The
:class:`JournaledUpdateQueue` writes each update to an SQLite file in DATA_DIR on the way in
and drops one it has seen before; :class:`JournaledUpdateProcessor` marks it answered once its
handlers have finished.  On start, whatever was received but never answered (the process was
killed mid-burst) is replayed.  Rows are pruned after a day, as Telegram forgets undelivered
updates after 24 hours.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sqlite3
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telegram import Bot, Update
from telegram.ext import BaseUpdateProcessor

logger = logging.getLogger("bot.journal")

JOURNAL_FILE = "telegram-updates.sqlite3"
KEEP_S = 24 * 3600  # Telegram keeps an unconfirmed update for 24 h; so do we
MAX_REPLAYS = 3  # an update that killed the bot three times is not tried a fourth time
_PRUNE_EVERY = 500  # answered updates between two prunes
_CORRUPT = re.compile(r"not a database|malformed")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS updates (
    key TEXT PRIMARY KEY,          -- what makes two deliveries the same question (see update_key)
    update_id INTEGER NOT NULL,
    payload TEXT NOT NULL,         -- the update as Telegram sent it, to replay
    received_at REAL NOT NULL,
    answered_at REAL,
    replays INTEGER NOT NULL DEFAULT 0
)
"""


def update_key(update: Update) -> str:
    """The identity of an update for deduplication: the message, callback or inline query it carries."""
    if update.callback_query:
        return f"callback:{update.callback_query.id}"
    if update.inline_query:
        return f"inline:{update.inline_query.id}"
    message = update.message or update.edited_message
    if message is not None:
        # An edit is a new event about the same message: it must not be taken for a redelivery.
        kind = "edit" if update.edited_message else "message"
        return f"{kind}:{message.chat_id}:{message.message_id}"
    return f"update:{update.update_id}"


@dataclass(frozen=True)
class JournalCounts:
    received: int
    answered: int


@dataclass
class UpdateJournal:
    """The SQLite journal; ``location`` is ``:memory:`` when DATA_DIR cannot hold it."""

    connection: sqlite3.Connection
    location: str
    _answered_since_prune: int = 0

    @classmethod
    def open(cls, path: Path) -> UpdateJournal:
        """Open (or create) the journal at ``path``; an unusable DATA_DIR degrades to memory, with one line."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                journal = cls(cls._connect(str(path)), str(path))
            except sqlite3.DatabaseError as err:
                if not _CORRUPT.search(str(err)):
                    raise
                # Only questions in flight are lost with it; a read-only or full disk is not this.
                logger.error("journal.corrupt path=%s error=%s: moved aside, starting a new one", path, err)
                path.replace(path.with_name(path.name + ".corrupt"))
                journal = cls(cls._connect(str(path)), str(path))
        except (OSError, sqlite3.Error) as err:
            logger.warning("journal.unavailable path=%s error=%s: a crash may lose questions in flight", path, err)
            journal = cls(cls._connect(":memory:"), ":memory:")
        journal.prune()
        return journal

    @staticmethod
    def _connect(target: str) -> sqlite3.Connection:
        connection = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            # NORMAL: a commit survives a killed process (the fault we guard against) without an fsync each.
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute(_SCHEMA)
        except sqlite3.Error:
            connection.close()
            raise
        return connection

    def record(self, update: Update) -> bool:
        """Write a newly received update; False if it was received before (Telegram delivered it again)."""
        payload = json.dumps(update.to_dict(), ensure_ascii=False)
        try:
            cursor = self.connection.execute(
                "INSERT OR IGNORE INTO updates (key, update_id, payload, received_at) VALUES (?, ?, ?, ?)",
                (update_key(update), update.update_id, payload, time.time()),
            )
        except sqlite3.Error as err:  # a full disk must not stop the bot from answering
            logger.warning("journal.write_failed update=%s error=%s", update.update_id, err)
            return True
        return cursor.rowcount == 1

    def mark_answered(self, update: Update) -> None:
        try:
            self.connection.execute(
                "UPDATE updates SET answered_at = ? WHERE key = ?", (time.time(), update_key(update))
            )
        except sqlite3.Error as err:
            logger.warning("journal.write_failed update=%s error=%s", update.update_id, err)
            return
        self._answered_since_prune += 1
        if self._answered_since_prune >= _PRUNE_EVERY:
            self.prune()

    def take_unanswered(self) -> list[dict[str, Any]]:
        """Updates received but never answered, oldest first, counting this replay; gives up on repeat offenders."""
        rows = self.connection.execute(
            "SELECT key, update_id, payload, replays FROM updates WHERE answered_at IS NULL ORDER BY update_id"
        ).fetchall()
        payloads = []
        for key, update_id, payload, replays in rows:
            if replays >= MAX_REPLAYS:
                logger.error("journal.given_up update=%s replays=%d: it failed every replay", update_id, replays)
                self.connection.execute("UPDATE updates SET answered_at = ? WHERE key = ?", (time.time(), key))
                continue
            self.connection.execute("UPDATE updates SET replays = replays + 1 WHERE key = ?", (key,))
            payloads.append(json.loads(payload))
        return payloads

    def prune(self, now: float | None = None) -> None:
        cutoff = (time.time() if now is None else now) - KEEP_S
        try:
            self.connection.execute("DELETE FROM updates WHERE received_at < ?", (cutoff,))
        except sqlite3.Error as err:
            logger.warning("journal.prune_failed error=%s", err)
        self._answered_since_prune = 0

    def counts(self) -> JournalCounts:
        received, answered = self.connection.execute(
            "SELECT COUNT(*), COUNT(answered_at) FROM updates"
        ).fetchone()
        return JournalCounts(received, answered)

    def backlog(self) -> int:
        """Updates received but not yet answered (the operator's metric)."""
        return self.connection.execute("SELECT COUNT(*) FROM updates WHERE answered_at IS NULL").fetchone()[0]

    def close(self) -> None:
        self.connection.close()


class JournaledUpdateQueue(asyncio.Queue):  # type: ignore[type-arg]
    """The application's update queue: journals each update on the way in and drops redeliveries."""

    def __init__(self, journal: UpdateJournal) -> None:
        super().__init__()
        self.journal = journal

    async def put(self, item: object) -> None:
        if isinstance(item, Update) and not self.journal.record(item):
            logger.info("update.duplicate update=%s", item.update_id)
            return
        await super().put(item)

    def replay(self, bot: Bot) -> int:
        """Queue every journaled update not yet answered (call once the bot is initialised)."""
        replayed = 0
        for payload in self.journal.take_unanswered():
            try:
                update = Update.de_json(payload, bot)
            except Exception as err:  # noqa: BLE001 - a row this PTB cannot read must not stop the start
                logger.error("journal.unreadable update=%s error=%s: skipped", payload.get("update_id"), type(err).__name__)
                continue
            if update.inline_query:  # Telegram accepts an inline answer for seconds only
                self.journal.mark_answered(update)
                continue
            self.put_nowait(update)
            replayed += 1
        if replayed:
            logger.info("journal.replayed updates=%d", replayed)
        return replayed


class JournaledUpdateProcessor(BaseUpdateProcessor):
    """Runs updates concurrently, like PTB's default, and marks each answered in the journal when done.

    A cancelled update (the bot stopping mid-answer) stays unanswered, so the next start replays it.
    """

    def __init__(self, journal: UpdateJournal, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
        self.journal = journal

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        await coroutine
        if isinstance(update, Update):
            self.journal.mark_answered(update)

    async def initialize(self) -> None:
        """Nothing to set up: the journal is opened when the application is built."""

    async def shutdown(self) -> None:
        self.journal.close()
