"""End to end: the real python-telegram-bot Application, polling a loopback Bot API.

Fixtures ``settings`` and ``engine`` (one offline engine over a temp copy of the
corpus) come from tests/conftest.py.  Each test starts ``telegram_bot.transport.serve`` (``run_polling``, exactly as in production, post_init and
all) in a thread against ``FakeBotAPI``, feeds it updates as Telegram would, and asserts
on the Bot API calls the bot made.  Waits are on conditions with time-outs, not sleeps.
"""

from __future__ import annotations

import asyncio
import logging
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from telegram import Message, Update
from telegram.ext import Application

import bot
from rag import Engine, Settings
from telegram_bot import logs, policy, transport
from telegram_bot.format import format_answer
from telegram_bot.journal import JOURNAL_FILE
from tests.conftest import free_port, make_settings
from tests.openai_fake import FakeOpenAI
from tests.telegram_fake import Call, FakeBotAPI, parse_telegram_html

REPO = Path(__file__).resolve().parents[1]
GROUP = -1001234567890
QUESTION = "How many people were exchanged?"


@dataclass
class Harness:
    fake: FakeBotAPI
    application: Application

    def send(self, update: dict[str, Any]) -> dict[str, Any]:
        """Deliver an update; returns it (with its update_id)."""
        update_id = self.fake.enqueue(update)
        return {"update_id": update_id, **update}

    def replies(self, count: int = 1, **kwargs: Any) -> list[Call]:
        return self.fake.wait_for_calls("sendMessage", count, timeout=15, **kwargs)


@contextmanager
def running_bot(settings: Settings, engine: Engine, **overrides: Any) -> Iterator[Harness]:
    """The real Application, via ``telegram_bot.transport.serve``, polling a fresh fake until the block ends."""
    with FakeBotAPI() as fake:
        settings = settings.model_copy(
            update={"telegram_bot_token": SecretStr(fake.token), "telegram_base_url": fake.base_url, **overrides}
        )
        application = bot.build_application(settings, engine=engine)
        loop = asyncio.new_event_loop()
        failures: list[BaseException] = []

        def serve() -> None:
            asyncio.set_event_loop(loop)
            try:
                transport.serve(application, settings, stop_signals=None)  # signals belong to the main thread
            except BaseException as exc:  # surfaced in the test below
                failures.append(exc)

        thread = threading.Thread(target=serve, name="bot-under-test", daemon=True)
        thread.start()
        try:
            ready = {"getUpdates", "setWebhook"}  # polling started, or the webhook registered
            fake.wait_for(lambda: any(c.method in ready for c in fake.calls) or bool(failures), timeout=30)
            assert not failures, failures
            yield Harness(fake, application)
        finally:
            loop.call_soon_threadsafe(application.stop_running)
            thread.join(timeout=15)
        assert not thread.is_alive(), "the bot did not stop"
        assert not failures, failures


@pytest.fixture
def harness(settings: Settings, engine: Engine) -> Iterator[Harness]:
    with running_bot(settings, engine) as h:
        yield h


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def cited(call: Call) -> bool:
    """A grounded answer: [n] markers and the Sources block (the example question is answerable)."""
    text = visible(call)
    return "[1]" in text and "\nSources — " in text


def visible(call: Call) -> str:
    text = call.params["text"]
    return parse_telegram_html(text) if call.params.get("parse_mode") == "HTML" else text


# -- private chats ------------------------------------------------------------------------


def test_private_question_gets_a_cited_reply_with_source_buttons(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    harness.send(harness.fake.private_message(QUESTION))

    [reply] = harness.replies()

    assert reply.params["chat_id"] == 1001 and reply.params["parse_mode"] == "HTML"
    assert "reply_parameters" not in reply.params  # private chats need no quote
    text = visible(reply)
    # Exactly the engine's answer, formatted: the adapter adds nothing and loses nothing.
    assert reply.params["text"] == format_answer(harness.application.bot_data["live"].current.answer(QUESTION))
    assert "[1]" in text
    assert "Sources — Major Prisoner Exchange" in text
    buttons = [b for row in reply.params["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons[0]["text"] == "Source [1]" and buttons[0]["callback_data"].startswith("src|1|prisoner-exchange:")
    [commands] = harness.fake.calls_of("setMyCommands")  # registered at start-up
    assert [c["command"] for c in commands.params["commands"]] == ["start", "help", "ask", "source", "articles", "reset", "about"]
    # The log line follows the send; wait for it rather than racing the bot's thread.
    wait_until(lambda: "question.answered chat_type=private" in caplog.text)
    assert "mode=offline grounded=True citations=" in caplog.text


def test_logging_never_shows_the_token(settings: Settings, engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    root, httpx_level = logging.getLogger(), logging.getLogger("httpx").level
    formatters = {handler: handler.formatter for handler in root.handlers}
    try:
        secret_settings = settings.model_copy(update={"log_level": "DEBUG", "openai_api_key": SecretStr("sk-never-shown")})
        logs.configure_logging(secret_settings, FakeBotAPI.token)  # what run() does before serving
        with running_bot(settings, engine) as h:
            h.send(h.fake.private_message(QUESTION))
            h.replies()
        text = caplog.handler.format  # the capture handler formats with the redacting formatter
        lines = [text(record) for record in caplog.records]
    finally:
        logging.getLogger("httpx").setLevel(httpx_level)
        for handler, formatter in formatters.items():
            handler.setFormatter(formatter)
    assert any("sendMessage" in line for line in lines)  # PTB logged its calls at DEBUG…
    assert not any(FakeBotAPI.token in line for line in lines)  # …but never the token
    assert any("<secret>" in line for line in lines)


def test_a_token_pasted_with_spaces_is_used_without_them(settings: Settings, engine: Engine) -> None:
    with running_bot(settings, engine, telegram_bot_token=SecretStr(f"  {FakeBotAPI.token}\n")) as h:
        h.send(h.fake.private_message(QUESTION))
        [reply] = h.replies()
    assert cited(reply)


def test_question_full_of_markup_comes_back_escaped(harness: Harness) -> None:
    question = "<b>How many</b> people & civilians _*[were]* exchanged? </i><script>"
    harness.send(harness.fake.private_message(question))
    harness.send(harness.fake.inline_query(question))

    [reply] = harness.replies()
    [inline] = harness.fake.wait_for_calls("answerInlineQuery")

    assert reply.params["parse_mode"] == "HTML"  # accepted as HTML: no plain-text fallback needed
    assert cited(reply)
    content = inline.params["results"][0]["input_message_content"]
    assert "&lt;b&gt;How many&lt;/b&gt; people &amp; civilians _*[were]* exchanged? &lt;/i&gt;&lt;script&gt;" in content["message_text"]
    assert parse_telegram_html(content["message_text"]).startswith(f"❓ {question}")


def test_start_help_about_and_unknown_commands(harness: Harness) -> None:
    for text in ["/start", "/help", "/about", "/nonsense"]:
        harness.send(harness.fake.private_message(text))

    replies = {c.params["text"].split()[0]: visible(c) for c in harness.replies(4)}

    start = next(t for t in replies.values() if t.startswith("I answer questions"))
    assert "Major Prisoner Exchange Marks Diplomatic Progress in Ukraine-Russia Relations (2025-05-23)" in start
    assert "How many prisoners were exchanged?" in start  # example questions from the front matter
    help_text = next(t for t in replies.values() if t.startswith("Private chat"))
    assert "Privacy mode" in help_text and "/ask@ArticleAnswerBot" in help_text and "/setprivacy" in help_text
    about = next(t for t in replies.values() if t.startswith("Mode"))
    assert "offline" in about and "21 passages from 1 article" in about
    assert "Other languages: multilingual-e5-small-q4" in about
    assert any(t == "I don't know that command. See /help." for t in replies.values())


def test_sticker_in_private_gets_a_hint_but_not_in_a_group(harness: Harness) -> None:
    harness.send(harness.fake.group_message(None, sticker=True))
    harness.send(harness.fake.private_message(None, sticker=True))

    [reply] = harness.replies()
    assert reply.params["text"] == bot.NON_TEXT_HINT and reply.params["chat_id"] == 1001
    assert not [c for c in harness.fake.quiet_for(0.3) if c.method == "sendMessage"]

    # In a group, a sticker replying to the bot is addressed to it: it gets the hint too.
    chat = harness.fake.group_chat()
    bot_message = {"message_id": 7, "date": 0, "chat": chat, "from": harness.fake.bot_user, "text": "An answer."}
    harness.send(harness.fake.group_message(None, sticker=True, reply_to=bot_message))
    [_, hint] = harness.replies(2)
    assert hint.params["chat_id"] == GROUP and hint.params["text"] == bot.NON_TEXT_HINT


def test_ukrainian_question_offline_gets_the_english_sentence_and_a_note_in_ukrainian(harness: Harness) -> None:
    harness.send(harness.fake.private_message("Скільки людей обміняли загалом?"))
    [reply] = harness.replies()
    assert cited(reply) and "390" in visible(reply)
    assert "<i>Статтю написано англійською" in reply.params["text"]  # the note, in italics


def test_too_long_question_is_refused_politely(harness: Harness) -> None:
    harness.send(harness.fake.private_message("why? " * 400))
    [reply] = harness.replies()
    assert "Please ask one question in under 1,000 characters" in reply.params["text"]


def test_llm_mode_shows_the_model_and_a_dead_llm_falls_back_with_a_note(tmp_path: Path) -> None:
    llm_server = FakeOpenAI(hang_seconds=1.0).start()
    llm_settings = make_settings(
        tmp_path, openai_base_url=llm_server.base_url, openai_api_key="sk-test-not-a-key", openai_model="fake-model",
        llm_timeout=3.0, llm_max_retries=0,
    )
    llm_engine = Engine.open(llm_settings)
    try:
        with running_bot(llm_settings, llm_engine) as h:
            h.send(h.fake.private_message("/about"))
            [about] = h.replies()
            llm_server.push("status", (500, "the model is down"))
            h.send(h.fake.private_message(QUESTION))
            [_, fallback] = h.replies(2)
            llm_server.push("hang")  # a slow model: the user sees "typing…" in the asking topic meanwhile
            h.send(h.fake.group_message(f"@ArticleAnswerBot {QUESTION}", forum=True, thread_id=77))
            [_, _, slow] = h.replies(3)
    finally:
        llm_engine.close()
        llm_server.stop()
    assert "language model (fake-model)" in visible(about)
    assert "<i>The language model did not answer" in fallback.params["text"]  # the note, in italics
    assert cited(fallback)  # still the cited offline answer
    assert "sk-test-not-a-key" not in json.dumps([c.params for c in h.fake.calls])
    # Only the slow answer's topic: whether an offline answer outlasts the typing delay is not a fact to assert
    # (the reader's first answer also loads its model).
    [typing] = [c for c in h.fake.calls_of("sendChatAction") if c.params.get("message_thread_id") == 77]
    assert typing.params["action"] == "typing" and typing.params["message_thread_id"] == 77
    assert typing.at < slow.at and slow.params["message_thread_id"] == 77 and cited(slow)


# -- groups --------------------------------------------------------------------------------


def test_group_message_not_addressed_to_the_bot_gets_no_reply(harness: Harness) -> None:
    unaddressed = harness.send(harness.fake.group_message(QUESTION))
    other_bot = harness.send(harness.fake.group_message(f"/ask@SomeOtherBot {QUESTION}"))
    addressed = harness.send(harness.fake.group_message(f"/ask {QUESTION}", user_id=1002))

    [reply] = harness.replies()
    assert reply.params["reply_parameters"]["message_id"] == addressed["message"]["message_id"]
    later = harness.fake.quiet_for(0.4)
    assert not [c for c in later if c.method in {"sendMessage", "sendChatAction"}]
    assert unaddressed and other_bot  # delivered, and deliberately ignored


def test_mention_in_a_forum_topic_replies_in_that_topic(harness: Harness) -> None:
    asked = harness.send(
        harness.fake.group_message("Hey @ArticleAnswerBot, how many civilians were exchanged?", forum=True, thread_id=77)
    )

    [reply] = harness.replies()

    assert reply.params["chat_id"] == GROUP
    assert reply.params["message_thread_id"] == 77
    assert reply.params["reply_parameters"]["message_id"] == asked["message"]["message_id"]
    assert "120 civilians" in visible(reply) or "civilians" in visible(reply)


def test_reply_to_the_bot_is_answered_without_a_mention(harness: Harness) -> None:
    harness.send(harness.fake.group_message("@ArticleAnswerBot where did the swap take place?"))
    harness.replies()
    bot_message = harness.fake.bot_messages[-1]

    follow_up = harness.send(harness.fake.group_message(QUESTION, reply_to=bot_message))

    replies = harness.replies(2)
    assert replies[1].params["reply_parameters"]["message_id"] == follow_up["message"]["message_id"]
    assert cited(replies[1])


def test_ask_with_bot_name_in_a_group_replies_to_the_asker(harness: Harness) -> None:
    asked = harness.send(harness.fake.group_message(f"/ask@ArticleAnswerBot {QUESTION}", forum=True, thread_id=5))
    [reply] = harness.replies()
    assert reply.params["reply_parameters"]["message_id"] == asked["message"]["message_id"]
    assert reply.params["message_thread_id"] == 5
    assert cited(reply)


def test_a_message_sent_on_behalf_of_a_chat_is_answered(harness: Harness) -> None:
    update = harness.fake.group_message(f"@ArticleAnswerBot {QUESTION}")
    del update["message"]["from"]  # channel-linked groups and anonymous admins: sender_chat, no from
    update["message"]["sender_chat"] = {"id": -1009876543210, "type": "channel", "title": "News channel"}
    harness.send(update)

    [reply] = harness.replies()

    assert reply.params["chat_id"] == GROUP and cited(reply)


def test_a_photo_whose_caption_asks_the_bot_gets_the_answer(harness: Harness) -> None:
    harness.send(harness.fake.group_message(None, photo_caption=f"@ArticleAnswerBot {QUESTION}"))
    harness.send(harness.fake.group_message(None, photo_caption="our holiday"))  # not for the bot
    harness.send(harness.fake.private_message(None, photo_caption=QUESTION))

    replies = harness.replies(2)

    assert {c.params["chat_id"] for c in replies} == {GROUP, 1001} and all(cited(c) for c in replies)
    assert not [c for c in harness.fake.quiet_for(0.3) if c.method == "sendMessage"]


# -- inline mode and sources -----------------------------------------------------------------


def test_inline_query_offers_the_cited_answer(harness: Harness) -> None:
    harness.send(harness.fake.inline_query(QUESTION))
    [call] = harness.fake.wait_for_calls("answerInlineQuery")

    [result] = call.params["results"]
    assert result["type"] == "article" and result["title"] == QUESTION
    content = result["input_message_content"]
    assert content["parse_mode"] == "HTML"
    text = parse_telegram_html(content["message_text"])
    assert text.startswith(f"❓ {QUESTION}") and "[1]" in text and "Sources" in text


def test_inline_answer_refused_as_html_is_offered_as_plain_text(harness: Harness) -> None:
    harness.fake.fail_next("answerInlineQuery")  # 400 Bad Request: can't parse entities
    harness.send(harness.fake.inline_query(QUESTION))

    [call] = harness.fake.wait_for_calls("answerInlineQuery")

    content = call.params["results"][0]["input_message_content"]
    assert "parse_mode" not in content and content["message_text"].startswith(f"❓ {QUESTION}")
    assert "<b>" not in content["message_text"] and "Sources" in content["message_text"]


def test_source_button_and_source_command_show_the_passage_with_neighbours(harness: Harness) -> None:
    harness.send(harness.fake.private_message(QUESTION))
    [answer] = harness.replies()
    bot_message = harness.fake.bot_messages[-1]
    button = bot_message["reply_markup"]["inline_keyboard"][0][0]

    harness.send(harness.fake.callback_query(bot_message, button["callback_data"]))
    harness.send(harness.fake.private_message("/source 1"))

    harness.fake.wait_for_calls("answerCallbackQuery")
    sources = harness.replies(3)[1:]
    passage_id = button["callback_data"].split("|", 2)[2]
    cited = harness.application.bot_data["live"].current.passage_with_context(passage_id, 0)[0].text
    for reply in sources:
        assert reply.params["parse_mode"] == "HTML"
        assert f"<b>{cited}</b>" in reply.params["text"]
        text = visible(reply)
        assert text.startswith("Source [1] — Major Prisoner Exchange")
        assert len(text) > len(cited) + 100  # the neighbouring sentences are there too
    harness.send(harness.fake.private_message("/source 9"))
    assert harness.replies(4)[3].params["text"] == "My last answer here has no source [9]."
    harness.send(harness.fake.private_message("/source ²"))  # str.isdigit() says it is a digit
    assert harness.replies(5)[4].params["text"].startswith("Usage: /source N")
    harness.send(harness.fake.callback_query(bot_message, "no-longer-a-button"))
    stale = harness.fake.wait_for_calls("answerCallbackQuery", 2)[1]
    assert stale.params["text"] == "This button no longer works: ask the question again."
    assert answer


# -- access and fairness ----------------------------------------------------------------------


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

    assert apology.params["text"] == bot.APOLOGY
    assert "update.failed" in caplog.text and "chat_type=private" in caplog.text


# -- start-up --------------------------------------------------------------------------------


def post_update(url: str, update: dict[str, Any] | bytes, secret: str | None) -> int:
    """POST an update (or a raw body) to the bot's webhook as Telegram would; the HTTP status."""
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    body = update if isinstance(update, bytes) else json.dumps(update).encode()
    request = urllib.request.Request(url, data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


def test_webhook_mode_registers_the_url_checks_the_secret_and_journals_before_200(settings: Settings, engine: Engine) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/hook"
    overrides = {"webhook_url": url, "webhook_listen": "127.0.0.1", "webhook_port": port,
                 "webhook_secret": SecretStr("s3cret-token")}
    with running_bot(settings, engine, **overrides) as h:
        [registered] = h.fake.calls_of("setWebhook")
        assert registered.params["url"] == url and registered.params["secret_token"] == "s3cret-token"
        assert registered.params["drop_pending_updates"] is True
        update = h.fake.private_message(QUESTION)
        deadline = time.monotonic() + 10
        while True:  # the server starts listening just after setWebhook
            try:
                assert post_update(url, {"update_id": 1, **update}, secret=None) == 403  # forged: refused
                break
            except urllib.error.URLError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert post_update(url, {"update_id": 2, **update}, secret="s3cret-token") == 200
        with sqlite3.connect(settings.data_dir / JOURNAL_FILE) as journal:  # written before the 200
            assert journal.execute("SELECT update_id FROM updates").fetchall() == [(2,)]
        [reply] = h.replies()
        assert post_update(url, {"update_id": 2, **update}, secret="s3cret-token") == 200  # Telegram retried
        assert post_update(url, b"{not json", secret="s3cret-token") == 400
        assert post_update(url, {"update_id": 3, "message": {"chat": "x"}}, secret="s3cret-token") == 400
        assert not [c for c in h.fake.quiet_for(0.5) if c.method == "sendMessage"]  # the retry is not answered again
    assert cited(reply)
    assert not h.fake.calls_of("getUpdates")


@pytest.fixture(scope="module")
def start_failures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, subprocess.CompletedProcess[str]]:
    """``python bot.py`` with a bad configuration, three ways, run side by side (imports are slow)."""
    base = tmp_path_factory.mktemp("start")
    (base / "empty").mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "OPENAI_", "WEBHOOK_", "CORPUS_", "DATA_"))}
    env.update(CORPUS_DIR=str(REPO / "corpus"), DATA_DIR=str(base / "data"))
    with FakeBotAPI() as fake:
        configs = {
            "missing token": {},
            "rejected token": {"TELEGRAM_BOT_TOKEN": "42:rejected-token", "TELEGRAM_BASE_URL": fake.base_url},
            "empty corpus": {"TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_BASE_URL": fake.base_url,
                             "CORPUS_DIR": str(base / "empty")},
        }
        processes = {
            name: subprocess.Popen([sys.executable, str(REPO / "bot.py")], cwd=base, env={**env, **extra},
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for name, extra in configs.items()
        }
        results = {}
        for name, process in processes.items():
            stdout, stderr = process.communicate(timeout=90)
            results[name] = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    return results


def test_missing_token_exits_2_with_one_line_about_botfather(start_failures: dict) -> None:
    result = start_failures["missing token"]
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()  # one line, so no traceback
    assert "TELEGRAM_BOT_TOKEN" in line and "@BotFather" in line and "/newbot" in line


def test_rejected_token_exits_2_without_printing_the_token(start_failures: dict) -> None:
    result = start_failures["rejected token"]
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("Telegram refused TELEGRAM_BOT_TOKEN")
    assert "42:rejected-token" not in result.stderr + result.stdout


def test_unusable_corpus_exits_1_with_the_engine_message(start_failures: dict) -> None:
    result = start_failures["empty corpus"]
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("Cannot start: The article collection is not available")


# -- pure helpers -----------------------------------------------------------------------------


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


def test_base_urls_accept_a_host_or_a_bot_path() -> None:
    assert transport.base_urls("http://localhost:8081") == ("http://localhost:8081/bot", "http://localhost:8081/file/bot")
    assert transport.base_urls("http://h/bot/") == ("http://h/bot", "http://h/file/bot")


def test_addressed_question_strips_the_mention() -> None:
    fake = FakeBotAPI()
    def message(update: dict[str, Any]) -> Message:
        return Update.de_json({"update_id": 1, **update}, None).message

    mention = message(fake.group_message("@articleanswerbot: how many?"))
    assert policy.addressed_question(mention, "ArticleAnswerBot", fake.bot_id) == "how many?"
    middle = message(fake.group_message("so @ArticleAnswerBot how many?"))
    assert policy.addressed_question(middle, "ArticleAnswerBot", fake.bot_id) == "so how many?"
    assert policy.addressed_question(message(fake.group_message("how many?")), "ArticleAnswerBot", fake.bot_id) is None
    email = message(fake.group_message("mail x@ArticleAnswerBot.com"))
    assert policy.addressed_question(email, "ArticleAnswerBot", fake.bot_id) is None
