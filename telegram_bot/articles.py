"""What the bot knows, as the corpus changes: /start's examples, /articles, and /about's last sync."""

from __future__ import annotations

from datetime import datetime

from rag import Engine
from rag.models import recency

from .format import escape

EXAMPLES_SHOWN = 5


def start_html(engine: Engine) -> str:
    """The articles, then example questions from the newest one: those the engine answers."""
    lines = ["<b>I answer questions about these news articles</b>, quoting the sentences I used:"]
    for document in engine.documents[:EXAMPLES_SHOWN]:
        lines.append(f"• <b>{escape(document.title)}</b>" + (f" ({escape(document.date)})" if document.date else ""))
    if len(engine.documents) > EXAMPLES_SHOWN:
        lines.append(f"… and {len(engine.documents) - EXAMPLES_SHOWN} more: /articles")
    examples = engine.suggested_examples()  # in memory: never waits for the index or a model
    if examples:
        lines += ["", "Try asking:"] + [f"• {escape(example)}" for example in examples[:EXAMPLES_SHOWN]]
    lines += ["", "Send me a question, or see /help for groups and inline use."]
    return "\n".join(lines)


def articles_html(engine: Engine, synced_at: datetime) -> str:
    """Every article with its date and number of passages, newest first."""
    counts = engine.passage_counts()
    documents = sorted(engine.documents, key=recency, reverse=True)
    lines = [f"<b>{len(documents)} article(s)</b>, as of {synced_at:%Y-%m-%d %H:%M} UTC:"]
    for document in documents:
        date = f" — {escape(document.date)}" if document.date else ""
        lines.append(f"• <b>{escape(document.title)}</b>{date}, {counts.get(document.doc_id, 0)} passages")
    return "\n".join(lines)


def last_sync_html(synced_at: datetime) -> str:
    return f"<b>Last sync:</b> {synced_at:%Y-%m-%d %H:%M:%S} UTC"
