"""The HTTP side of the fake Bot API: requests as PTB sends them (``/bot<token>/<method>``, form-encoded or JSON)
decoded into parameters, handed to the fake, and its answer written back as Telegram's JSON.

Standard library only (the benchmark loads the fakes by path).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qsl


class BotAPI(Protocol):
    """What the server serves: the token in the URL, and an answer (HTTP status, JSON body) per method."""

    token: str

    def handle(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]: ...


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


class BotAPIServer(ThreadingHTTPServer):
    """Accepts as many connections at once as the bot's pool opens (16), as Telegram does: with the socket
    module's backlog of 5, a burst of replies on a loaded machine overflowed it, and a dropped handshake can
    surface in the bot as a reset after its request was sent, which it rightly does not repeat."""

    request_queue_size = 128
    daemon_threads = True

    def __init__(self, api: BotAPI) -> None:
        self.api = api
        super().__init__(("127.0.0.1", 0), _Handler)


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
    server: BotAPIServer
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
        prefix = f"/bot{self.server.api.token}/"
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
        status, body = self.server.api.handle(method, params)
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
