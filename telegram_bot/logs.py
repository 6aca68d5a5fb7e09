"""The bot's logging: operator-friendly lines that never carry a secret."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from rag import Settings


class RedactingFormatter(logging.Formatter):
    """Belt and braces: no log line or traceback may carry a secret, whoever wrote it
    (PTB's own messages quote a rejected token, for one)."""

    def __init__(self, fmt: str, secrets: Sequence[str]) -> None:
        super().__init__(fmt)
        self.secrets = [s for s in secrets if s]

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        for secret in self.secrets:
            line = line.replace(secret, "<secret>")
        return line


def configure_logging(settings: Settings, token: str) -> None:
    logging.basicConfig(level=settings.log_level)
    # httpx logs every request URL at INFO, and the URL contains the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    for chatty in ("httpx2", "chromadb", "bm25s"):  # the LLM client's transport and libraries' internals
        logging.getLogger(chatty).setLevel(logging.WARNING)
    api_key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
    formatter = RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", [token, api_key])
    for handler in logging.getLogger().handlers:
        handler.setFormatter(formatter)
