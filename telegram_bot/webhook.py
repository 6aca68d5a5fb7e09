"""Webhook mode's HTTP endpoint, in place of PTB's: a body that is not an update gets 400, not 500.

PTB's endpoint answers a body that is not JSON with a 500 and logs the payload of one it cannot
parse.  Telegram retries a 5xx, so a broken update would come back again and again; a 400 tells
it the update will never be taken.  Everything else is as in PTB: ``Application.run_webhook``
drives this updater, Telegram's secret header is checked, and the update goes to the
application's (journaled) update queue before Telegram hears 200.  The same server answers
``GET /metrics`` for Prometheus (the reverse proxy forwards only the webhook's path).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

import tornado.httpserver
import tornado.web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from telegram import Bot, Update
from telegram.ext import Updater

logger = logging.getLogger("bot.webhook")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class UpdateEndpoint(tornado.web.RequestHandler):
    """POST one update: 403 without the secret, 400 if it is not an update, 200 once it is journaled."""

    SUPPORTED_METHODS = ("POST",)

    def initialize(self, bot: Bot, update_queue: asyncio.Queue[object], secret: str) -> None:
        self.bot, self.update_queue, self.secret = bot, update_queue, secret

    async def post(self) -> None:
        if not hmac.compare_digest(self.request.headers.get(SECRET_HEADER, "").encode(), self.secret.encode()):
            logger.warning("webhook.forbidden remote=%s", self.request.remote_ip)
            self.send_error(HTTPStatus.FORBIDDEN)
            return
        try:
            update = Update.de_json(json.loads(self.request.body), self.bot)
        except Exception as err:  # noqa: BLE001 - whatever the body breaks, it is refused, not fatal
            update, error = None, type(err).__name__
        else:
            error = "not an update"
        if update is None:
            logger.warning("webhook.unparsable error=%s: refused with 400", error)
            self.send_error(HTTPStatus.BAD_REQUEST)
            return
        await self.update_queue.put(update)


class MetricsEndpoint(tornado.web.RequestHandler):
    """GET /metrics: the application's Prometheus registry, in the text format."""

    SUPPORTED_METHODS = ("GET",)

    def initialize(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def get(self) -> None:
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.write(generate_latest(self.registry))


class TelegramUpdater(Updater):
    """PTB's Updater: its long polling as is, and :class:`UpdateEndpoint` (with ``/metrics``) for the webhook."""

    __slots__ = ("_server", "_metrics")

    def __init__(self, bot: Bot, update_queue: asyncio.Queue[object], metrics: CollectorRegistry) -> None:
        super().__init__(bot=bot, update_queue=update_queue)
        self._server: tornado.httpserver.HTTPServer | None = None
        self._metrics = metrics

    async def start_webhook(  # type: ignore[override]  # the keywords run_webhook passes; TLS is the proxy's
        self,
        listen: str,
        port: int,
        url_path: str,
        *,
        webhook_url: str,
        secret_token: str,
        allowed_updates: Sequence[str] | None = None,
        drop_pending_updates: bool | None = None,
        **_ignored: Any,
    ) -> asyncio.Queue[object]:
        routes = [
            (rf"/{url_path.strip('/')}/?", UpdateEndpoint, {
                "bot": self.bot, "update_queue": self.update_queue, "secret": secret_token,
            }),
            (r"/metrics", MetricsEndpoint, {"registry": self._metrics}),
        ]
        self._server = tornado.httpserver.HTTPServer(tornado.web.Application(routes))
        self._server.listen(port, address=listen)
        await self.bot.set_webhook(
            webhook_url, allowed_updates=allowed_updates, drop_pending_updates=drop_pending_updates,
            secret_token=secret_token,
        )
        self._running = True
        return self.update_queue

    async def stop(self) -> None:
        if self._server is None:
            await super().stop()
            return
        self._running = False
        self._server.stop()
        await self._server.close_all_connections()
        self._server = None
