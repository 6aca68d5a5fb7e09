"""The updates Telegram would deliver to the bot under test, with the ids and entities Telegram sets on them.

Standard library only (the benchmark loads the fakes by path).
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from tests.telegram_html import utf16_len

DEFAULT_TOKEN = "123456789:TEST-token_for-the-loopback-fake"
_COMMAND = re.compile(r"^/[A-Za-z0-9_]+(?:@[A-Za-z0-9_]+)?")
_MENTION = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{5,32}")


def _entities(text: str) -> list[dict[str, Any]]:
    """bot_command and mention entities, as Telegram's clients would attach them."""
    found: list[dict[str, Any]] = []
    command = _COMMAND.match(text)
    if command:
        found.append({"type": "bot_command", "offset": 0, "length": utf16_len(command.group())})
    for match in _MENTION.finditer(text):
        if command and match.start() < command.end():
            continue
        found.append(
            {
                "type": "mention",
                "offset": utf16_len(text[: match.start()]),
                "length": utf16_len(match.group()),
            }
        )
    return found



def _fresh_message_ids() -> Iterator[int]:
    # Telegram never reuses a message id in a chat, and the bot's journal relies on it: ids go on
    # from the clock, so a new fake does not repeat an earlier one's (the bench reuses DATA_DIR).
    return itertools.count(int(time.time() * 1000) % 2**31)


@dataclass
class TelegramUpdates:
    """The bot's identity as Telegram knows it, and updates for it: messages in private chats and groups,
    inline queries and button presses."""

    token: str = DEFAULT_TOKEN
    bot_username: str = "ArticleAnswerBot"
    bot_first_name: str = "Article Answer"
    _message_ids: Iterator[int] = field(default_factory=_fresh_message_ids, init=False, repr=False)

    @property
    def bot_id(self) -> int:
        return int(self.token.split(":", 1)[0])

    @property
    def bot_user(self) -> dict[str, Any]:
        """The bot as ``getMe`` describes it."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
        }

    def new_message_id(self) -> int:
        return next(self._message_ids)

    @staticmethod
    def user(user_id: int = 1001, first_name: str = "Ann") -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": first_name, "username": f"user{user_id}"}

    @staticmethod
    def private_chat(user_id: int = 1001) -> dict[str, Any]:
        return {"id": user_id, "type": "private", "first_name": "Ann"}

    @staticmethod
    def group_chat(chat_id: int = -1001234567890, *, forum: bool = False) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": chat_id, "type": "supergroup", "title": "Newsroom"}
        if forum:
            chat["is_forum"] = True
        return chat

    def message(
        self,
        text: str | None,
        *,
        chat: dict[str, Any],
        user_id: int = 1001,
        reply_to: dict[str, Any] | None = None,
        thread_id: int | None = None,
        sticker: bool = False,
        photo_caption: str | None = None,
    ) -> dict[str, Any]:
        """A ``message`` update as Telegram would deliver it (entities computed)."""
        message: dict[str, Any] = {
            "message_id": self.new_message_id(),
            "date": int(time.time()),
            "chat": chat,
            "from": self.user(user_id),
        }
        if text is not None:
            message["text"] = text
            entities = _entities(text)
            if entities:
                message["entities"] = entities
        if sticker:
            message["sticker"] = {
                "file_id": "CAACAgIAAxkBAAE",
                "file_unique_id": "AgADsticker",
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "emoji": "👍",
            }
        if photo_caption is not None:
            message["photo"] = [{"file_id": "AgACAgIAAxk", "file_unique_id": "AQADphoto", "width": 90, "height": 90}]
            message["caption"] = photo_caption
            entities = _entities(photo_caption)
            if entities:
                message["caption_entities"] = entities
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            if chat.get("is_forum"):
                message["is_topic_message"] = True
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        return {"message": message}

    def private_message(self, text: str | None, *, user_id: int = 1001, **kwargs: Any) -> dict[str, Any]:
        return self.message(text, chat=self.private_chat(user_id), user_id=user_id, **kwargs)

    def group_message(
        self, text: str | None, *, user_id: int = 1001, chat_id: int = -1001234567890, forum: bool = False, **kwargs: Any
    ) -> dict[str, Any]:
        return self.message(text, chat=self.group_chat(chat_id, forum=forum), user_id=user_id, **kwargs)

    def inline_query(self, query: str, *, user_id: int = 1001) -> dict[str, Any]:
        return {
            "inline_query": {
                "id": f"iq{self.new_message_id()}",
                "from": self.user(user_id),
                "query": query,
                "offset": "",
                "chat_type": "sender",
            }
        }

    def chosen_inline_result(self, result_id: str, query: str, *, user_id: int = 1001) -> dict[str, Any]:
        """The reader sent an inline result into a chat (sent only to bots with inline feedback on)."""
        return {
            "chosen_inline_result": {
                "result_id": result_id, "from": self.user(user_id), "query": query, "inline_message_id": "AAQAinline",
            }
        }

    def callback_query(self, bot_message: dict[str, Any], data: str, *, user_id: int = 1001) -> dict[str, Any]:
        """A press on an inline keyboard button of ``bot_message`` (a message the bot sent)."""
        return {
            "callback_query": {
                "id": f"cb{self.new_message_id()}",
                "from": self.user(user_id),
                "message": bot_message,
                "chat_instance": "ci-1",
                "data": data,
            }
        }
