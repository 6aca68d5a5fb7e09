"""The inline keyboard under an answer: Source [n] and 👍/👎, each button's callback_data within Telegram's 64 bytes.

A passage id is ``<doc_id>:<ordinal>`` and a doc_id is its file name's slug, of any length: a long file name made
``src|<n>|<passage_id>`` too long and the button was dropped.  So a button carries a short key the bot resolves
against the engine's articles: a digest of the doc_id and the ordinal.  The key is the same in every process, so
a button still works after a restart, and after a reload as long as the article is there.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from rag import Answer, Engine

MAX_CALLBACK_BYTES = 64  # Telegram's limit on callback_data
SOURCE_PREFIX = "src"  # "src|<n>|<document key>:<ordinal>"
VOTE_PREFIX = "vote"  # "vote|<answer id>|<1 or -1>"
SOURCE_PATTERN = rf"^{SOURCE_PREFIX}\|\d+\|[A-Za-z0-9_-]+:\d+$"
VOTE_PATTERN = rf"^{VOTE_PREFIX}\|[0-9a-f]+\|-?1$"
VOTE_BUTTONS = (("👍", 1), ("👎", -1))
SOURCES_PER_ROW = 4


def document_key(doc_id: str) -> str:
    """Eleven characters standing for a doc_id of any length (64 bits of its digest: no two articles share one)."""
    digest = hashlib.blake2b(doc_id.encode(), digest_size=8).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def source_data(n: int, passage_id: str) -> str:
    """The callback_data of citation ``n``'s button."""
    doc_id, ordinal = passage_id.rsplit(":", 1)
    return f"{SOURCE_PREFIX}|{n}|{document_key(doc_id)}:{ordinal}"


@dataclass(frozen=True)
class SourcePress:
    """What a Source button asks for: citation ``n``, the passage ``passage_id`` (None: its article is gone)."""

    n: int
    passage_id: str | None


def read_source_data(data: str, engine: Engine) -> SourcePress:
    """Resolve a Source button's key against the engine's articles now."""
    _, n, key = data.split("|", 2)
    document, ordinal = key.rsplit(":", 1)
    # A button sent before the short keys carries the doc_id itself: it keeps working.
    doc_id = next((d.doc_id for d in engine.documents if document in (document_key(d.doc_id), d.doc_id)), None)
    return SourcePress(int(n), f"{doc_id}:{ordinal}" if doc_id else None)


def vote_data(answer_id: str, value: int) -> str:
    return f"{VOTE_PREFIX}|{answer_id}|{value}"


def read_vote_data(data: str) -> tuple[str, int]:
    """The answer id and the vote (1 or -1) a 👍/👎 button carries."""
    _, answer_id, value = data.split("|", 2)
    return answer_id, int(value)


def answer_keyboard(answer: Answer, answer_id: str | None) -> InlineKeyboardMarkup | None:
    """Source buttons, four to a row, then 👍 👎 when the answer is logged (``answer_id``); None if there are none."""
    sources = [InlineKeyboardButton(f"Source [{c.n}]", callback_data=source_data(c.n, c.passage_id)) for c in answer.citations]
    rows = [sources[i : i + SOURCES_PER_ROW] for i in range(0, len(sources), SOURCES_PER_ROW)]
    if answer_id is not None:
        rows.append([InlineKeyboardButton(text, callback_data=vote_data(answer_id, value)) for text, value in VOTE_BUTTONS])
    return InlineKeyboardMarkup(rows) if rows else None
