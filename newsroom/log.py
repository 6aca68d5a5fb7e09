"""The question log: what readers asked, how the bot answered, and how they voted, for the newsroom's report.

One SQLite file under DATA_DIR (``questions.sqlite3``), written with the update journal's care and one more
step: WAL with ``synchronous=FULL``, so every ``record`` and ``vote`` is on disk when it returns (a crash, a
kill -9 or a power cut loses nothing logged). Each row is its own transaction.

What it keeps, and what it does not: the question's text, its outcome, mode, latency, the chat's *type*, the
article and version cited, the cited passage ids, and (for questions nothing was cited for) the question's vector
as float16 bytes. It keeps **no user id, name, username or chat id**. A vote is stored under a keyed hash of
(answer id, voter) whose key is a random secret in a separate file beside the database (``questions.secret``):
a reader's second vote on an answer replaces the first, yet the database alone names nobody, and one reader's
votes on two answers cannot be linked to each other.

Retention: rows older than ``retention_days`` are pruned on open and every few hundred writes. ``retention_days=0``
turns the log off: ``QuestionLog.open`` then returns a log that keeps nothing (``enabled`` is False, ``record``
does nothing, ``vote`` answers "unknown") and deletes a log kept before, with its secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from rag.models import Answer, Document

logger = logging.getLogger("newsroom.log")

LOG_FILE = "questions.sqlite3"
SECRET_FILE = "questions.secret"
DEFAULT_RETENTION_DAYS = 30
_PRUNE_EVERY = 500  # writes between two prunes
_DAY_S = 24 * 3600

Outcome = Literal["answered", "refused", "error", "fallback"]
VoteResult = Literal["recorded", "changed", "unchanged", "unknown"]

_SCHEMA = """
PRAGMA journal_mode=WAL;
-- FULL: a commit survives a power cut too, not only a killed process (one sync per question).
PRAGMA synchronous=FULL;
CREATE TABLE IF NOT EXISTS questions (
    answer_id TEXT PRIMARY KEY,     -- the caller's id of the answer message: what a vote names
    question TEXT NOT NULL,
    outcome TEXT NOT NULL,
    mode TEXT NOT NULL,
    latency_ms REAL NOT NULL,
    chat_type TEXT NOT NULL,        -- private, group, ...: never which chat
    article TEXT,
    article_version TEXT,
    passage_ids TEXT NOT NULL,      -- JSON array
    asked_at REAL NOT NULL,
    embedding BLOB                  -- float16, only for questions nothing was cited for (the report groups them)
);
CREATE INDEX IF NOT EXISTS questions_asked_at ON questions (asked_at);
CREATE TABLE IF NOT EXISTS votes (
    voter_key BLOB PRIMARY KEY,     -- HMAC(secret, answer_id, voter): dedupes votes, names nobody
    answer_id TEXT NOT NULL,
    value INTEGER NOT NULL,         -- +1 or -1
    voted_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS votes_answer ON votes (answer_id);
"""


@dataclass(frozen=True)
class LoggedQuestion:
    """One answered (or refused, or failed) question as the log keeps it."""

    answer_id: str  # opaque id chosen by the caller, unique per answered message; the vote key
    question: str
    outcome: Outcome
    mode: str  # the engine's mode: "offline", "llm", "offline-fallback"
    latency_ms: float
    chat_type: str  # "private", "group", "supergroup", "inline", "cli"
    # The document of the first cited passage; for an answer citing nothing, of the best passage retrieved (the
    # article the question was asked of); None when nothing was retrieved.
    article: str | None
    article_version: str | None  # that document's version as the engine knows it (rag.models.Document.version)
    passage_ids: tuple[str, ...]  # cited passage ids
    asked_at: float  # unix seconds
    embedding: np.ndarray | None = None  # the question's vector as the engine embedded it (for grouping)

    @classmethod
    def from_answer(
        cls, answer: Answer, *, answer_id: str, chat_type: str, documents: dict[str, Document],
        asked_at: float | None = None,
    ) -> LoggedQuestion:
        """The log entry for an ``Engine.answer`` result; ``documents`` by id (the engine's, for versions)."""
        cited = tuple(c.passage_id for c in answer.citations)
        if answer.mode == "offline-fallback":
            outcome: Outcome = "fallback"
        else:
            outcome = "answered" if answer.grounded else "refused"
        article = cited[0].rsplit(":", 1)[0] if cited else None
        if article is None and answer.evidence:
            article = answer.evidence[0].passage.doc_id
        document = documents.get(article) if article else None
        return cls(
            # A follow-up ("and soldiers?") as the engine read it: alone it means nothing in the report or an export.
            answer_id=answer_id, question=answer.read_as or answer.question, outcome=outcome, mode=answer.mode,
            latency_ms=answer.latency_ms, chat_type=chat_type, article=article,
            article_version=document.version if document else None, passage_ids=cited,
            asked_at=time.time() if asked_at is None else asked_at, embedding=answer.embedding,
        )


@dataclass(frozen=True)
class LogEntry:
    """A logged question with its votes, as the report reads it."""

    question: LoggedQuestion
    up: int  # 👍 votes
    down: int  # 👎 votes


def voter_key(secret: bytes, answer_id: str, voter: str) -> bytes:
    """The keyed hash a vote is stored under: equal for one voter's votes on one answer, unlinkable otherwise."""
    return hmac.new(secret, f"{answer_id}\x00{voter}".encode("utf-8"), hashlib.sha256).digest()


def _load_secret(path: Path) -> bytes:
    """The folder's vote secret, created on first use: owner-only, on disk before any vote is (a lost secret
    would let a reader vote twice); O_EXCL so that two processes opening the log at once share one."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        secret = path.read_bytes()
        if len(secret) < 32:
            raise ValueError(f"{path} is not a question log secret (too short); delete it to start a new one")
        return secret
    secret = secrets.token_bytes(32)
    with os.fdopen(descriptor, "wb") as file:
        file.write(secret)
        file.flush()
        os.fsync(file.fileno())
    return secret


def _row(entry: LoggedQuestion) -> tuple[object, ...]:
    """The questions table's row; the vector only where the report groups it (nothing cited, no error)."""
    embedding = None
    if entry.embedding is not None and not entry.passage_ids and entry.outcome != "error":
        embedding = np.asarray(entry.embedding, dtype=np.float16).tobytes()
    return (
        entry.answer_id, entry.question, entry.outcome, entry.mode, float(entry.latency_ms), entry.chat_type,
        entry.article, entry.article_version, json.dumps(list(entry.passage_ids)), float(entry.asked_at), embedding,
    )


def question_log_path(data_dir: Path) -> Path:
    """Where the bot writes the log and the report reads it: ``DATA_DIR/questions.sqlite3``."""
    return data_dir / LOG_FILE


class QuestionLog:
    """The log; open it with ``QuestionLog.open``. Safe to share between threads (one lock around the file)."""

    def __init__(self, connection: sqlite3.Connection | None, secret: bytes, retention_days: int) -> None:
        self._connection = connection
        self._secret = secret
        self.retention_days = retention_days
        self._lock = threading.Lock()
        self._writes_since_prune = 0

    @classmethod
    def open(cls, path: Path, *, retention_days: int = DEFAULT_RETENTION_DAYS) -> QuestionLog:
        """Open (or create) the log at ``path`` (the secret goes beside it) and prune what retention lets go.

        ``retention_days=0`` turns it off: nothing is kept, and a log kept before is deleted with its secret.
        A log that cannot be opened (DATA_DIR read-only or full, a damaged file) is off too, with one error line:
        the bot answers without it.
        """
        if retention_days < 0:
            raise ValueError("retention_days must be 0 (off) or more")
        secret_path = path.with_name(SECRET_FILE)
        if retention_days == 0:
            removed = [p for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"),
                                   secret_path) if p.exists()]
            for stale in removed:
                stale.unlink()
            logger.info("question_log.off removed_files=%d", len(removed))
            return cls(None, b"", 0)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
            try:
                connection.executescript(_SCHEMA)
                secret = _load_secret(secret_path)
            except (OSError, ValueError, sqlite3.Error):
                connection.close()
                raise
        except (OSError, ValueError, sqlite3.Error) as err:  # the bot answers on; the operator reads why
            logger.error("question_log.unavailable path=%s error=%s: questions are not logged", path, err)
            return cls(None, b"", 0)
        log = cls(connection, secret, retention_days)
        log.prune()
        return log

    @classmethod
    def open_for_reading(cls, path: Path) -> QuestionLog | None:
        """The log at ``path`` read-only (the report: it neither creates, prunes nor votes); None when absent."""
        if not path.exists():
            return None
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
        return cls(connection, b"", 0)

    @property
    def enabled(self) -> bool:
        return self._connection is not None

    def record(self, entry: LoggedQuestion) -> None:
        """Write one question, durably; a second entry with the same ``answer_id`` (a replayed update) is ignored.

        A write that fails (a full disk) is logged and dropped: the log must never stop the bot answering.
        """
        self.record_many([entry])

    def record_many(self, entries: list[LoggedQuestion]) -> None:
        """``record`` for several questions in one transaction (one sync to disk): imports, generated logs."""
        if self._connection is None or not entries:
            return
        rows = [_row(entry) for entry in entries]
        with self._lock:
            try:
                with self._transaction() as connection:
                    connection.executemany(
                        "INSERT OR IGNORE INTO questions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
                    )
            except sqlite3.Error as err:
                logger.warning("question_log.write_failed questions=%d error=%s", len(rows), err)
                return
        self._count_write()

    def vote(self, answer_id: str, voter: str, value: int) -> VoteResult:
        """A reader's 👍 (+1) or 👎 (-1) on an answer: "recorded" (first vote), "changed" (replaces the reader's
        earlier, other vote on it), "unchanged" (the same vote again) or "unknown" (no such answer in the log, or the log is off)."""
        if value not in (1, -1):
            raise ValueError("a vote is +1 or -1")
        if self._connection is None:
            return "unknown"
        key = voter_key(self._secret, answer_id, voter)
        with self._lock:
            try:
                known = self._connection.execute(
                    "SELECT 1 FROM questions WHERE answer_id = ?", (answer_id,)
                ).fetchone()
                if known is None:
                    return "unknown"
                earlier = self._connection.execute(
                    "SELECT value FROM votes WHERE voter_key = ?", (key,)
                ).fetchone()
                if earlier is not None and earlier[0] == value:
                    return "unchanged"  # nothing to write: a reader pressing again costs no synced write
                self._connection.execute(
                    "INSERT OR REPLACE INTO votes VALUES (?, ?, ?, ?)", (key, answer_id, value, time.time())
                )
            except sqlite3.Error as err:
                logger.warning("question_log.vote_failed error=%s", err)
                return "unknown"
        self._count_write()
        return "recorded" if earlier is None else "changed"

    def entries(self, since: float = 0.0) -> list[LogEntry]:
        """Every question asked at or after ``since`` (unix seconds), oldest first, with its votes."""
        if self._connection is None:
            return []
        with self._lock:
            rows = self._connection.execute(
                """SELECT q.answer_id, q.question, q.outcome, q.mode, q.latency_ms, q.chat_type, q.article,
                          q.article_version, q.passage_ids, q.asked_at, q.embedding,
                          COALESCE(v.up, 0), COALESCE(v.down, 0)
                   FROM questions q LEFT JOIN (
                       SELECT answer_id, SUM(value > 0) AS up, SUM(value < 0) AS down FROM votes GROUP BY answer_id
                   ) v ON v.answer_id = q.answer_id
                   WHERE q.asked_at >= ? ORDER BY q.asked_at""",
                (since,),
            ).fetchall()
        ids: dict[str, tuple[str, ...]] = {}  # a log repeats a few citations many times: each is parsed once
        entries = []
        for (answer_id, question, outcome, mode, latency_ms, chat_type, article, version, passage_ids, asked_at,
             embedding, up, down) in rows:
            cited = ids.get(passage_ids)
            if cited is None:
                cited = ids[passage_ids] = tuple(json.loads(passage_ids))
            vector = None if embedding is None else np.frombuffer(embedding, dtype=np.float16)
            entries.append(LogEntry(
                LoggedQuestion(answer_id, question, outcome, mode, latency_ms, chat_type, article, version, cited,
                               asked_at, vector),
                up, down,
            ))
        return entries

    def prune(self, now: float | None = None) -> int:
        """Delete questions (and their votes) older than the retention; returns how many questions went."""
        if self._connection is None:
            return 0
        cutoff = (time.time() if now is None else now) - self.retention_days * _DAY_S
        with self._lock:
            self._writes_since_prune = 0
            try:
                with self._transaction() as connection:
                    connection.execute(
                        "DELETE FROM votes WHERE answer_id IN (SELECT answer_id FROM questions WHERE asked_at < ?)",
                        (cutoff,),
                    )
                    pruned = connection.execute("DELETE FROM questions WHERE asked_at < ?", (cutoff,)).rowcount
            except sqlite3.Error as err:
                logger.warning("question_log.prune_failed error=%s", err)
                return 0
        if pruned:
            logger.info("question_log.pruned questions=%d older_than_days=%d", pruned, self.retention_days)
        return pruned

    def close(self) -> None:
        if self._connection is not None:
            with self._lock:
                self._connection.close()
                self._connection = None

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One explicit transaction (the connection autocommits each statement otherwise); call with the lock held."""
        connection = self._connection
        assert connection is not None
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def _count_write(self) -> None:
        self._writes_since_prune += 1
        if self._writes_since_prune >= _PRUNE_EVERY:
            self.prune()
