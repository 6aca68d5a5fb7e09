"""End to end, inline mode and sources, through the loopback Bot API: the cited answer offered inline, and the
passage behind a citation shown from its button or /source.
"""

from __future__ import annotations

from tests.telegram_html import parse_telegram_html
from tests.telegram_loopback import QUESTION, Harness, cited, harness, states, visible  # noqa: F401 - harness is a fixture


def test_inline_query_offers_the_cited_answer(harness: Harness) -> None:
    harness.send(harness.fake.inline_query(QUESTION))
    [call] = harness.fake.wait_for_calls("answerInlineQuery")

    [result] = call.params["results"]
    assert result["type"] == "article" and result["title"] == QUESTION
    content = result["input_message_content"]
    assert content["parse_mode"] == "HTML"
    text = parse_telegram_html(content["message_text"])
    assert text.startswith(f"❓ {QUESTION}") and states(text)


def test_inline_answer_refused_as_html_is_offered_as_plain_text(harness: Harness) -> None:
    harness.fake.fail_next("answerInlineQuery")  # 400 Bad Request: can't parse entities
    harness.send(harness.fake.inline_query(QUESTION))

    [call] = harness.fake.wait_for_calls("answerInlineQuery")

    content = call.params["results"][0]["input_message_content"]
    assert "parse_mode" not in content and content["message_text"].startswith(f"❓ {QUESTION}")
    assert "<b>" not in content["message_text"] and states(content["message_text"])


def test_source_button_and_source_command_show_the_passage_with_neighbours(harness: Harness) -> None:
    harness.send(harness.fake.private_message(QUESTION))
    [answer] = harness.replies()
    assert cited(answer)
    bot_message = harness.fake.bot_messages[-1]
    button = bot_message["reply_markup"]["inline_keyboard"][0][0]

    harness.send(harness.fake.callback_query(bot_message, button["callback_data"]))
    harness.send(harness.fake.private_message("/source 1"))

    harness.fake.wait_for_calls("answerCallbackQuery")
    sources = harness.replies(3)[1:]
    passage_id = harness.application.bot_data.engine.answer(QUESTION).citations[0].passage_id
    sentence = harness.application.bot_data.engine.passage_with_context(passage_id, 0)[0].text
    for reply in sources:
        assert reply.params["parse_mode"] == "HTML"
        assert f"<b>{sentence}</b>" in reply.params["text"]
        text = visible(reply)
        assert text.startswith("Source [1] — Major Prisoner Exchange")
        assert len(text) > len(sentence) + 100  # the neighbouring sentences are there too
    harness.send(harness.fake.callback_query(bot_message, "no-longer-a-button"))
    stale = harness.fake.wait_for_calls("answerCallbackQuery", 2)[1]
    assert stale.params["text"] == "This button no longer works: ask the question again."
    harness.send(harness.fake.callback_query(bot_message, f"src|1|{passage_id}"))  # sent before the short keys
    harness.fake.wait_for_calls("answerCallbackQuery", 3)
    [older] = harness.replies(4)[3:]
    assert f"<b>{sentence}</b>" in older.params["text"]
