"""How the bot reaches Telegram: long polling, or a webhook when WEBHOOK_URL is set; a local Bot API server."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import signal
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from telegram import Update
from telegram.ext import Application, ExtBot
from telegram.request import BaseRequest, HTTPXRequest

from .sending import RetryingRateLimiter
from .settings import TelegramSettings

logger = logging.getLogger("bot")

ALLOWED_UPDATES = [Update.MESSAGE, Update.INLINE_QUERY, Update.CALLBACK_QUERY]
# httpx checks every pooled connection on each request: PTB's default of 256 made that check
# most of the bot's own CPU under load (profiled in the bench); 16 in flight is plenty below
# Telegram's 30 messages/s, and the rate limiter queues the rest instead of timing them out.
CONNECTION_POOL_SIZE = 16
READ_TIMEOUT_S = 5.0  # PTB's default; a long poll waits this much longer than its own timeout


class TelegramBot(ExtBot[Any]):
    """PTB's ExtBot, with a getUpdates that parses each update on its own.

    PTB parses a batch as a whole: one update it cannot parse fails the batch, the offset never
    moves past it and polling retries it forever (logging the payload each time).  Here it is
    logged once, without its payload, and the offset moves past it.
    """

    __slots__ = ("_skip_below",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._skip_below = 0

    async def get_updates(  # type: ignore[override]  # PTB's call, its timeout keywords passed through
        self,
        offset: int | None = None,
        limit: int | None = None,
        timeout: float | dt.timedelta | None = None,
        allowed_updates: Sequence[str] | None = None,
        *,
        read_timeout: Any = None,
        **request_kwargs: Any,
    ) -> tuple[Update, ...]:
        poll_s = int(timeout.total_seconds() if isinstance(timeout, dt.timedelta) else timeout or 0)
        if self._skip_below and (offset or 0) < self._skip_below:
            offset = self._skip_below  # confirms the unparsable update to Telegram
        data = {"offset": offset, "limit": limit, "timeout": poll_s, "allowed_updates": allowed_updates}
        # As PTB does: a long poll may take its own timeout on top of the read timeout.
        read_s = float(read_timeout) if isinstance(read_timeout, int | float) else READ_TIMEOUT_S
        results = await self._post("getUpdates", data, read_timeout=read_s + poll_s, **request_kwargs)
        updates = []
        for result in results if isinstance(results, list) else ():
            update_id = result.get("update_id") if isinstance(result, dict) else None
            try:
                updates.append(Update.de_json(result, self))
            except Exception as err:  # noqa: BLE001 - whatever the payload breaks, it is skipped, not fatal
                logger.error("update.unparsable update=%s error=%s: skipped", update_id, type(err).__name__)
                if isinstance(update_id, int):
                    self._skip_below = max(self._skip_below, update_id + 1)
        return tuple(updates)


def make_bot(settings: TelegramSettings, request: BaseRequest | None = None) -> TelegramBot:
    """The bot object: its connection pool, send queue, retries and rate limits, and the Bot API URL.

    ``request`` stands in for the connection pools: tests answer the Bot API in process with it, as PTB's own do.
    """
    urls: dict[str, str] = {}
    if settings.telegram_base_url:
        urls["base_url"], urls["base_file_url"] = base_urls(settings.telegram_base_url)
    return TelegramBot(
        settings.token,
        request=request or HTTPXRequest(connection_pool_size=CONNECTION_POOL_SIZE, read_timeout=READ_TIMEOUT_S),
        get_updates_request=request or HTTPXRequest(connection_pool_size=1, read_timeout=READ_TIMEOUT_S),
        rate_limiter=RetryingRateLimiter(
            overall_max_rate=settings.telegram_max_rate,
            retry_window_s=settings.telegram_send_retry_s,
            slots=CONNECTION_POOL_SIZE,
        ),
        **urls,
    )


def base_urls(setting: str) -> tuple[str, str]:
    """Bot API and file URLs from TELEGRAM_BASE_URL (``http://host:8081`` or ``…/bot``)."""
    base = setting.rstrip("/")
    if not base.endswith("/bot"):
        base += "/bot"
    return base, base[: -len("/bot")] + "/file/bot"


def serve(
    application: Application, settings: TelegramSettings, stop_signals: Sequence[int] | None = (signal.SIGINT, signal.SIGTERM)
) -> None:
    """Run until stopped: a webhook when WEBHOOK_URL is set, else long polling."""
    if settings.webhook_url:
        # Telegram echoes the secret in a header, so forged POSTs to the URL are refused.
        secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else secrets.token_urlsafe(32)
        application.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=urlsplit(settings.webhook_url).path.lstrip("/"),
            webhook_url=settings.webhook_url,
            secret_token=secret,
            allowed_updates=ALLOWED_UPDATES,
            drop_pending_updates=settings.drop_pending_updates,
            stop_signals=stop_signals,
        )
    else:
        application.run_polling(
            allowed_updates=ALLOWED_UPDATES,
            drop_pending_updates=settings.drop_pending_updates,
            stop_signals=stop_signals,
        )
