"""The real python-telegram-bot Application, polling a loopback Bot API: the harness of the end-to-end tests.

``running_bot`` starts ``telegram_bot.transport.serve`` (``run_polling``, exactly as in production, post_init
and all) in a thread against ``FakeBotAPI``; a test feeds it updates as Telegram would and asserts on the
Bot API calls the bot made.  Waits are on conditions with time-outs, not sleeps.  Handler logic that needs no
running bot is tested in process instead (tests/telegram_inprocess.py).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import SecretStr
from telegram.ext import Application

import bot
from rag import Engine, Settings
from telegram_bot import transport
from telegram_bot.settings import TelegramSettings
from tests.telegram_fake import Call, FakeBotAPI
from tests.telegram_html import parse_telegram_html

GROUP = -1001234567890
# One the article answers: these tests are about the adapter, not the reader (tests/test_reader.py is).
QUESTION = "How many people were exchanged?"
# What its answer states: three sentences say 390, and which of them the reader quotes may differ by CPU.
QUESTION_FACT = "390"


@dataclass
class Harness:
    fake: FakeBotAPI
    application: Application

    def send(self, update: dict[str, Any]) -> dict[str, Any]:
        """Deliver an update; returns it (with its update_id)."""
        update_id = self.fake.enqueue(update)
        return {"update_id": update_id, **update}

    def replies(self, count: int = 1, **kwargs: Any) -> list[Call]:
        return self.fake.wait_for_calls("sendMessage", count, timeout=15, **kwargs)


@contextmanager
def running_bot(settings: Settings, engine: Engine, **overrides: Any) -> Iterator[Harness]:
    """The real Application, via ``telegram_bot.transport.serve``, polling a fresh fake until the block ends;
    ``overrides`` are settings of the bot's or the engine's."""
    unknown = set(overrides) - set(Settings.model_fields) - set(TelegramSettings.model_fields)
    assert not unknown, f"no such setting: {unknown}"
    with FakeBotAPI() as fake:
        telegram_values = {"telegram_bot_token": SecretStr(fake.token), "telegram_base_url": fake.base_url}
        telegram_values.update((k, v) for k, v in overrides.items() if k in TelegramSettings.model_fields)
        telegram = TelegramSettings(_env_file=None, **telegram_values)
        settings = settings.model_copy(update={k: v for k, v in overrides.items() if k in Settings.model_fields})
        application = bot.build_application(settings, telegram, engine=engine)
        loop = asyncio.new_event_loop()
        failures: list[BaseException] = []

        def serve() -> None:
            asyncio.set_event_loop(loop)
            try:
                transport.serve(application, telegram, stop_signals=None)  # signals belong to the main thread
            except BaseException as exc:  # surfaced in the test below
                failures.append(exc)

        thread = threading.Thread(target=serve, name="bot-under-test", daemon=True)
        thread.start()
        try:
            ready = {"getUpdates", "setWebhook"}  # polling started, or the webhook registered
            fake.wait_for(lambda: any(c.method in ready for c in fake.calls) or bool(failures), timeout=30)
            assert not failures, failures
            yield Harness(fake, application)
        finally:
            loop.call_soon_threadsafe(application.stop_running)
            thread.join(timeout=15)
        assert not thread.is_alive(), "the bot did not stop"
        assert not failures, failures


@pytest.fixture
def harness(settings: Settings, engine: Engine) -> Iterator[Harness]:
    with running_bot(settings, engine) as h:
        yield h


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def cited(call: Call, fact: str = QUESTION_FACT) -> bool:
    """The reply is a grounded answer that states ``fact`` (by default, QUESTION's): see ``states``."""
    return states(visible(call), fact)


def states(text: str, fact: str = QUESTION_FACT) -> bool:
    """``text``, as the reader sees it, is a grounded answer that states ``fact``: [n] markers and the fact above
    the Sources block, and that block (a sentence sharing the question's words but not its answer fails)."""
    answer, sources, _ = text.partition("\nSources — ")
    return "[1]" in answer and fact in answer and bool(sources)


def visible(call: Call) -> str:
    text = call.params["text"]
    return parse_telegram_html(text) if call.params.get("parse_mode") == "HTML" else text
