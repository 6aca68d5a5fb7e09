"""Fault injection: every question is answered exactly once through crashes, Telegram faults and a stuck index.

Each test sends a bounded burst through the loopback Bot API (tests/telegram_fake.py), injects
one fault, and counts per asking chat: questions sent, answered (at least one reply delivered),
duplicated (replies beyond the first).  The kill test runs ``python bot.py`` as a real process
and SIGKILLs it mid-burst (every answered question is then in the question log once); the frozen-index test SIGSTOPs a real ``chroma run`` server.  No
secret may appear in any log the bot wrote.  The counts are printed (``pytest -s``) as
``fault=… sent=… answered=… duplicated=…``.
"""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from newsroom.log import question_log_path
from rag import Engine, IndexUnavailableError, Settings
from telegram_bot import handlers
from telegram_bot.engine import AnswerTimeoutError
from telegram_bot.journal import JOURNAL_FILE
from tests.conftest import CORPUS, OpenEngine, chroma_server_process, make_settings
from tests.telegram_fake import FakeBotAPI
from tests.telegram_loopback import QUESTION, cited, running_bot

REPO = Path(__file__).resolve().parents[1]
TIMED_OUT_REPLIES = {AnswerTimeoutError.user_message, IndexUnavailableError.user_message}


@dataclass(frozen=True)
class Tally:
    """What happened to one burst, counted per asking chat."""

    fault: str
    sent: int
    answered: int
    duplicated: int
    apologies: int

    def __str__(self) -> str:
        return (
            f"fault={self.fault} sent={self.sent} answered={self.answered} "
            f"duplicated={self.duplicated} apologies={self.apologies}"
        )


def tally(fault: str, fake: FakeBotAPI, chats: list[int]) -> Tally:
    """Count once the bot has gone quiet, so a late duplicate is counted too."""
    fake.quiet_for(1.0)
    delivered = [c for c in fake.calls_of("sendMessage", ok=True) if int(c.params["chat_id"]) in chats]
    per_chat = Counter(int(c.params["chat_id"]) for c in delivered)
    result = Tally(
        fault,
        sent=len(chats),
        answered=sum(1 for chat in chats if per_chat[chat]),
        duplicated=sum(count - 1 for count in per_chat.values()),
        apologies=sum(1 for c in delivered if c.params["text"] == handlers.APOLOGY),
    )
    print(result)
    return result


def ask_from_many(fake: FakeBotAPI, first_user: int, count: int, question: str = QUESTION) -> list[int]:
    """One question from each of ``count`` users (private chats); their chat ids."""
    chats = list(range(first_user, first_user + count))
    fake.enqueue_many(fake.private_message(question, user_id=chat) for chat in chats)
    return chats


def all_answered(fake: FakeBotAPI, chats: list[int], timeout: float) -> None:
    wanted = set(chats)
    fake.wait_for(
        lambda: wanted <= {int(c.params["chat_id"]) for c in fake.calls if c.method == "sendMessage" and c.ok},
        timeout=timeout,
    )


def no_secret_in(text: str) -> None:
    assert FakeBotAPI.token not in text and FakeBotAPI.token.split(":", 1)[1] not in text


# -- a killed process -------------------------------------------------------------------------


@contextmanager
def bot_process(fake: FakeBotAPI, base: Path, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``python bot.py`` against the fake, as an operator runs it, until the block ends (or it is killed)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "OPENAI_", "WEBHOOK_", "CORPUS_", "DATA_"))}
    env.update(
        TELEGRAM_BOT_TOKEN=fake.token, TELEGRAM_BASE_URL=fake.base_url, DROP_PENDING_UPDATES="false",
        CORPUS_DIR=str(CORPUS), DATA_DIR=str(base / "data"), MULTILINGUAL_SEARCH="false",
    )
    polls_before = len(fake.calls_of("getUpdates"))
    with log.open("ab") as output:
        process = subprocess.Popen([sys.executable, str(REPO / "bot.py")], cwd=base, env=env, stdout=output, stderr=output)
    try:
        fake.wait_for(lambda: len(fake.calls_of("getUpdates")) > polls_before or process.poll() is not None, timeout=150)
        assert process.poll() is None, log.read_text()
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)


def answered_in_journal(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / JOURNAL_FILE) as journal:
        return journal.execute("SELECT COUNT(answered_at) FROM updates").fetchone()[0]


@pytest.mark.timeout(400)
def test_kill_9_mid_burst_then_restart_answers_every_question_once(tmp_path: Path) -> None:
    log = tmp_path / "bot.log"
    with FakeBotAPI() as fake:
        with bot_process(fake, tmp_path, log) as process:
            fake.hold("sendMessage", after=10)  # ten answers go out, then the moment freezes
            chats = ask_from_many(fake, 7000, 30)
            fake.wait_for(lambda: fake.held >= 1 and fake.pending_updates() == 0, timeout=60)
            # Every question is confirmed to Telegram by now: only the bot's journal still has the other 20.
            fake.wait_for(lambda: answered_in_journal(tmp_path / "data") >= 10, timeout=30)
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
        fake.release()  # the replies held when the bot died were never delivered
        chats += ask_from_many(fake, 8000, 5)  # sent while the bot is down
        with bot_process(fake, tmp_path, log):
            all_answered(fake, chats, timeout=60)
            result = tally("kill -9 mid-burst", fake, chats)
    assert result == Tally("kill -9 mid-burst", sent=35, answered=35, duplicated=0, apologies=0)
    assert all(cited(c) for c in fake.calls_of("sendMessage", ok=True))
    # The 20 replies held at the kill were logged meanwhile; their replays log under the same answer ids.
    with sqlite3.connect(question_log_path(tmp_path / "data")) as question_log:
        rows = question_log.execute("SELECT outcome, COUNT(*) FROM questions GROUP BY outcome").fetchall()
    assert rows == [("answered", 35)]
    output = log.read_text()
    assert "journal.replayed updates=" in output
    no_secret_in(output)


# -- Telegram faults ----------------------------------------------------------------------------


@pytest.fixture
def quiet_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """The bot's log lines at INFO, as in production (httpx at WARNING); checked for secrets afterwards."""
    caplog.set_level(logging.INFO)
    httpx_logger = logging.getLogger("httpx")
    level = httpx_logger.level
    httpx_logger.setLevel(logging.WARNING)
    try:
        yield caplog
    finally:
        httpx_logger.setLevel(level)
    no_secret_in(caplog.text)


def test_send_message_failing_with_500_for_seconds_loses_nothing(
    settings: Settings, engine: Engine, quiet_logs: pytest.LogCaptureFixture
) -> None:
    with running_bot(settings, engine) as h:
        h.fake.outage("sendMessage", 6.0, status=500)
        chats = ask_from_many(h.fake, 7100, 20)
        all_answered(h.fake, chats, timeout=60)
        result = tally("sendMessage 500 for 6 s", h.fake, chats)
    assert result == Tally("sendMessage 500 for 6 s", sent=20, answered=20, duplicated=0, apologies=0)
    assert h.fake.calls_of("sendMessage", ok=False)  # the outage did happen
    assert all(cited(c) for c in h.fake.calls_of("sendMessage", ok=True))  # answers, not apologies or excuses
    assert "send.retry method=sendMessage" in quiet_logs.text


def test_slow_bot_api_loses_nothing_to_the_connection_pool(
    settings: Settings, engine: Engine, quiet_logs: pytest.LogCaptureFixture
) -> None:
    with running_bot(settings, engine) as h:
        for method in ("sendMessage", "sendChatAction"):
            h.fake.slow_down(method, 3.0, calls=40)
        chats = ask_from_many(h.fake, 7200, 30)
        all_answered(h.fake, chats, timeout=90)
        result = tally("Bot API 3 s a call", h.fake, chats)
    assert result == Tally("Bot API 3 s a call", sent=30, answered=30, duplicated=0, apologies=0)
    assert "Pool timeout" not in quiet_logs.text
    assert all(cited(c) for c in h.fake.calls_of("sendMessage", ok=True))


def test_send_slower_than_the_read_timeout_is_neither_repeated_nor_apologised_for(
    settings: Settings, engine: Engine, quiet_logs: pytest.LogCaptureFixture
) -> None:
    with running_bot(settings, engine) as h:
        h.fake.slow_down("sendMessage", 6.0, calls=5)  # the bot stops listening after 5 s
        chats = ask_from_many(h.fake, 7300, 5)
        all_answered(h.fake, chats, timeout=30)
        h.fake.wait_for(lambda: quiet_logs.text.count("update.reply_uncertain") >= 5, timeout=10)
        result = tally("sendMessage 6 s > read timeout", h.fake, chats)
    assert result == Tally("sendMessage 6 s > read timeout", sent=5, answered=5, duplicated=0, apologies=0)
    assert len(h.fake.calls_of("sendMessage")) == 5  # not one sent again
    assert all(cited(c) for c in h.fake.calls_of("sendMessage"))


# -- polling and abuse ----------------------------------------------------------------------------


def test_malformed_update_is_skipped_once_and_the_next_one_answered(
    settings: Settings, engine: Engine, quiet_logs: pytest.LogCaptureFixture
) -> None:
    with running_bot(settings, engine) as h:
        h.fake.enqueue({"message": {"message_id": 1, "date": 0, "chat": "poison-payload-marker"}})
        chats = ask_from_many(h.fake, 7400, 1)
        all_answered(h.fake, chats, timeout=15)
        result = tally("malformed update, then a valid one", h.fake, chats)
    assert result == Tally("malformed update, then a valid one", sent=1, answered=1, duplicated=0, apologies=0)
    assert quiet_logs.text.count("update.unparsable") == 1
    assert all(cited(c) for c in h.fake.calls_of("sendMessage", ok=True))
    assert "poison-payload-marker" not in quiet_logs.text


def test_one_user_flooding_gets_the_limit_and_one_notice(settings: Settings, engine: Engine) -> None:
    with running_bot(settings, engine, user_rate_limit=10) as h:
        h.fake.enqueue_many(h.fake.private_message(f"{QUESTION} ({i})", user_id=7500) for i in range(100))
        h.fake.wait_for_calls("sendMessage", 11, timeout=30)
        h.fake.quiet_for(1.0)
    replies = h.fake.calls_of("sendMessage", ok=True)
    texts = [c.params["text"] for c in replies]
    print(f"fault=100 messages from one user sent=100 replies={len(texts)}")
    assert len(texts) == 11 and sum(cited(c) for c in replies) == 10
    assert sum(t.startswith("You're asking quickly") for t in texts) == 1


def test_a_stranger_is_refused_once_then_ignored(settings: Settings, engine: Engine) -> None:
    with running_bot(settings, engine, allowed_user_ids=[1001]) as h:
        h.fake.enqueue_many(h.fake.private_message(QUESTION, user_id=7600) for _ in range(5))
        h.fake.wait_for_calls("sendMessage", 1, timeout=15)
        h.fake.quiet_for(1.0)
    [refusal] = h.fake.calls_of("sendMessage")
    assert "only answers the people it was set up for" in refusal.params["text"]


# -- a stuck index ---------------------------------------------------------------------------------


@pytest.mark.timeout(180)
def test_frozen_chroma_server_gets_a_polite_reply_and_commands_still_work(
    tmp_path: Path, open_engine: OpenEngine
) -> None:
    with chroma_server_process(tmp_path / "chroma") as (chroma, port):
        settings = make_settings(tmp_path, chroma_host="127.0.0.1", chroma_port=port)
        server_engine = open_engine(settings)
        try:
            with running_bot(settings, server_engine, telegram_answer_timeout=3.0) as h:
                h.fake.enqueue(h.fake.private_message(QUESTION))
                [answer] = h.fake.wait_for_calls("sendMessage", timeout=30)
                chroma.send_signal(signal.SIGSTOP)
                try:
                    # More stuck questions than answer workers (4), each one new to the answer cache.
                    chats = [7700 + i for i in range(6)]
                    h.fake.enqueue_many(
                        h.fake.private_message(f"What happened to prisoner number {i}?", user_id=chat)
                        for i, chat in enumerate(chats)
                    )
                    h.fake.enqueue_many(h.fake.private_message(text) for text in ("/source 1", "/start", "/help"))
                    all_answered(h.fake, chats, timeout=60)
                    result = tally("chroma server frozen (SIGSTOP)", h.fake, chats)
                finally:
                    chroma.send_signal(signal.SIGCONT)
        finally:
            server_engine.close()
    assert cited(answer)
    assert result == Tally("chroma server frozen (SIGSTOP)", sent=6, answered=6, duplicated=0, apologies=0)
    replies = [c.params["text"] for c in h.fake.calls_of("sendMessage", ok=True)]
    assert sum(text in TIMED_OUT_REPLIES for text in replies) == 6
    own_chat = [c for c in h.fake.calls_of("sendMessage", ok=True) if c.params["chat_id"] == 1001]
    assert len(own_chat) == 4  # the answer, then /source, /start and /help, none waiting for the index
    assert any("Source [1]" in c.params["text"] for c in own_chat)
