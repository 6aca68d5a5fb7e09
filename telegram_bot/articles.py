"""What the bot knows, as the corpus changes: /start's examples, /articles, and /about's last sync."""

from __future__ import annotations

import logging
from datetime import datetime

from rag import Document, Engine
from rag.live import LiveEngine

from .format import escape

EXAMPLES_SHOWN = 5

logger = logging.getLogger("bot.articles")


def newest(documents: list[Document]) -> Document:
    """The most recent article by its front-matter date (ISO dates sort as text); undated ones come last."""
    return max(documents, key=lambda d: (bool(d.date), d.date))


def answered_examples(live: LiveEngine) -> list[str]:
    """The newest article's example questions that the engine answers: /start never suggests one it would refuse.

    Blocking (each is searched and read, or taken from the engine's recent searches): run it off the event loop.
    The ones left out are logged, so that the newsroom can reword them in the article's front matter.
    """
    document = newest(live.current.documents)
    examples = document.examples[:EXAMPLES_SHOWN]
    answered = [q for q in examples if live.with_current(lambda engine, q=q: engine.answers(q))]
    if len(answered) < len(examples):
        logger.info(
            "start.examples doc=%s shown=%d not_answered=%s",
            document.doc_id, len(answered), [q for q in examples if q not in answered],
        )
    return answered


def start_html(engine: Engine, examples: list[str]) -> str:
    """The articles, then ``examples``: questions to try (``answered_examples``)."""
    lines = ["<b>I answer questions about these news articles</b>, quoting the sentences I used:"]
    for document in engine.documents[:EXAMPLES_SHOWN]:
        lines.append(f"• <b>{escape(document.title)}</b>" + (f" ({escape(document.date)})" if document.date else ""))
    if len(engine.documents) > EXAMPLES_SHOWN:
        lines.append(f"… and {len(engine.documents) - EXAMPLES_SHOWN} more: /articles")
    if examples:
        lines += ["", "Try asking:"] + [f"• {escape(example)}" for example in examples]
    lines += ["", "Send me a question, or see /help for groups and inline use."]
    return "\n".join(lines)


def articles_html(engine: Engine, synced_at: datetime) -> str:
    """Every article with its date and number of passages, newest first."""
    counts = engine.passage_counts()
    documents = sorted(engine.documents, key=lambda d: (bool(d.date), d.date), reverse=True)
    lines = [f"<b>{len(documents)} article(s)</b>, as of {synced_at:%Y-%m-%d %H:%M} UTC:"]
    for document in documents:
        date = f" — {escape(document.date)}" if document.date else ""
        lines.append(f"• <b>{escape(document.title)}</b>{date}, {counts.get(document.doc_id, 0)} passages")
    return "\n".join(lines)


def last_sync_html(synced_at: datetime) -> str:
    return f"<b>Last sync:</b> {synced_at:%Y-%m-%d %H:%M:%S} UTC"
