"""Telegram formatting for the bot: HTML escaping, the Sources block, 4096-char splitting.

Pure functions with no Telegram objects, so they are unit-tested on their own
(tests/test_bot_format.py).  Everything that came from an article or from a user goes
through :func:`escape`; the only markup in a reply is the handful of tags written here.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: formatting needs no engine at run time
    from rag import Answer, Passage

MAX_MESSAGE_LENGTH = 4096  # telegram.constants.MessageLimit.MAX_TEXT_LENGTH
QUOTE_WIDTH = 220  # a Sources line quotes at most this many characters of its sentence
# A longer answer (a rambling model) is cut: with its Sources it still fits two or three messages.
MAX_ANSWER_CHARS = 8000
CUT_NOTE = "(The answer was longer than a chat message allows; it was cut here.)"

_TAG_OR_ENTITY = re.compile(r"<(/?)([a-zA-Z][\w-]*)[^<>]*>|&#?\w+;")
_ANY_TAG = re.compile(r"<[^<>]*>")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*\s+$")
_SENTENCE_ENDS = re.compile(r"[.!?…][\"'”’)\]]*(?=\s)")


def escape(text: str) -> str:
    """Escape text for Telegram's HTML parse mode (``<``, ``>`` and ``&``)."""
    return html.escape(text, quote=False)


def shorten(text: str, width: int = QUOTE_WIDTH) -> str:
    """Collapse whitespace and cut ``text`` at a word boundary to at most ``width`` chars."""
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    cut = text.rfind(" ", 0, width)
    if cut < width // 2:  # one giant word: cut it rather than lose most of the quote
        cut = width - 1
    return text[:cut].rstrip(" ,;:") + "…"


def format_answer(answer: Answer, *, question: str | None = None) -> str:
    """The reply in HTML: the answer with its [n] markers, a note if any, then Sources.

    ``question`` is repeated on top when given (inline mode: the chat sees only the
    result, not what was typed into the inline box).
    """
    parts: list[str] = []
    if question:
        parts.append(f"❓ <b>{escape(shorten(question, 300))}</b>")
    text, was_cut = clip_answer(answer.text.strip())
    parts.append(escape(text))
    if was_cut:
        parts.append(f"<i>{CUT_NOTE}</i>")
    if answer.note:
        parts.append(f"<i>{escape(answer.note)}</i>")
    if answer.citations:
        titles = {c.document_title for c in answer.citations}
        one_title = len(titles) == 1
        header = "<b>Sources</b>"
        if one_title:
            header += f" — <i>{escape(next(iter(titles)))}</i>"
        lines = [header]
        for citation in answer.citations:
            if citation.quote.strip() in answer.text:
                # An offline answer quotes its sources word for word: say where, do not repeat them.
                line = f"[{citation.n}] quoted above: sentence {citation.passage_id.rpartition(':')[2]}"
            else:
                line = f"[{citation.n}] “{escape(shorten(citation.quote))}”"
            if not one_title:
                line += f" — <i>{escape(citation.document_title)}</i>"
            lines.append(line)
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def clip_answer(text: str, limit: int = MAX_ANSWER_CHARS) -> tuple[str, bool]:
    """``text`` cut to ``limit`` characters at the last sentence end (or space), and whether it was cut."""
    if len(text) <= limit:
        return text, False
    head = text[:limit]
    ends = [match.end() for match in _SENTENCE_ENDS.finditer(head)]
    cut = ends[-1] if ends and ends[-1] >= limit // 2 else head.rfind(" ")
    if cut < limit // 2:  # one giant word
        cut = limit
    return head[:cut].rstrip() + " …", True


def format_passage(passages: Sequence[Passage], cited_id: str, *, n: int | None, title: str | None) -> str:
    """A cited passage in bold among its neighbouring sentences, for /source and buttons."""
    label = f"Source [{n}]" if n is not None else "Source"
    header = f"<b>{label}</b>"
    if title:
        header += f" — <i>{escape(title)}</i>"
    body: list[str] = []
    previous_paragraph: int | None = None
    for passage in passages:
        text = escape(passage.text.strip())
        if passage.passage_id == cited_id:
            text = f"<b>{text}</b>"
        if previous_paragraph is not None:
            body.append("\n\n" if passage.paragraph != previous_paragraph else " ")
        body.append(text)
        previous_paragraph = passage.paragraph
    return header + "\n\n" + "".join(body)


def html_to_plain(text: str) -> str:
    """Drop the tags and unescape: the plain-text fallback when Telegram refuses markup."""
    return html.unescape(_ANY_TAG.sub("", text))


def utf16_len(text: str) -> int:
    """Message length as Telegram counts it (UTF-16 code units)."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def split_html(text: str, limit: int = MAX_MESSAGE_LENGTH) -> list[str]:
    """Split HTML into messages of at most ``limit`` UTF-16 units, never inside a tag.

    Cuts prefer a paragraph break, then a line break, then a sentence end, then a space.
    Tags open at a cut are closed at the end of one part and reopened at the start of
    the next, so every part is valid markup on its own.  The raw HTML length is what is
    measured, which is never less than what Telegram counts after parsing.
    """
    if limit < 64:
        raise ValueError("limit too small to hold markup")
    parts: list[str] = []
    rest = text.strip()
    while utf16_len(rest) > limit:
        cut, open_tags = _best_cut(rest, limit)
        closers = "".join(f"</{name}>" for name, _ in reversed(open_tags))
        parts.append(rest[:cut].rstrip() + closers)
        rest = "".join(tag for _, tag in open_tags) + rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


def _best_cut(text: str, limit: int) -> tuple[int, list[tuple[str, str]]]:
    """Where to cut ``text`` so that the head plus closing tags fits ``limit``.

    Returns the cut index and the tags open there, as (name, opening tag) pairs.
    """
    stack: list[tuple[str, str]] = []
    best: dict[int, tuple[int, list[tuple[str, str]]]] = {}  # boundary class -> candidate
    used = 0
    i = 0
    while i < len(text):
        match = _TAG_OR_ENTITY.match(text, i) if text[i] in "<&" else None
        if match:
            token = match.group()
            if match.group(2):
                name = match.group(2).lower()
                if not match.group(1):
                    stack.append((name, token))
                elif stack and stack[-1][0] == name:
                    stack.pop()
            used += utf16_len(token)
            i = match.end()
        else:
            used += 2 if ord(text[i]) > 0xFFFF else 1
            i += 1
        if used + sum(len(name) + 3 for name, _ in stack) > limit:
            break
        best[_boundary_class(text, i)] = (i, list(stack))
    if not best:
        raise ValueError("a single tag or entity is longer than the limit")
    reach = max(position for position, _ in best.values())
    for boundary in (4, 3, 2, 1):
        # A natural break is worth it only if it keeps at least half of what would fit.
        if boundary in best and best[boundary][0] >= reach // 2:
            return best[boundary]
    return best[max(best)]


def _boundary_class(text: str, i: int) -> int:
    """How good a cut between ``text[i-1]`` and ``text[i]`` is: 4 paragraph … 0 mid-word."""
    if not text[i - 1].isspace():
        return 0
    head = text[max(0, i - 12) : i]
    if head.endswith("\n\n"):
        return 4
    if head.endswith("\n"):
        return 3
    if _SENTENCE_END.search(head):
        return 2
    return 1
