"""A loopback HTTP server that speaks enough of the Telegram Bot API to run a real bot.

python-telegram-bot is pointed at it with ``base_url(f"{fake.base_url}")``; the server
hands out queued updates through long-polled ``getUpdates`` and records every method the
bot calls, with its decoded parameters and a timestamp.  It is deliberately strict where
Telegram is strict (HTML markup, 4096-character messages, empty texts) so that formatting
bugs fail here instead of in production, and it can be told to fail the next call of a
method (429 ``retry_after``, 400 "can't parse entities", …) to exercise the error paths.

Its parts, each beside it in tests/: ``telegram_updates`` builds the updates it serves,
``telegram_methods`` carries out the methods the bot calls, ``telegram_html`` is Telegram's
HTML parser, ``telegram_http`` the HTTP server.  Standard library only, so the benchmark
loads it too (from the checkout root, where ``tests`` is importable)::

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
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any

from tests.telegram_http import BotAPIServer
from tests.telegram_methods import APIError, BotAPIMethods
from tests.telegram_updates import TelegramUpdates

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


@dataclass
class FakeBotAPI(TelegramUpdates):
    """Bot API over loopback HTTP.  Use as a context manager, or ``start()``/``stop()``; the updates it
    serves are built with the methods of :class:`TelegramUpdates` (``fake.private_message(…)``, …)."""

    max_poll_wait: float = 0.25  # cap on getUpdates long-polling, so shutdown is quick
    strict_html: bool = True

    calls: list[Call] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        self._cond = threading.Condition()
        self.methods = BotAPIMethods(self.bot_user, self.new_message_id, self.strict_html, lock=self._cond)
        self._queue: list[_Queued] = []
        self._enqueued_at: dict[int, float] = {}  # update_id -> perf_counter
        self._updates: dict[int, dict[str, Any]] = {}  # every update ever enqueued
        self._failures: dict[str, list[_Failure]] = {}
        self._slowdowns: dict[str, _Slowdown] = {}
        self._outages: dict[str, _Outage] = {}
        self._let_through: dict[str, int] = {}  # held methods: calls still carried out before holding
        self._release = threading.Event()
        self.held = 0  # calls waiting behind a hold()
        self._update_ids = itertools.count(1)
        self._closing = False
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> FakeBotAPI:
        self._server = BotAPIServer(self)
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
    def bot_messages(self) -> list[dict[str, Any]]:
        """Every message the bot sent, as Telegram returned it."""
        return self.methods.bot_messages

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
                    self.methods.chats[chat["id"]] = chat
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

    def handle(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
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
        except APIError as err:
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
        """The methods that touch the update queue; the rest as :class:`BotAPIMethods` carries them out."""
        if method in {"deleteWebhook", "setWebhook"}:
            if params.get("drop_pending_updates"):
                with self._cond:
                    self._queue.clear()
            return True
        if method == "getWebhookInfo":
            return {"url": "", "has_custom_certificate": False, "pending_update_count": len(self._queue)}
        return self.methods.call(method, params)
