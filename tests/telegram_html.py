"""Telegram's HTML parse mode, as strict as Telegram: what the fake Bot API accepts, and what a reader sees.

Standard library only (the benchmark loads the fakes by path).
"""

from __future__ import annotations

import re

# Telegram's HTML parse mode: https://core.telegram.org/bots/api#html-style
_ALLOWED_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "tg-emoji",
        "code",
        "pre",
        "blockquote",
    }
)
_HTML_TOKEN = re.compile(
    r"<(?P<close>/?)(?P<tag>[a-zA-Z][\w-]*)(?P<attrs>[^<>]*)>"
    r"|&(?P<entity>#[0-9]+|#x[0-9a-fA-F]+|lt|gt|amp|quot);"
    r"|(?P<bad>[<&])"
)
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


class TelegramHTMLError(ValueError):
    """The text would be refused by Telegram's HTML parser (message as Telegram words it)."""


def parse_telegram_html(text: str) -> str:
    """Return the visible text of ``text`` in Telegram's HTML parse mode, or raise.

    Stricter than Telegram in one way: a bare ``&`` is refused, because a bot that escapes
    correctly never sends one.
    """
    visible: list[str] = []
    stack: list[str] = []
    pos = 0
    for match in _HTML_TOKEN.finditer(text):
        visible.append(text[pos : match.start()])
        pos = match.end()
        offset = len(text[: match.start()].encode("utf-8"))
        if match["bad"]:
            char = match["bad"]
            raise TelegramHTMLError(
                f"can't parse entities: Unexpected {'start tag' if char == '<' else 'character'} "
                f"{char!r} at byte offset {offset}"
            )
        if match["entity"]:
            entity = match["entity"]
            if entity.startswith("#x"):
                visible.append(chr(int(entity[2:], 16)))
            elif entity.startswith("#"):
                visible.append(chr(int(entity[1:])))
            else:
                visible.append(_NAMED_ENTITIES[entity])
            continue
        tag = match["tag"].lower()
        if tag not in _ALLOWED_TAGS:
            raise TelegramHTMLError(
                f'can\'t parse entities: Unsupported start tag "{tag}" at byte offset {offset}'
            )
        if match["close"]:
            if not stack or stack[-1] != tag:
                expected = f'"</{stack[-1]}>"' if stack else "no end tag"
                raise TelegramHTMLError(
                    f"can't parse entities: Unmatched end tag at byte offset {offset}, "
                    f'expected {expected}, found "</{tag}>"'
                )
            stack.pop()
        else:
            stack.append(tag)
    visible.append(text[pos:])
    if stack:
        raise TelegramHTMLError(
            f'can\'t parse entities: Can\'t find end tag corresponding to start tag "{stack[-1]}"'
        )
    return "".join(visible)


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2
