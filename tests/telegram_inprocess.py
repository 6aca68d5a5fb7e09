"""The real Application with the Bot API answered in process, python-telegram-bot's own way of testing handlers.

A :class:`RecordingRequest` (a ``telegram.request.BaseRequest``) takes the place of the HTTP connection
pools: it records each Bot API call the bot makes and answers it as Telegram would (tests/telegram_methods.py,
as strict as the loopback fake about HTML and message length).  Updates go straight to
``Application.process_update``, so a test awaits the handlers' whole work, with no polling, no sockets and no
waiting on other threads.  For what only a running bot shows (polling, the journal, the send queue, faults,
a process killed), tests use the loopback server (tests/telegram_loopback.py).
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import Application
from telegram.request import BaseRequest, RequestData

import bot
from rag import Engine, Settings
from telegram_bot.settings import TelegramSettings
from tests.telegram_fake import Call
from tests.telegram_methods import APIError, BotAPIMethods
from tests.telegram_updates import TelegramUpdates


class RecordingRequest(BaseRequest):
    """Answers every Bot API call from :class:`BotAPIMethods` and keeps it in :attr:`calls`."""

    def __init__(self, methods: BotAPIMethods) -> None:
        self.methods = methods
        self.calls: list[Call] = []

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        """Nothing to open: no connection is ever made."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, *args: Any, **kwargs: Any
    ) -> tuple[int, bytes]:
        call = Call(url.rsplit("/", 1)[-1], request_data.parameters if request_data else {}, time.perf_counter())
        try:
            call.result = self.methods.call(call.method, call.params)
            body: dict[str, Any] = {"ok": True, "result": call.result}
        except APIError as err:
            call.status, call.description = err.status, err.description
            body = {"ok": False, "error_code": err.status, "description": err.description}
        self.calls.append(call)
        return call.status, json.dumps(body).encode()


@dataclass
class InProcessBot:
    """The application under test, the updates to feed it, and the calls it made."""

    application: Application
    updates: TelegramUpdates
    request: RecordingRequest
    _update_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def process(self, update: dict[str, Any]) -> list[Call]:
        """Hand one update (built with :attr:`updates`) to the handlers; the Bot API calls they made."""
        message = update.get("message") or {}
        if "chat" in message:  # Telegram knows the chat the bot replies in
            self.request.methods.chats[message["chat"]["id"]] = message["chat"]
        before = len(self.request.calls)
        payload = {"update_id": next(self._update_ids), **update}
        await self.application.process_update(Update.de_json(payload, self.application.bot))
        return self.request.calls[before:]

    async def replies(self, update: dict[str, Any]) -> list[str]:
        """The texts of the messages the bot sent in answer to ``update``."""
        return [c.params["text"] for c in await self.process(update) if c.method == "sendMessage" and c.ok]


@asynccontextmanager
async def in_process_bot(settings: Settings, engine: Engine, **telegram: Any) -> AsyncIterator[InProcessBot]:
    """``bot.build_application`` started as ``run_polling`` starts it (initialize, then post_init), minus polling;
    ``telegram`` are settings of the bot's."""
    updates = TelegramUpdates()
    request = RecordingRequest(BotAPIMethods(updates.bot_user, updates.new_message_id))
    bot_settings = TelegramSettings(_env_file=None, telegram_bot_token=updates.token, **telegram)
    application = bot.build_application(settings, bot_settings, engine=engine, request=request)
    await application.initialize()  # getMe
    try:
        assert application.post_init is not None
        await application.post_init(application)
        yield InProcessBot(application, updates, request)
    finally:
        await application.shutdown()
        assert application.post_shutdown is not None
        await application.post_shutdown(application)
