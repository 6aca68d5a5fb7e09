"""The bot's pure helpers: rate limit, one notice a window, allowlists (also as PTB filters), Bot API URLs, and
whether a group message is addressed to the bot.
"""

from __future__ import annotations

from typing import Any

import pytest
from telegram import Message, Update

from telegram_bot import policy, transport
from tests.telegram_updates import TelegramUpdates


def test_sliding_window_limiter() -> None:
    limiter = policy.SlidingWindowLimiter(limit=2, window_s=60)
    assert limiter.check(1, now=0) == 0 and limiter.check(1, now=10) == 0
    assert limiter.check(1, now=20) == pytest.approx(40)
    assert limiter.check(2, now=20) == 0
    assert limiter.check(1, now=60.5) == 0  # the first question left the window


def test_one_notice_per_key_per_window() -> None:
    notices = policy.OncePerWindow(window_s=60)
    assert notices.first(("rate", 1), now=0) and not notices.first(("rate", 1), now=59)
    assert notices.first(("access", 1), now=59)  # another kind of notice, its own window
    assert notices.first(("rate", 1), now=60.5)  # a new window: one more notice


def test_access_lists() -> None:
    assert policy.Access(frozenset(), frozenset()).permits(5, 6)
    access = policy.Access(frozenset({1}), frozenset({-100}))
    assert access.permits(1, 99) and access.permits(2, -100) and not access.permits(2, 99)
    assert not access.permits(2, None)  # inline queries have no chat: only listed users
    fake = TelegramUpdates()

    def admitted(update: dict[str, Any]) -> bool:
        return bool(access.messages.check_update(Update.de_json({"update_id": 1, **update}, None)))

    assert admitted(fake.private_message("hi", user_id=1)) and admitted(fake.group_message("hi", user_id=1, chat_id=-5))
    assert admitted(fake.group_message("hi", user_id=2, chat_id=-100)) and not admitted(fake.private_message("hi", user_id=2))
    assert policy.Access(frozenset(), frozenset()).messages.check_update(Update.de_json({"update_id": 1, **fake.private_message("hi")}, None))


def test_base_urls_accept_a_host_or_a_bot_path() -> None:
    assert transport.base_urls("http://localhost:8081") == ("http://localhost:8081/bot", "http://localhost:8081/file/bot")
    assert transport.base_urls("http://h/bot/") == ("http://h/bot", "http://h/file/bot")


def test_addressed_question_strips_the_mention() -> None:
    fake = TelegramUpdates()
    def message(update: dict[str, Any]) -> Message:
        return Update.de_json({"update_id": 1, **update}, None).message

    mention = message(fake.group_message("@articleanswerbot: how many?"))
    assert policy.addressed_question(mention, "ArticleAnswerBot", fake.bot_id) == "how many?"
    middle = message(fake.group_message("so @ArticleAnswerBot how many?"))
    assert policy.addressed_question(middle, "ArticleAnswerBot", fake.bot_id) == "so how many?"
    assert policy.addressed_question(message(fake.group_message("how many?")), "ArticleAnswerBot", fake.bot_id) is None
    email = message(fake.group_message("mail x@ArticleAnswerBot.com"))
    assert policy.addressed_question(email, "ArticleAnswerBot", fake.bot_id) is None
