"""What the fake Bot API answers to each method, and what Telegram keeps between calls: the chats it has seen,
the messages the bot sent, its command menu.

Strict where Telegram is strict (HTML markup, 4096-character messages, empty texts), so that formatting bugs
fail in the tests instead of in production.  Used by the loopback server (tests/telegram_fake.py) and by
the in-process handler tests (tests/telegram_inprocess.py).  Standard library only.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.telegram_html import TelegramHTMLError, parse_telegram_html, utf16_len

MAX_MESSAGE_LENGTH = 4096


class APIError(Exception):
    """A refusal, as Telegram words it: ``{"ok": false, "error_code": status, "description": …}``."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


@dataclass
class BotAPIMethods:
    """Carries out Bot API methods that need no update queue; :meth:`call` returns the ``result`` or raises."""

    bot_user: dict[str, Any]
    new_message_id: Callable[[], int]
    strict_html: bool = True
    lock: threading.Lock | threading.Condition = field(default_factory=threading.Lock)
    chats: dict[int, dict[str, Any]] = field(default_factory=dict)  # chat id -> chat, from the updates delivered
    bot_messages: list[dict[str, Any]] = field(default_factory=list)
    commands: list[dict[str, Any]] = field(default_factory=list)

    def call(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return self.bot_user
        if method == "setMyCommands":
            self.commands = list(params.get("commands") or [])
            return True
        if method == "getMyCommands":
            return self.commands
        if method in {"deleteMyCommands", "close", "logOut", "setMyDescription", "setMyShortDescription"}:
            return True
        if method == "sendChatAction":
            self._require(params, "chat_id", "action")
            return True
        if method in {"answerCallbackQuery"}:
            self._require(params, "callback_query_id")
            text = params.get("text")
            if text is not None and len(text) > 200:
                raise APIError(400, "Bad Request: MESSAGE_TOO_LONG")
            return True
        if method == "answerInlineQuery":
            self._require(params, "inline_query_id", "results")
            for result in params["results"]:
                content = result.get("input_message_content") or {}
                if "message_text" in content:
                    self._visible(content["message_text"], content.get("parse_mode"))
            return True
        if method == "sendMessage":
            return self._send_message(params)
        if method == "editMessageText":
            return self._edit_message(params)
        raise APIError(404, "Not Found: method not found")

    @staticmethod
    def _require(params: dict[str, Any], *names: str) -> None:
        for name in names:
            if params.get(name) in (None, ""):
                raise APIError(400, f"Bad Request: parameter {name!r} is required")

    def _visible(self, text: str, parse_mode: str | None) -> str:
        if not text or not text.strip():
            raise APIError(400, "Bad Request: message text is empty")
        visible = text
        if parse_mode and parse_mode.upper() == "HTML" and self.strict_html:
            try:
                visible = parse_telegram_html(text)
            except TelegramHTMLError as err:
                raise APIError(400, f"Bad Request: {err}") from None
        if utf16_len(visible) > MAX_MESSAGE_LENGTH:
            raise APIError(400, "Bad Request: message is too long")
        return visible

    def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        self._require(params, "chat_id")
        visible = self._visible(str(params.get("text") or ""), params.get("parse_mode"))
        chat_id = int(params["chat_id"])
        with self.lock:
            chat = self.chats.get(chat_id, {"id": chat_id, "type": "private", "first_name": "Ann"})
        message: dict[str, Any] = {
            "message_id": self.new_message_id(),
            "date": int(time.time()),
            "chat": chat,
            "from": self.bot_user,
            "text": visible,
        }
        thread_id = params.get("message_thread_id")
        if thread_id is not None:
            message["message_thread_id"] = int(thread_id)
            if chat.get("is_forum"):
                message["is_topic_message"] = True
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        with self.lock:
            self.bot_messages.append(message)
        return message

    def _edit_message(self, params: dict[str, Any]) -> Any:
        visible = self._visible(str(params.get("text") or ""), params.get("parse_mode"))
        if params.get("inline_message_id"):
            return True
        self._require(params, "chat_id", "message_id")
        with self.lock:
            for message in self.bot_messages:
                if message["chat"]["id"] == int(params["chat_id"]) and message["message_id"] == int(params["message_id"]):
                    if message["text"] == visible:
                        raise APIError(400, "Bad Request: message is not modified")
                    message["text"] = visible
                    message["edit_date"] = int(time.time())
                    return message
        raise APIError(400, "Bad Request: message to edit not found")
