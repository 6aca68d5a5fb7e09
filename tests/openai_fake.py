"""A loopback HTTP server that speaks OpenAI's chat-completions protocol, with scripted faults.

The real ``openai`` client (through LangChain) talks to it, so tests exercise
the same code path as production. Each request is answered by the next scripted
behaviour, or by ``responder`` when the script is empty.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Responder = Callable[[dict[str, Any]], dict[str, Any] | str]


def passages_in(request: dict[str, Any]) -> dict[str, str]:
    """Label → passage text, read back from the prompt the engine sent."""
    user = next(m["content"] for m in request["messages"] if m["role"] == "user")
    return dict(re.findall(r"^(P\d+): (.*)$", user, re.MULTILINE))


def label_of(request: dict[str, Any], needle: str) -> str:
    """The label of the passage holding ``needle`` in the prompt the engine sent."""
    return next(label for label, text in passages_in(request).items() if needle in text)


def translating(english_question: str, needle: str, text: str, english: str) -> Responder:
    """A model that translates the question, then answers one sentence citing the passage that holds ``needle``."""

    def responder(request: dict[str, Any]) -> dict[str, Any] | str:
        if "response_format" not in request:  # the translation call
            return english_question
        sentence = {"text": text, "passages": [label_of(request, needle)], "english": english}
        return {"answerable": True, "sentences": [sentence]}

    return responder


def quote_first_passage(request: dict[str, Any]) -> dict[str, Any]:
    """A well-behaved model: answers with the first passage, cited."""
    passages = passages_in(request)
    label, text = next(iter(passages.items()))
    return {"answerable": True, "sentences": [{"text": text, "passages": [label]}]}


@dataclass
class FakeOpenAI:
    """Script it with ``push(kind, payload)``; read what the client sent in ``requests``."""

    responder: Responder = quote_first_passage
    requests: list[dict[str, Any]] = field(default_factory=list)
    script: deque[tuple[str, Any]] = field(default_factory=deque)
    hang_seconds: float = 3.0
    _server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def push(self, kind: str, payload: Any = None) -> None:
        """Queue one behaviour: "ok" (payload: answer dict), "raw" (payload: content string),
        "status" (payload: (code, body)), "hang" (sleep past the client's timeout)."""
        self.script.append((kind, payload))

    def start(self) -> "FakeOpenAI":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                fake.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
                kind, payload = fake.script.popleft() if fake.script else ("ok", None)
                if kind == "hang":
                    time.sleep(fake.hang_seconds)
                    kind = "ok"
                if kind == "status":
                    code, error = payload
                    self._send(code, {"error": {"message": error, "type": "error", "code": code}})
                    return
                if kind == "raw":
                    content = payload
                else:
                    answer = payload if payload is not None else fake.responder(body)
                    content = answer if isinstance(answer, str) else json.dumps(answer)
                self._send(200, completion(body.get("model", "fake"), content))

            def _send(self, code: int, data: dict[str, Any]) -> None:
                raw = json.dumps(data).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                if code == 429:
                    self.send_header("Retry-After", "0")
                self.end_headers()
                try:
                    self.wfile.write(raw)
                except (BrokenPipeError, ConnectionResetError):  # the client timed out first
                    pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()


def completion(model: str, content: str) -> dict[str, Any]:
    """A chat.completion object as OpenAI returns it."""
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
    }
