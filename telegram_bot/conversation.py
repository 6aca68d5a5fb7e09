"""Conversation context for follow-up questions: which earlier question a message may lean on.

Private chat: the previous question of the chat, if it came within FOLLOWUP_WINDOW_SECONDS.
Groups: the message it replies to — one of the bot's answers carries the question it answered
(a bounded map from the bot's message ids), another member's message carries its own text.
The engine decides whether the message needs that context at all; this only supplies it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from cachetools import LRUCache
from telegram import Message
from telegram.constants import ChatType

from rag import Answer

from .policy import addressed_question

# Enough for every busy group's recent answers; the least recently used are forgotten first.
ANSWERS_KEPT = 10_000
PRIVATE_CHATS_KEPT = 10_000


@dataclass
class ConversationMemory:
    """Recent questions by private chat, and by the bot's answer message in groups."""

    window_seconds: float
    answers_kept: int = ANSWERS_KEPT
    clock: Callable[[], float] = time.monotonic
    # chat id -> (question, when it was asked, the message that asked it)
    _last_private: LRUCache[int, tuple[str, float, int]] = field(init=False)
    _answered: LRUCache[tuple[int, int], str] = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)  # cachetools' caches are not thread-safe

    def __post_init__(self) -> None:
        self._last_private = LRUCache(maxsize=PRIVATE_CHATS_KEPT)
        self._answered = LRUCache(maxsize=self.answers_kept)

    def context_for(self, message: Message, question: str, bot_username: str, bot_id: int) -> str | None:
        """The earlier question ``message`` may be a follow-up to, or None; in a private chat ``question``
        becomes the one the next message may follow, at once: a quick second message must not miss it."""
        if message.chat.type == ChatType.PRIVATE:
            if not self.window_seconds:
                return None
            now = self.clock()
            with self._lock:
                last = self._last_private.get(message.chat_id)
                self._last_private[message.chat_id] = (question, now, message.message_id)
            if last is None or now - last[1] > self.window_seconds:
                return None
            return last[0]
        replied = message.reply_to_message
        if replied is None:
            return None
        if replied.from_user is not None and replied.from_user.id == bot_id:
            with self._lock:
                return self._answered.get((message.chat_id, replied.message_id))
        # Another member's question: without its @mention of the bot, if it had one.
        return addressed_question(replied, bot_username, bot_id) or replied.text or replied.caption

    def remember(self, message: Message, answer: Answer, sent: list[Message]) -> None:
        """Keep the question as the engine read it (a follow-up with its context), for the next message.

        In groups every message of the answer (a long one is sent in parts) stands for it when replied to.
        """
        question = answer.read_as or answer.question
        with self._lock:
            if message.chat.type == ChatType.PRIVATE:
                last = self._last_private.get(message.chat_id)
                if last is not None and last[2] == message.message_id:  # no newer question came meanwhile
                    self._last_private[message.chat_id] = (question, last[1], last[2])
                return
            for part in sent:
                self._answered[(message.chat_id, part.message_id)] = question

    def forget(self, chat_id: int) -> None:
        """/reset: the next message in this chat stands alone."""
        with self._lock:
            self._last_private.pop(chat_id, None)
            for key in [key for key in self._answered if key[0] == chat_id]:
                del self._answered[key]
