"""Every Bot API call the bot makes goes through here: Telegram's rate limits, retries, and a bounded send queue.

PTB routes each request (except ``getUpdates``) through the bot's rate limiter, which makes it
the one place to decide, per failure, whether trying again is safe:

* Telegram answered with an error (5xx), or the request never left (no free connection, no
  connection): retried with exponential backoff for up to TELEGRAM_SEND_RETRY_S seconds.
* ``RetryAfter`` (429): waited out by :class:`~telegram.ext.AIORateLimiter`.
* The request was sent but no answer came (read timeout, connection dropped): Telegram may
  well have delivered the message, so it is *not* sent again, and :class:`DeliveryUncertain`
  tells the error handler not to apologise for an answer the user probably has.

At most ``slots`` requests are in flight at once (the connection pool's size): the others wait
their turn here instead of failing with "Pool timeout: all connections are occupied".
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
from telegram.error import BadRequest, NetworkError, TimedOut
from telegram.ext import AIORateLimiter

logger = logging.getLogger("bot.sending")

FIRST_RETRY_S = 0.5
MAX_RETRY_PAUSE_S = 5.0
# Errors raised after the request reached Telegram: it may have been carried out.
_SENT_BUT_UNANSWERED = (httpx.ReadTimeout, httpx.ReadError, httpx.RemoteProtocolError)


class DeliveryUncertain(TimedOut):
    """The request was sent but its answer never came: it may have been carried out."""


def sent_but_unanswered(err: NetworkError) -> bool:
    """True when the request reached Telegram before the failure, so repeating it could duplicate it."""
    return isinstance(err.__cause__, _SENT_BUT_UNANSWERED)


class RetryingRateLimiter(AIORateLimiter):
    """:class:`AIORateLimiter` (429s, 30 messages/s, 20 a minute per group) plus safe retries and send slots."""

    def __init__(self, *, overall_max_rate: float, retry_window_s: float, slots: int) -> None:
        super().__init__(overall_max_rate=overall_max_rate, max_retries=3)
        self.retry_window_s = retry_window_s
        self._slots = asyncio.Semaphore(slots)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        async def in_a_slot(*call_args: Any, **call_kwargs: Any) -> bool | dict[str, Any] | list[dict[str, Any]]:
            async with self._slots:  # held for the request only, never while waiting out a 429
                return await callback(*call_args, **call_kwargs)

        started, attempt = time.monotonic(), 0
        while True:
            try:
                return await super().process_request(in_a_slot, args, kwargs, endpoint, data, rate_limit_args)
            except BadRequest:  # PTB counts it a NetworkError, but Telegram refused the request: the same fails again
                raise
            except NetworkError as err:
                if sent_but_unanswered(err):
                    logger.warning(
                        "send.uncertain method=%s error=%s: not repeated, it may have been delivered",
                        endpoint, type(err.__cause__).__name__,
                    )
                    raise DeliveryUncertain(f"{endpoint}: sent, but no answer came") from err
                pause = min(FIRST_RETRY_S * 2**attempt, MAX_RETRY_PAUSE_S)
                if time.monotonic() - started + pause > self.retry_window_s:
                    logger.error("send.failed method=%s attempts=%d error=%s", endpoint, attempt + 1, err)
                    raise
                logger.warning(
                    "send.retry method=%s attempt=%d pause_s=%.1f error=%s", endpoint, attempt + 1, pause, err
                )
                await asyncio.sleep(pause)
                attempt += 1
