"""The bot's logging: operator-friendly lines that never carry a secret."""

from __future__ import annotations

import logging
from collections.abc import Sequence

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


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


def redact_secrets(secrets: Sequence[str]) -> None:
    """Every handler of the root logger writes ``LOG_FORMAT`` lines with ``secrets`` blanked out."""
    formatter = RedactingFormatter(LOG_FORMAT, secrets)
    for handler in logging.getLogger().handlers:
        handler.setFormatter(formatter)
