"""How the bot reaches Telegram: long polling, or a webhook when WEBHOOK_URL is set; a local Bot API server."""

from __future__ import annotations

import secrets
import signal
from collections.abc import Sequence
from urllib.parse import urlsplit

from telegram import Update
from telegram.ext import Application

from rag import Settings

ALLOWED_UPDATES = [Update.MESSAGE, Update.INLINE_QUERY, Update.CALLBACK_QUERY]


def base_urls(setting: str) -> tuple[str, str]:
    """Bot API and file URLs from TELEGRAM_BASE_URL (``http://host:8081`` or ``…/bot``)."""
    base = setting.rstrip("/")
    if not base.endswith("/bot"):
        base += "/bot"
    return base, base[: -len("/bot")] + "/file/bot"


def serve(
    application: Application, settings: Settings, stop_signals: Sequence[int] | None = (signal.SIGINT, signal.SIGTERM)
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
