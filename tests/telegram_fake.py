"""A loopback HTTP server that speaks enough of the Telegram Bot API to run a real bot.

python-telegram-bot is pointed at it with ``base_url(f"{fake.base_url}")``; the server
hands out queued updates through long-polled ``getUpdates`` and records every method the
bot calls, with its decoded parameters and a timestamp.  It is deliberately strict where
Telegram is strict (HTML markup, 4096-character messages, empty texts) so that formatting
bugs fail here instead of in production, and it can be told to fail the next call of a
method (429 ``retry_after``, 400 "can't parse entities", …) to exercise the error paths.

Standard library only, so tests and the benchmark can import it by path::

    with FakeBotAPI() as fake:
        ...  # build the Application with fake.base_url / fake.base_file_url
        ids = fake.enqueue_many(fake.private_message(f"question {i}", user_id=i) for i in ...)
        fake.wait_for_calls("sendMessage", count=len(ids), timeout=30)
        latencies = fake.reply_latencies()  # seconds from enqueue to the reply, per update

No third-party Bot-API fake on PyPI targets python-telegram-bot v22 (ptbtest,
ptb-unittest and telegram-bot-unittest stop at v13-v20), hence this module.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

DEFAULT_TOKEN = "123456789:TEST-token_for-the-loopback-fake"
MAX_MESSAGE_LENGTH = 4096

# Parameters whose values PTB sends as plain strings; everything else is JSON-encoded
# (see telegram.request.RequestParameter.json_value), so it is decoded with json.loads.
_STRING_PARAMS = frozenset(
    {
        "text",
        "parse_mode",
        "action",
        "inline_query_id",
        "callback_query_id",
        "inline_message_id",
        "url",
        "secret_token",
        "next_offset",
        "language_code",
        "caption",
        "description",
        "short_description",
        "name",
        "ip_address",
        "emoji",
        "business_connection_id",
    }
)

# Telegram's HTML parse mode: https://core.telegram.org/bots/api#html-style
_ALLOWED_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "tg-emoji",
        "code",
        "pre",
        "blockquote",
    }
)
_HTML_TOKEN = re.compile(
    r"<(?P<close>/?)(?P<tag>[a-zA-Z][\w-]*)(?P<attrs>[^<>]*)>"
    r"|&(?P<entity>#[0-9]+|#x[0-9a-fA-F]+|lt|gt|amp|quot);"
    r"|(?P<bad>[<&])"
)
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_COMMAND = re.compile(r"^/[A-Za-z0-9_]+(?:@[A-Za-z0-9_]+)?")
_MENTION = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{5,32}")


class TelegramHTMLError(ValueError):
    """The text would be refused by Telegram's HTML parser (message as Telegram words it)."""


def parse_telegram_html(text: str) -> str:
    """Return the visible text of ``text`` in Telegram's HTML parse mode, or raise.

    Stricter than Telegram in one way: a bare ``&`` is refused, because a bot that escapes
    correctly never sends one.
    """
    visible: list[str] = []
    stack: list[str] = []
    pos = 0
    for match in _HTML_TOKEN.finditer(text):
        visible.append(text[pos : match.start()])
        pos = match.end()
        offset = len(text[: match.start()].encode("utf-8"))
        if match["bad"]:
            char = match["bad"]
            raise TelegramHTMLError(
                f"can't parse entities: Unexpected {'start tag' if char == '<' else 'character'} "
                f"{char!r} at byte offset {offset}"
            )
        if match["entity"]:
            entity = match["entity"]
            if entity.startswith("#x"):
                visible.append(chr(int(entity[2:], 16)))
            elif entity.startswith("#"):
                visible.append(chr(int(entity[1:])))
            else:
                visible.append(_NAMED_ENTITIES[entity])
            continue
        tag = match["tag"].lower()
        if tag not in _ALLOWED_TAGS:
            raise TelegramHTMLError(
                f'can\'t parse entities: Unsupported start tag "{tag}" at byte offset {offset}'
            )
        if match["close"]:
            if not stack or stack[-1] != tag:
                expected = f'"</{stack[-1]}>"' if stack else "no end tag"
                raise TelegramHTMLError(
                    f"can't parse entities: Unmatched end tag at byte offset {offset}, "
                    f'expected {expected}, found "</{tag}>"'
                )
            stack.pop()
        else:
            stack.append(tag)
    visible.append(text[pos:])
    if stack:
        raise TelegramHTMLError(
            f'can\'t parse entities: Can\'t find end tag corresponding to start tag "{stack[-1]}"'
        )
    return "".join(visible)


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def _entities(text: str) -> list[dict[str, Any]]:
    """bot_command and mention entities, as Telegram's clients would attach them."""
    found: list[dict[str, Any]] = []
    command = _COMMAND.match(text)
    if command:
        found.append({"type": "bot_command", "offset": 0, "length": utf16_len(command.group())})
    for match in _MENTION.finditer(text):
        if command and match.start() < command.end():
            continue
        found.append(
            {
                "type": "mention",
                "offset": utf16_len(text[: match.start()]),
                "length": utf16_len(match.group()),
            }
        )
    return found


@dataclass
class Call:
    """One Bot API request the bot made, and what the fake answered."""

    method: str
    params: dict[str, Any]
    at: float  # time.perf_counter() when the request arrived
    status: int = 200
    result: Any = None
    description: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass
class _Failure:
    status: int
    description: str
    retry_after: int | None = None


@dataclass
class _Slowdown:
    seconds: float  # each call waits this long before it is carried out
    calls: int  # for this many more calls


@dataclass
class _Outage:
    status: int
    until: float  # time.monotonic()


@dataclass
class _Queued:
    update: dict[str, Any]
    at: float


class _BotAPIServer(ThreadingHTTPServer):
    """Accepts as many connections at once as the bot's pool opens (16), as Telegram does: with the socket
    module's backlog of 5, a burst of replies on a loaded machine overflowed it, and a dropped handshake can
    surface in the bot as a reset after its request was sent, which it rightly does not repeat."""

    request_queue_size = 128
    daemon_threads = True


@dataclass
class FakeBotAPI:
    """Bot API over loopback HTTP.  Use as a context manager, or ``start()``/``stop()``."""

    token: str = DEFAULT_TOKEN
    bot_username: str = "ArticleAnswerBot"
    bot_first_name: str = "Article Answer"
    max_poll_wait: float = 0.25  # cap on getUpdates long-polling, so shutdown is quick
    strict_html: bool = True

    calls: list[Call] = field(default_factory=list, init=False)
    bot_messages: list[dict[str, Any]] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        self.bot_id = int(self.token.split(":", 1)[0])
        self._cond = threading.Condition()
        self._queue: list[_Queued] = []
        self._enqueued_at: dict[int, float] = {}  # update_id -> perf_counter
        self._updates: dict[int, dict[str, Any]] = {}  # every update ever enqueued
        self._chats: dict[int, dict[str, Any]] = {}
        self._failures: dict[str, list[_Failure]] = {}
        self._slowdowns: dict[str, _Slowdown] = {}
        self._outages: dict[str, _Outage] = {}
        self._let_through: dict[str, int] = {}  # held methods: calls still carried out before holding
        self._release = threading.Event()
        self.held = 0  # calls waiting behind a hold()
        self._commands: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        # Telegram never reuses a message id in a chat, and the bot's journal relies on it: ids go on
        # from the clock, so a new fake does not repeat an earlier one's (the bench reuses DATA_DIR).
        self._message_ids = itertools.count(int(time.time() * 1000) % 2**31)
        self._closing = False
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> FakeBotAPI:
        fake = self

        class Handler(_Handler):
            api = fake

        self._server = _BotAPIServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-bot-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self.release()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeBotAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "start() the fake first"
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        """What goes in TELEGRAM_BASE_URL (PTB appends the token)."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    @property
    def bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
        }

    # -- building updates -----------------------------------------------------------------

    @staticmethod
    def user(user_id: int = 1001, first_name: str = "Ann") -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": first_name, "username": f"user{user_id}"}

    @staticmethod
    def private_chat(user_id: int = 1001) -> dict[str, Any]:
        return {"id": user_id, "type": "private", "first_name": "Ann"}

    @staticmethod
    def group_chat(chat_id: int = -1001234567890, *, forum: bool = False) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": chat_id, "type": "supergroup", "title": "Newsroom"}
        if forum:
            chat["is_forum"] = True
        return chat

    def message(
        self,
        text: str | None,
        *,
        chat: dict[str, Any],
        user_id: int = 1001,
        reply_to: dict[str, Any] | None = None,
        thread_id: int | None = None,
        sticker: bool = False,
        photo_caption: str | None = None,
    ) -> dict[str, Any]:
        """A ``message`` update as Telegram would deliver it (entities computed)."""
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": self.user(user_id),
        }
        if text is not None:
            message["text"] = text
            entities = _entities(text)
            if entities:
                message["entities"] = entities
        if sticker:
            message["sticker"] = {
                "file_id": "CAACAgIAAxkBAAE",
                "file_unique_id": "AgADsticker",
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "emoji": "👍",
            }
        if photo_caption is not None:
            message["photo"] = [{"file_id": "AgACAgIAAxk", "file_unique_id": "AQADphoto", "width": 90, "height": 90}]
            message["caption"] = photo_caption
            entities = _entities(photo_caption)
            if entities:
                message["caption_entities"] = entities
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            if chat.get("is_forum"):
                message["is_topic_message"] = True
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        return {"message": message}

    def private_message(self, text: str | None, *, user_id: int = 1001, **kwargs: Any) -> dict[str, Any]:
        return self.message(text, chat=self.private_chat(user_id), user_id=user_id, **kwargs)

    def group_message(
        self, text: str | None, *, user_id: int = 1001, chat_id: int = -1001234567890, forum: bool = False, **kwargs: Any
    ) -> dict[str, Any]:
        return self.message(text, chat=self.group_chat(chat_id, forum=forum), user_id=user_id, **kwargs)

    def inline_query(self, query: str, *, user_id: int = 1001) -> dict[str, Any]:
        return {
            "inline_query": {
                "id": f"iq{next(self._message_ids)}",
                "from": self.user(user_id),
                "query": query,
                "offset": "",
                "chat_type": "sender",
            }
        }

    def callback_query(self, bot_message: dict[str, Any], data: str, *, user_id: int = 1001) -> dict[str, Any]:
        """A press on an inline keyboard button of ``bot_message`` (a message the bot sent)."""
        return {
            "callback_query": {
                "id": f"cb{next(self._message_ids)}",
                "from": self.user(user_id),
                "message": bot_message,
                "chat_instance": "ci-1",
                "data": data,
            }
        }

    # -- driving -----------------------------------------------------------------------

    def enqueue(self, update: dict[str, Any]) -> int:
        """Queue one update for getUpdates; returns its update_id."""
        with self._cond:
            update_id = next(self._update_ids)
            update = {"update_id": update_id, **update}
            now = time.perf_counter()
            self._queue.append(_Queued(update, now))
            self._enqueued_at[update_id] = now
            self._updates[update_id] = update
            for key in ("message", "edited_message"):
                chat = update.get(key, {}).get("chat") if isinstance(update.get(key), dict) else None
                if isinstance(chat, dict):  # a malformed update, served on purpose, has none
                    self._chats[chat["id"]] = chat
            self._cond.notify_all()
            return update_id

    def enqueue_many(self, updates: Iterable[dict[str, Any]]) -> list[int]:
        return [self.enqueue(update) for update in updates]

    def fail_next(
        self,
        method: str,
        *,
        status: int = 400,
        description: str = "Bad Request: can't parse entities: Unsupported start tag \"x\" at byte offset 0",
        retry_after: int | None = None,
    ) -> None:
        """Make the next call of ``method`` fail.  ``retry_after`` implies 429."""
        if retry_after is not None:
            status = 429
            description = f"Too Many Requests: retry after {retry_after}"
        with self._cond:
            self._failures.setdefault(method, []).append(_Failure(status, description, retry_after))

    def slow_down(self, method: str, seconds: float, *, calls: int) -> None:
        """The next ``calls`` calls of ``method`` take ``seconds`` each, then are carried out (a slow Bot API)."""
        with self._cond:
            self._slowdowns[method] = _Slowdown(seconds, calls)

    def outage(self, method: str, seconds: float, *, status: int = 500) -> None:
        """Every call of ``method`` fails with ``status`` for the next ``seconds``."""
        with self._cond:
            self._outages[method] = _Outage(status, time.monotonic() + seconds)

    def hold(self, method: str, *, after: int) -> None:
        """Carry out ``after`` more calls of ``method``, then keep the next ones waiting, undelivered,
        until :meth:`release`: a moment frozen mid-burst, to kill the bot in."""
        with self._cond:
            self._let_through[method] = after
            self._release.clear()

    def release(self) -> None:
        """End every hold: the calls kept waiting fail with 502 and were never delivered."""
        with self._cond:
            self._let_through.clear()
        self._release.set()

    # -- observing ---------------------------------------------------------------------

    def calls_of(self, method: str, *, ok: bool | None = None) -> list[Call]:
        with self._cond:
            return [c for c in self.calls if c.method == method and (ok is None or c.ok is ok)]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Block until ``predicate()`` is true (re-checked on every recorded call)."""
        with self._cond:
            if not self._cond.wait_for(predicate, timeout=timeout):
                seen = [c.method for c in self.calls]
                raise TimeoutError(f"condition not met within {timeout}s; calls so far: {seen}")

    def wait_for_calls(
        self,
        method: str,
        count: int = 1,
        *,
        timeout: float = 10.0,
        ok: bool | None = True,
        where: Callable[[Call], bool] | None = None,
    ) -> list[Call]:
        """Block until ``count`` calls of ``method`` (matching ``where``) were recorded."""

        def matching() -> list[Call]:
            return [
                c
                for c in self.calls
                if c.method == method and (ok is None or c.ok is ok) and (where is None or where(c))
            ]

        self.wait_for(lambda: len(matching()) >= count, timeout)
        with self._cond:
            return matching()

    def quiet_for(self, seconds: float) -> list[Call]:
        """Wait until no call arrived for ``seconds``; return the calls made meanwhile.

        For asserting that the bot sends *nothing*: a negative can only be checked by
        waiting, so the wait restarts on every call rather than sleeping a fixed time
        after the last one.
        """
        def activity() -> int:
            return sum(1 for c in self.calls if c.method != "getUpdates")  # polls are not activity

        start = len(self.calls)
        deadline = time.monotonic() + 10 * seconds
        with self._cond:
            seen = activity()
            while time.monotonic() < deadline:
                if not self._cond.wait_for(lambda: activity() > seen, timeout=seconds):
                    break
                seen = activity()
            return [c for c in self.calls[start:] if c.method != "getUpdates"]

    def pending_updates(self) -> int:
        with self._cond:
            return len(self._queue)

    def reply_latencies(self) -> dict[int, float]:
        """Seconds from enqueueing a message update to the first successful sendMessage
        replying to it (matched by ``reply_parameters.message_id`` or by chat when the reply
        does not quote), keyed by update_id.  For the benchmark's p50/p95."""
        with self._cond:
            by_message: dict[tuple[int, int], int] = {}
            by_chat: dict[int, list[int]] = {}
            for update in self._updates.values():
                message = update.get("message")
                if message:
                    by_message[(message["chat"]["id"], message["message_id"])] = update["update_id"]
                    by_chat.setdefault(message["chat"]["id"], []).append(update["update_id"])
            latencies: dict[int, float] = {}
            for call in self.calls:
                if call.method != "sendMessage" or not call.ok:
                    continue
                chat_id = int(call.params.get("chat_id", 0))
                reply = call.params.get("reply_parameters") or {}
                update_id = by_message.get((chat_id, reply.get("message_id", -1)))
                if update_id is None:
                    pending = [u for u in by_chat.get(chat_id, []) if u not in latencies]
                    update_id = pending[0] if pending else None
                if update_id is not None and update_id not in latencies:
                    latencies[update_id] = call.at - self._enqueued_at[update_id]
            return latencies

    # -- the Bot API ---------------------------------------------------------------------

    def _handle(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Answer one request; returns (HTTP status, JSON body).  Records the call."""
        call = Call(method, params, time.perf_counter())
        if method == "getUpdates":
            # Recorded on arrival, not after the long poll: "the bot is polling" is news.
            with self._cond:
                self.calls.append(call)
                self._cond.notify_all()
            call.result = self._get_updates(params)
            return 200, {"ok": True, "result": call.result}
        if self._held_back(method):
            return self._record(call, 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"})
        with self._cond:
            slowdown = self._slowdowns.get(method)
            if slowdown and slowdown.calls > 0:
                slowdown.calls -= 1
            else:
                slowdown = None
            outage = self._outages.get(method)
            if outage and time.monotonic() >= outage.until:
                outage = None
            failures = self._failures.get(method)
            failure = failures.pop(0) if failures else None
        if slowdown:
            time.sleep(slowdown.seconds)
        if outage is not None:
            body = {"ok": False, "error_code": outage.status, "description": "Internal Server Error"}
            return self._record(call, outage.status, body)
        if failure is not None:
            body: dict[str, Any] = {"ok": False, "error_code": failure.status, "description": failure.description}
            if failure.retry_after is not None:
                body["parameters"] = {"retry_after": failure.retry_after}
            return self._record(call, failure.status, body)
        try:
            result = self._dispatch(method, params)
        except _APIError as err:
            body = {"ok": False, "error_code": err.status, "description": err.description}
            return self._record(call, err.status, body)
        return self._record(call, 200, {"ok": True, "result": result})

    def _held_back(self, method: str) -> bool:
        """Wait out a hold on ``method``; True if this call was held (it is then not carried out)."""
        with self._cond:
            if method not in self._let_through:
                return False
            if self._let_through[method] > 0:
                self._let_through[method] -= 1
                return False
            self.held += 1
            self._cond.notify_all()
        self._release.wait()
        return True

    def _record(self, call: Call, status: int, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        call.status = status
        call.result = body.get("result")
        call.description = body.get("description")
        with self._cond:
            self.calls.append(call)
            self._cond.notify_all()
        return status, body

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = min(float(params.get("timeout") or 0), self.max_poll_wait)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                # Updates below the offset are confirmed: Telegram forgets them.
                self._queue = [q for q in self._queue if q.update["update_id"] >= offset]
                if self._queue or self._closing:
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            return [q.update for q in self._queue[:limit]]

    def _dispatch(self, method: str, params: dict[str, Any]) -> Any:
        if method in {"getMe"}:
            return self.bot_user
        if method in {"deleteWebhook", "setWebhook"}:
            if params.get("drop_pending_updates"):
                with self._cond:
                    self._queue.clear()
            return True
        if method == "getWebhookInfo":
            return {"url": "", "has_custom_certificate": False, "pending_update_count": len(self._queue)}
        if method == "setMyCommands":
            self._commands = list(params.get("commands") or [])
            return True
        if method == "getMyCommands":
            return self._commands
        if method in {"deleteMyCommands", "close", "logOut", "setMyDescription", "setMyShortDescription"}:
            return True
        if method == "sendChatAction":
            self._require(params, "chat_id", "action")
            return True
        if method in {"answerCallbackQuery"}:
            self._require(params, "callback_query_id")
            text = params.get("text")
            if text is not None and len(text) > 200:
                raise _APIError(400, "Bad Request: MESSAGE_TOO_LONG")
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
        raise _APIError(404, "Not Found: method not found")

    @staticmethod
    def _require(params: dict[str, Any], *names: str) -> None:
        for name in names:
            if params.get(name) in (None, ""):
                raise _APIError(400, f"Bad Request: parameter {name!r} is required")

    def _visible(self, text: str, parse_mode: str | None) -> str:
        if not text or not text.strip():
            raise _APIError(400, "Bad Request: message text is empty")
        visible = text
        if parse_mode and parse_mode.upper() == "HTML" and self.strict_html:
            try:
                visible = parse_telegram_html(text)
            except TelegramHTMLError as err:
                raise _APIError(400, f"Bad Request: {err}") from None
        if utf16_len(visible) > MAX_MESSAGE_LENGTH:
            raise _APIError(400, "Bad Request: message is too long")
        return visible

    def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        self._require(params, "chat_id")
        visible = self._visible(str(params.get("text") or ""), params.get("parse_mode"))
        chat_id = int(params["chat_id"])
        with self._cond:
            chat = self._chats.get(chat_id, {"id": chat_id, "type": "private", "first_name": "Ann"})
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
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
        with self._cond:
            self.bot_messages.append(message)
        return message

    def _edit_message(self, params: dict[str, Any]) -> Any:
        visible = self._visible(str(params.get("text") or ""), params.get("parse_mode"))
        if params.get("inline_message_id"):
            return True
        self._require(params, "chat_id", "message_id")
        with self._cond:
            for message in self.bot_messages:
                if message["chat"]["id"] == int(params["chat_id"]) and message["message_id"] == int(params["message_id"]):
                    if message["text"] == visible:
                        raise _APIError(400, "Bad Request: message is not modified")
                    message["text"] = visible
                    message["edit_date"] = int(time.time())
                    return message
        raise _APIError(400, "Bad Request: message to edit not found")


class _APIError(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def _decode(params: Iterable[tuple[str, str]]) -> dict[str, Any]:
    decoded: dict[str, Any] = {}
    for name, value in params:
        if name in _STRING_PARAMS:
            decoded[name] = value
            continue
        try:
            decoded[name] = json.loads(value)
        except ValueError:
            decoded[name] = value
    return decoded


class _Handler(BaseHTTPRequestHandler):
    api: FakeBotAPI
    protocol_version = "HTTP/1.1"  # keep-alive, like Telegram; httpx reuses connections

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Silence the per-request stderr lines."""

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        prefix = f"/bot{self.api.token}/"
        path, _, query = self.path.partition("?")
        if not path.startswith(prefix):
            self._reply(401 if path.startswith("/bot") else 404, {"ok": False, "error_code": 401, "description": "Unauthorized"})
            return
        method = path[len(prefix) :]
        content_type = self.headers.get("Content-Type", "")
        if content_type.startswith("multipart/"):
            self._reply(400, {"ok": False, "error_code": 400, "description": "Bad Request: the fake takes no file uploads"})
            return
        if content_type.startswith("application/json"):
            params = json.loads(raw or b"{}")
        else:
            pairs = parse_qsl(query, keep_blank_values=True) + parse_qsl(raw.decode("utf-8"), keep_blank_values=True)
            params = _decode(pairs)
        status, body = self.api._handle(method, params)
        self._reply(status, body)

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            # The bot cancelled a long poll while shutting down; nothing to answer.
            pass
