"""End to end, through the loopback Bot API: the rate limit and the allowlists at work, and Telegram's errors
(429, markup refused, anything else) each handled as it should be.
"""

from __future__ import annotations

import pytest

from rag import Engine, Settings
from telegram_bot import handlers
from tests.telegram_loopback import QUESTION, Harness, cited, harness, running_bot  # noqa: F401 - harness is a fixture


def test_rate_limit_answers_slow_down(settings: Settings, engine: Engine) -> None:
    with running_bot(settings, engine, user_rate_limit=2) as h:
        for _ in range(3):
            h.send(h.fake.private_message(QUESTION))
        replies = h.replies(3)
        h.send(h.fake.private_message(QUESTION, user_id=2002))  # someone else is not affected
        replies = h.replies(4)

    texts = [c.params["text"] for c in replies]
    slow = [t for t in texts if t.startswith("You're asking quickly")]
    assert len(slow) == 1 and "please wait" in slow[0]
    assert sum(cited(c) for c in replies) == 3
    assert replies[3].params["chat_id"] == 2002


def test_allowlist_turns_away_other_users(settings: Settings, engine: Engine) -> None:
    with running_bot(settings, engine, allowed_user_ids=[1001]) as h:
        h.send(h.fake.private_message(QUESTION, user_id=2002))
        h.send(h.fake.inline_query(QUESTION, user_id=2002))
        [refusal] = h.replies()
        [inline] = h.fake.wait_for_calls("answerInlineQuery")
        h.send(h.fake.private_message(QUESTION, user_id=1001))
        replies = h.replies(2)

    assert refusal.params["chat_id"] == 2002 and "only answers the people it was set up for" in refusal.params["text"]
    assert inline.params["results"] == []
    assert replies[1].params["chat_id"] == 1001 and cited(replies[1])
    assert all(c.params["chat_id"] == 1001 for c in h.fake.calls_of("sendChatAction"))


# -- Telegram errors ---------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # PTB's own RetryAfter
def test_429_retry_after_is_waited_out_and_retried(harness: Harness) -> None:
    harness.fake.fail_next("sendMessage", retry_after=1)
    harness.send(harness.fake.private_message(QUESTION))

    [reply] = harness.replies()

    [refused] = harness.fake.calls_of("sendMessage", ok=False)
    assert refused.status == 429
    assert reply.at - refused.at >= 1.0  # AIORateLimiter honoured retry_after
    assert reply.params["text"] == refused.params["text"] and cited(reply)


def test_cant_parse_entities_is_resent_as_plain_text(harness: Harness) -> None:
    harness.fake.fail_next("sendMessage")  # 400 Bad Request: can't parse entities
    harness.send(harness.fake.private_message(QUESTION))

    [reply] = harness.replies()

    [refused] = harness.fake.calls_of("sendMessage", ok=False)
    assert refused.params["parse_mode"] == "HTML"
    assert "parse_mode" not in reply.params
    assert "<b>" not in reply.params["text"] and "Sources — Major Prisoner Exchange" in reply.params["text"]
    assert reply.params["reply_markup"] == refused.params["reply_markup"]  # buttons survive


def test_other_telegram_error_reaches_the_error_handler_and_the_user_gets_an_apology(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    harness.fake.fail_next("sendMessage", description="Bad Request: message thread not found")
    harness.send(harness.fake.private_message(QUESTION))

    [apology] = harness.replies()

    assert apology.params["text"] == handlers.APOLOGY
    assert "update.failed" in caplog.text and "chat_type=private" in caplog.text
