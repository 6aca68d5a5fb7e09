"""Who may ask the bot, how often, and whether a group message is meant for it."""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass, field

from telegram import Message, MessageEntity
from telegram.ext import filters


@dataclass
class SlidingWindowLimiter:
    """At most ``limit`` questions per ``window_s`` seconds per user (sliding window)."""

    limit: int
    window_s: float = 60.0
    _hits: dict[int, deque[float]] = field(default_factory=dict)

    def check(self, key: int, now: float | None = None) -> float:
        """Count one question; 0.0 if allowed, else seconds until the next one would be."""
        now = time.monotonic() if now is None else now
        if len(self._hits) > 10_000:  # bound memory: forget users idle for a whole window
            self._hits = {k: q for k, q in self._hits.items() if q and now - q[-1] < self.window_s}
        hits = self._hits.setdefault(key, deque())
        while hits and now - hits[0] >= self.window_s:
            hits.popleft()
        if len(hits) >= self.limit:
            return self.window_s - (now - hits[0])
        hits.append(now)
        return 0.0


@dataclass
class OncePerWindow:
    """True the first time a key comes up in each ``window_s``: one notice per user, then silence.

    A user who floods the bot gets one "please wait" (or one refusal), not one per message:
    each reply would spend the bot's overall sending budget on the flood.
    """

    window_s: float = 60.0
    _last: dict[Hashable, float] = field(default_factory=dict)

    def first(self, key: Hashable, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        if len(self._last) > 10_000:  # bound memory: forget notices older than a window
            self._last = {k: t for k, t in self._last.items() if now - t < self.window_s}
        last = self._last.get(key)
        if last is not None and now - last < self.window_s:
            return False
        self._last[key] = now
        return True


@dataclass(frozen=True)
class Access:
    """ALLOWED_USER_IDS / ALLOWED_CHAT_IDS: a listed user anywhere, or anyone in a listed chat."""

    users: frozenset[int]
    chats: frozenset[int]

    @property
    def messages(self) -> filters.BaseFilter:
        """The rule as PTB message filters, for the handlers of messages and commands."""
        if not self.users and not self.chats:
            return filters.ALL
        return filters.User(user_id=self.users) | filters.Chat(chat_id=self.chats)

    def permits(self, user_id: int | None, chat_id: int | None) -> bool:
        """The rule for inline queries and button presses, which PTB's handlers take no filters for."""
        if not self.users and not self.chats:
            return True
        return (user_id in self.users) or (chat_id in self.chats)


def addressed_question(message: Message, username: str, bot_id: int) -> str | None:
    """The question in a group message if it is meant for the bot, else None.

    Meant for the bot: it @mentions the bot anywhere, or it replies to one of its messages.
    """
    text = message.text or message.caption or ""
    mention = f"@{username}".lower()
    entities = message.parse_entities([MessageEntity.MENTION]) or message.parse_caption_entities(
        [MessageEntity.MENTION]
    )
    mentioned = any(value.lower() == mention for value in entities.values())
    replied = message.reply_to_message is not None and (
        message.reply_to_message.from_user is not None and message.reply_to_message.from_user.id == bot_id
    )
    if not (mentioned or replied):
        return None
    question = re.sub(rf"@{re.escape(username)}\b", " ", text, flags=re.IGNORECASE)
    return " ".join(question.split()).lstrip(",:;- ")
