"""The question log: durable, idempotent, one vote per reader per answer, no reader's identity, retention."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from newsroom.log import LOG_FILE, SECRET_FILE, LoggedQuestion, QuestionLog, question_log_path
from rag import Settings
from tests.conftest import OpenEngine

DAY = 24 * 3600.0


def entry(answer_id: str, question: str = "Who negotiated the deal?", *, outcome: str = "refused",
          asked_at: float | None = None, embedding: np.ndarray | None = None,
          passage_ids: tuple[str, ...] = ()) -> LoggedQuestion:
    return LoggedQuestion(
        answer_id=answer_id, question=question, outcome=outcome,  # type: ignore[arg-type]
        mode="offline", latency_ms=42.5,
        chat_type="group", article="an-article", article_version="v1", passage_ids=passage_ids,
        asked_at=time.time() if asked_at is None else asked_at, embedding=embedding,
    )


@pytest.fixture
def log(tmp_path: Path):
    opened = QuestionLog.open(question_log_path(tmp_path / "data"))
    yield opened
    opened.close()


def test_a_recorded_question_reads_back_once_even_when_recorded_again(log: QuestionLog) -> None:
    log.record(entry("a1", passage_ids=("an-article:3", "an-article:4"), outcome="answered"))
    log.record(entry("a1", "a replayed update, logged again"))
    entries = log.entries()
    assert len(entries) == 1
    stored = entries[0].question
    assert stored.question == "Who negotiated the deal?" and stored.outcome == "answered"
    assert stored.passage_ids == ("an-article:3", "an-article:4") and stored.chat_type == "group"
    assert (entries[0].up, entries[0].down) == (0, 0)


def test_one_vote_per_reader_per_answer_and_a_later_vote_replaces_it(log: QuestionLog) -> None:
    log.record(entry("a1"))
    assert log.vote("a1", "111", 1) == "recorded"
    assert log.vote("a1", "111", -1) == "changed"
    assert log.vote("a1", "111", -1) == "unchanged"  # pressed again: still one vote, and the reader is told so
    assert log.vote("a1", "222", -1) == "recorded"
    assert log.vote("unknown-answer", "111", 1) == "unknown"
    [voted] = log.entries()
    assert (voted.up, voted.down) == (0, 2)
    with pytest.raises(ValueError):
        log.vote("a1", "111", 0)


def test_votes_survive_a_reopen_and_still_dedupe(tmp_path: Path) -> None:
    path = question_log_path(tmp_path)
    first = QuestionLog.open(path)
    first.record(entry("a1"))
    first.vote("a1", "111", 1)
    first.close()
    again = QuestionLog.open(path)
    assert again.vote("a1", "111", 1) == "unchanged"  # the same secret: the same reader is recognised
    assert [(e.up, e.down) for e in again.entries()] == [(1, 0)]
    again.close()


def test_the_database_names_no_reader(tmp_path: Path, log: QuestionLog) -> None:
    user_id, other_id = "5550001234", "5550009876"
    log.record(entry("chat-777:msg-9"))
    log.vote("chat-777:msg-9", user_id, -1)
    log.vote("chat-777:msg-9", other_id, 1)
    log.close()  # checkpoints the WAL into the database file; the WAL is searched as well, while it exists
    files = [p for p in (tmp_path / "data").iterdir() if p.name != SECRET_FILE]
    assert files and any(p.name == LOG_FILE for p in files)
    for path in files:
        content = path.read_bytes()
        for identity in (user_id, other_id):
            assert identity.encode() not in content
            assert identity.encode("utf-16-le") not in content


def test_embeddings_are_kept_compactly_for_questions_nothing_answered(log: QuestionLog) -> None:
    vector = np.random.default_rng(0).normal(size=384).astype(np.float32)
    vector /= np.linalg.norm(vector)
    log.record(entry("refused", embedding=vector))
    log.record(entry("answered", outcome="answered", passage_ids=("an-article:1",), embedding=vector))
    by_id = {e.question.answer_id: e.question for e in log.entries()}
    assert by_id["answered"].embedding is None
    kept = by_id["refused"].embedding
    assert kept is not None and kept.dtype == np.float16 and kept.nbytes == 384 * 2
    assert float(kept.astype(np.float32) @ vector) == pytest.approx(1.0, abs=1e-3)


def test_prune_drops_questions_older_than_the_retention_with_their_votes(tmp_path: Path) -> None:
    log = QuestionLog.open(tmp_path / LOG_FILE, retention_days=7)
    now = time.time()
    log.record(entry("old", asked_at=now - 8 * DAY))
    log.record(entry("recent", asked_at=now - 6 * DAY))
    log.vote("old", "111", 1)
    assert log.prune(now) == 1
    assert [e.question.answer_id for e in log.entries()] == ["recent"]
    votes = log._connection.execute("SELECT COUNT(*) FROM votes").fetchone()[0]  # type: ignore[union-attr]
    assert votes == 0
    assert log.entries(since=now - DAY) == []
    log.close()


def test_retention_zero_keeps_nothing_and_deletes_an_earlier_log(tmp_path: Path) -> None:
    path = tmp_path / LOG_FILE
    earlier = QuestionLog.open(path)
    earlier.record(entry("a1"))
    earlier.close()
    off = QuestionLog.open(path, retention_days=0)
    assert not off.enabled
    off.record(entry("a2"))
    assert off.vote("a1", "111", 1) == "unknown"
    assert off.entries() == [] and off.prune() == 0
    off.close()
    assert list(tmp_path.iterdir()) == []


def test_a_log_that_cannot_be_opened_is_off_and_says_why(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    not_a_folder = tmp_path / "data"
    not_a_folder.write_text("a file where DATA_DIR should be", encoding="utf-8")
    log = QuestionLog.open(not_a_folder / LOG_FILE)
    assert not log.enabled and log.vote("a1", "1", 1) == "unknown"
    log.record(entry("a1"))  # nothing to write to, and no exception for the bot
    assert "question_log.unavailable" in caplog.text
    damaged = tmp_path / "damaged.sqlite3"
    damaged.write_bytes(b"this is not an SQLite database" * 100)
    assert not QuestionLog.open(damaged).enabled


_KILLED_WRITER = """
import os, signal, sys, time
from newsroom.log import LoggedQuestion, QuestionLog
log = QuestionLog.open(__import__("pathlib").Path(sys.argv[1]))
for n in range(int(sys.argv[2])):
    log.record(LoggedQuestion(f"a{n}", f"question {n}", "answered", "offline", 1.0, "private", None, None, (),
                              time.time()))
    if n % 10 == 9:
        log.vote(f"a{n}", "111", -1)
print("logged", flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # no close, no checkpoint: what kill -9 leaves
"""


def test_a_killed_process_loses_nothing_it_logged(tmp_path: Path) -> None:
    path = tmp_path / LOG_FILE
    done = subprocess.run(
        [sys.executable, "-c", _KILLED_WRITER, str(path), "50"], capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )
    assert done.returncode == -signal.SIGKILL and "logged" in done.stdout
    log = QuestionLog.open(path)
    entries = log.entries()
    assert sorted(e.question.answer_id for e in entries) == sorted(f"a{n}" for n in range(50))
    assert sum(e.down for e in entries) == 5
    log.close()


def test_the_file_is_written_with_full_sync_in_wal_mode(tmp_path: Path) -> None:
    log = QuestionLog.open(tmp_path / LOG_FILE)
    connection = log._connection
    assert connection is not None
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert connection.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    log.close()
    assert sqlite3.connect(tmp_path / LOG_FILE).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_an_engine_answer_becomes_a_log_entry_with_its_vector(settings: Settings, open_fake_engine: OpenEngine,
                                                            fake_embedder, tmp_path: Path) -> None:
    engine = open_fake_engine(settings)
    try:
        documents = {d.doc_id: d for d in engine.documents}
        refused = engine.answer("What will the weather be like in Lisbon tomorrow?")
        assert not refused.grounded and refused.embedding is not None
        direct = fake_embedder.embed([refused.question])[0]
        assert float(refused.embedding @ direct) == pytest.approx(1.0, abs=1e-5)  # embedded once, by retrieval
        logged = LoggedQuestion.from_answer(refused, answer_id="m1", chat_type="private", documents=documents)
        assert logged.outcome == "refused" and logged.passage_ids == ()
        assert logged.article in documents and logged.article_version == documents[logged.article].version
        example = engine.documents[0].examples[0]
        answer = engine.answer(example)
        if answer.grounded:  # which example the reader answers is the model's business, not this test's
            cited = LoggedQuestion.from_answer(answer, answer_id="m2", chat_type="group", documents=documents)
            assert cited.outcome == "answered" and cited.passage_ids[0] == answer.citations[0].passage_id
    finally:
        engine.close()
