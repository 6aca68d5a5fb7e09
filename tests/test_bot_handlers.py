"""Handler logic, in process: the real Application from ``bot.build_application``, its Bot API answered by a
recording ``BaseRequest`` (tests/telegram_inprocess.py), each update handed to ``Application.process_update``.

Fixtures ``settings`` and ``engine`` come from tests/conftest.py.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from rag import EmptyQuestionError, Engine, Settings
from telegram_bot import handlers
from tests.telegram_html import parse_telegram_html
from tests.telegram_inprocess import in_process_bot
from tests.conftest import EUROVISION, OpenEngine, make_settings
from tests.telegram_loopback import QUESTION, states
from tests.test_live_corpus import eventually


async def test_start_help_about_and_an_unknown_command(settings: Settings, engine: Engine) -> None:
    async with in_process_bot(settings, engine) as bot:
        [start] = await bot.replies(bot.updates.private_message("/start"))
        [help_text] = await bot.replies(bot.updates.private_message("/help"))
        [about] = await bot.replies(bot.updates.private_message("/about"))
        [unknown] = await bot.replies(bot.updates.private_message("/nonsense"))
        [commands] = [c for c in bot.request.calls if c.method == "setMyCommands"]  # by post_init

    start = parse_telegram_html(start)
    assert start.startswith("I answer questions")
    assert "Major Prisoner Exchange Marks Diplomatic Progress in Ukraine-Russia Relations (2025-05-23)" in start
    assert "Try asking:" in start and "Where did the exchange take place?" in start  # examples from the front matter
    help_text = parse_telegram_html(help_text)
    assert "Privacy mode" in help_text and "/ask@ArticleAnswerBot" in help_text and "/setprivacy" in help_text
    assert "Limit: 10 questions a minute per person" in help_text
    about = parse_telegram_html(about)
    assert "offline" in about and "21 passages from 1 article" in about
    assert "Other languages: multilingual-e5-small-q4" in about
    assert unknown == "I don't know that command. See /help."
    assert [c["command"] for c in commands.params["commands"]] == list(handlers.COMMANDS)


async def test_start_suggests_only_the_example_questions_the_engine_answers(
    tmp_path: Path, open_engine: OpenEngine, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(tmp_path)
    (settings.corpus_dir / "eurovision.md").write_text(EUROVISION, encoding="utf-8")  # the newest article
    engine = open_engine(settings)
    try:
        with caplog.at_level(logging.INFO, logger="rag.engine"):
            async with in_process_bot(settings, engine) as bot:  # its live engine asks the examples, in the background
                # The check runs in its own thread: waiting here holds up nothing it needs.
                eventually(lambda: engine.suggested_examples() == ("Which ballad won the contest?",),
                           "the examples are checked")
                [start] = await bot.replies(bot.updates.private_message("/start"))
    finally:
        engine.close()

    start = parse_telegram_html(start)
    assert "Try asking:\n• Which ballad won the contest?\n\n" in start
    assert "World Cup" not in start
    assert "engine.examples_not_answered doc=eurovision not_answered=['Who won the 2022 World Cup?']" in caplog.text


async def test_a_blank_or_overlong_question_gets_a_polite_answer(settings: Settings, engine: Engine) -> None:
    async with in_process_bot(settings, engine) as bot:
        blank = await bot.replies(bot.updates.private_message("   "))
        long = await bot.replies(bot.updates.private_message("why? " * 400))
        ask_nothing = await bot.replies(bot.updates.private_message("/ask"))

    assert blank == [EmptyQuestionError.user_message]
    assert len(long) == 1 and "Please ask one question in under 1,000 characters" in long[0]
    assert ask_nothing == ["Usage: /ask <question about the article>"]


async def test_a_sticker_gets_the_hint_in_private_and_when_addressed_in_a_group(settings: Settings, engine: Engine) -> None:
    async with in_process_bot(settings, engine) as bot:
        private = await bot.replies(bot.updates.private_message(None, sticker=True))
        group = await bot.replies(bot.updates.group_message(None, sticker=True))
        answer = {"message_id": 7, "date": 0, "chat": bot.updates.group_chat(), "from": bot.updates.bot_user, "text": "An answer."}
        replying = await bot.replies(bot.updates.group_message(None, sticker=True, reply_to=answer))

    assert private == [handlers.NON_TEXT_HINT]
    assert group == []  # a sticker in a group is not for the bot…
    assert replying == [handlers.NON_TEXT_HINT]  # …unless it replies to the bot


async def test_source_command_usage_and_a_citation_that_is_not_there(settings: Settings, engine: Engine) -> None:
    async with in_process_bot(settings, engine) as bot:
        no_number = await bot.replies(bot.updates.private_message("/source"))
        superscript = await bot.replies(bot.updates.private_message("/source ²"))  # str.isdigit() says it is a digit
        before_any_answer = await bot.replies(bot.updates.private_message("/source 1"))
        [answer] = await bot.replies(bot.updates.private_message(QUESTION))
        [source] = await bot.replies(bot.updates.private_message("/source 1"))
        beyond = await bot.replies(bot.updates.private_message("/source 9"))

    assert no_number == superscript == ["Usage: /source N, for citation [N] of my last answer here."]
    assert before_any_answer == ["My last answer here has no source [1]."]
    assert states(parse_telegram_html(answer))
    assert parse_telegram_html(source).startswith("Source [1] — Major Prisoner Exchange")
    assert beyond == ["My last answer here has no source [9]."]


async def test_reset_confirms_and_a_short_inline_query_says_what_to_type(settings: Settings, engine: Engine) -> None:
    async with in_process_bot(settings, engine) as bot:
        reset = await bot.replies(bot.updates.private_message("/reset"))
        [inline] = await bot.process(bot.updates.inline_query("hi"))

    assert reset == ["Done: your next question starts a new conversation."]
    assert inline.method == "answerInlineQuery" and inline.params["results"] == []
    assert inline.params["button"]["text"] == "Type a question about the article"


async def test_allowlists_admit_listed_users_anywhere_and_anyone_in_listed_chats(settings: Settings, engine: Engine) -> None:
    listed_group = -1001234567890
    async with in_process_bot(settings, engine, allowed_user_ids=[1001], allowed_chat_ids=[listed_group]) as bot:
        listed_user = await bot.replies(bot.updates.private_message("/start", user_id=1001))
        refused = await bot.replies(bot.updates.private_message("/start", user_id=2002))
        refused_again = await bot.replies(bot.updates.private_message(QUESTION, user_id=2002))
        other_group = await bot.replies(bot.updates.group_message("/ask " + QUESTION, user_id=2002, chat_id=-100999))
        in_listed_group = await bot.replies(bot.updates.group_message("/ask " + QUESTION, user_id=2002))
        [inline] = await bot.process(bot.updates.inline_query(QUESTION, user_id=2002))

    assert len(listed_user) == 1 and listed_user[0].startswith("<b>I answer questions")
    assert refused == ["Sorry, this bot only answers the people it was set up for."]
    assert refused_again == []  # one notice a minute, then silence
    assert other_group == []  # in groups, silence
    assert len(in_listed_group) == 1 and states(parse_telegram_html(in_listed_group[0]))
    assert inline.method == "answerInlineQuery" and inline.params["results"] == []
