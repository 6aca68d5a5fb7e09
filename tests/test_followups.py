"""Follow-up questions: the engine reads a message that cannot stand alone with the previous question,
and the real bot supplies that question per private chat, or from the message a group member replies to."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from telegram import Chat, Message, User

from rag import Answer, Engine
from rag.errors import LLMCircuitOpenError, LLMUnavailableError
from rag.followup import continuation_readings, needs_context
from telegram_bot.conversation import ConversationMemory
from telegram_bot.format import format_answer
from tests.conftest import OpenEngine, make_settings
from tests.openai_fake import FakeOpenAI, passages_in
from tests.telegram_html import parse_telegram_html
from tests.telegram_loopback import Harness, harness, running_bot, visible, wait_until  # noqa: F401 - harness is a fixture

ANNOUNCER = "Who announced the return of the personnel?"
WHERE_ANNOUNCED = "Where did he announce it?"
ANNOUNCEMENT = "took to social media to announce the return"
CIVILIANS = "How many civilians were exchanged?"
SOLDIERS = "and soldiers?"
PER_SIDE = "each country exchanged 270 military personnel and 120 civilians"
NATALIA = "Who is Natalia waiting for?"
WHERE_CAPTURED = "Where was he captured?"


@pytest.mark.parametrize(
    "message",
    [WHERE_ANNOUNCED, SOLDIERS, WHERE_CAPTURED, "What about Russia?", "Why?", "The date?", "Who said that?",
     "How many were exchanged there?", "But did they agree on anything?", "When was she told?"],
)
def test_messages_that_lean_on_the_previous_question(message: str) -> None:
    assert needs_context(message)


@pytest.mark.parametrize(
    "message",
    ["What did Lavrov say?", ANNOUNCER, CIVILIANS, "Natalia's son - where was he captured?",
     "When did Zelensky say he would visit?", "Who announced that the Ukrainians had returned?",
     "Is this the first exchange that involved civilians?", "Who is Natalia?", "Where did the swap take place?"],
)
def test_self_contained_questions(message: str) -> None:
    assert not needs_context(message)


@pytest.mark.parametrize(
    ("previous", "follow_up", "reading"),
    [
        (CIVILIANS, SOLDIERS, "How many soldiers were exchanged?"),
        (CIVILIANS, "and the soldiers?", "How many soldiers were exchanged?"),
        ("What did Sergei Lavrov say about Italy?", "what about Zelensky?", "What did Zelensky say about Italy?"),
        ("Where did the talks take place?", "And the exchange?", "Where did the exchange take place?"),
    ],
)
def test_an_elliptical_continuation_is_read_as_the_previous_question_about_its_phrase(
    previous: str, follow_up: str, reading: str
) -> None:
    readings = continuation_readings(previous, follow_up)
    assert reading in readings
    assert previous not in readings


@pytest.mark.parametrize("follow_up", [WHERE_ANNOUNCED, "and where did he go then?", "and what did he say?", "Why?"])
def test_a_follow_up_that_is_a_question_of_its_own_has_no_continuation_readings(follow_up: str) -> None:
    assert continuation_readings(ANNOUNCER, follow_up) == []


def test_a_self_contained_question_is_answered_the_same_after_anything(engine: Engine) -> None:
    alone = engine.answer("What did Lavrov say?")
    after = engine.answer("What did Lavrov say?", context=CIVILIANS)
    assert after.read_as is None
    assert (after.text, after.citations) == (alone.text, alone.citations)
    assert alone.citations and all("Lavrov" in c.quote for c in alone.citations)  # only what Lavrov said


def test_a_follow_up_is_searched_with_its_context(engine: Engine) -> None:
    followed = engine.answer(WHERE_CAPTURED, context=NATALIA)
    alone = engine.answer(WHERE_CAPTURED)
    assert followed.read_as == f"{NATALIA} {WHERE_CAPTURED}" and followed.question == WHERE_CAPTURED
    assert "Severodonetsk" in followed.citations[0].quote
    assert alone.read_as is None and "Severodonetsk" not in alone.text  # alone, "he" is nobody


def test_cached_answers_are_kept_apart_by_their_context(engine: Engine) -> None:
    natalia = engine.answer(WHERE_CAPTURED, context=NATALIA)
    olha = engine.answer(WHERE_CAPTURED, context="Who is Olha's son?")
    again = engine.answer(WHERE_CAPTURED, context=NATALIA)
    assert "Severodonetsk" in natalia.text and "Luhansk" in olha.text and "Severodonetsk" not in olha.text
    assert again.text == natalia.text and again.read_as == natalia.read_as


def test_context_is_ignored_when_it_is_empty_or_would_make_the_question_too_long(engine: Engine) -> None:
    limit = engine.settings.max_question_chars
    assert engine.answer(WHERE_CAPTURED, context="  ").read_as is None
    assert engine.answer(WHERE_CAPTURED, context="Natalia " * (limit // 8)).read_as is None


# -- LLM mode: the model rewrites the follow-up first -----------------------------------------------


@pytest.fixture(scope="module")
def condensing_llm() -> Iterator[FakeOpenAI]:
    def responder(request: dict) -> dict | str:
        if "response_format" not in request:  # the condense call: a plain-text question back
            return "Where did Zelensky announce the return of the personnel?"
        passages = passages_in(request)
        label = next(label for label, text in passages.items() if ANNOUNCEMENT in text)
        return {"answerable": True, "sentences": [{"text": "He announced it on social media.", "passages": [label]}]}

    server = FakeOpenAI(responder=responder).start()
    yield server
    server.stop()


@contextmanager
def engine_on(llm: FakeOpenAI, base: Path, open_engine: OpenEngine, **overrides: object) -> Iterator[Engine]:
    """An engine on the loopback model, whose requests and script start empty; no retries unless overridden."""
    llm.requests.clear()
    llm.script.clear()
    values: dict[str, object] = {
        "openai_base_url": llm.base_url, "openai_model": "fake-model", "llm_max_retries": 0,
        "llm_retry_base_delay": 0, "llm_timeout": 2.0,
    }
    engine = open_engine(make_settings(base, **(values | overrides)))
    try:
        yield engine
    finally:
        engine.close()


@pytest.fixture
def llm_engine(condensing_llm: FakeOpenAI, tmp_path: Path, open_engine: OpenEngine) -> Iterator[Engine]:
    with engine_on(condensing_llm, tmp_path, open_engine) as engine:
        yield engine


def test_llm_rewrites_a_follow_up_into_a_standalone_question(llm_engine: Engine, condensing_llm: FakeOpenAI) -> None:
    answer = llm_engine.answer(WHERE_ANNOUNCED, context=ANNOUNCER)
    condense, draft = condensing_llm.requests
    sent = condense["body"]["messages"][-1]["content"]
    assert ANNOUNCER in sent and WHERE_ANNOUNCED in sent
    assert "Where did Zelensky announce the return" in draft["body"]["messages"][-1]["content"]
    assert answer.mode == "llm" and answer.read_as == "Where did Zelensky announce the return of the personnel?"
    assert answer.question == WHERE_ANNOUNCED and ANNOUNCEMENT in answer.citations[0].quote


def test_llm_is_not_asked_to_rewrite_a_self_contained_question(llm_engine: Engine, condensing_llm: FakeOpenAI) -> None:
    llm_engine.answer("Who announced the return of the Ukrainian personnel?", context=CIVILIANS)
    [only] = condensing_llm.requests
    assert "response_format" in only["body"]  # straight to the answer


def test_dead_llm_falls_back_to_reading_the_follow_up_with_its_context(
    llm_engine: Engine, condensing_llm: FakeOpenAI
) -> None:
    condensing_llm.push("status", (500, "down"))  # the rewrite
    condensing_llm.push("status", (500, "down"))  # the answer
    answer = llm_engine.answer(WHERE_CAPTURED, context=NATALIA)
    assert answer.mode == "offline-fallback" and answer.note == LLMUnavailableError.fallback_note
    assert "Severodonetsk" in answer.citations[0].quote


def test_a_failed_rewrite_counts_towards_the_llm_breaker(
    condensing_llm: FakeOpenAI, tmp_path: Path, open_engine: OpenEngine
) -> None:
    with engine_on(condensing_llm, tmp_path, open_engine, llm_breaker_failures=1, llm_breaker_cooldown=600) as engine:
        condensing_llm.push("status", (500, "down"))  # the rewrite fails: the breaker opens
        answer = engine.answer(WHERE_CAPTURED, context=NATALIA)
    assert len(condensing_llm.requests) == 1  # the answer did not ask the model the breaker gave up on
    assert answer.mode == "offline-fallback" and answer.note == LLMCircuitOpenError.fallback_note
    assert "Severodonetsk" in answer.citations[0].quote


def test_rewrite_and_answer_share_one_time_budget(
    condensing_llm: FakeOpenAI, tmp_path: Path, open_engine: OpenEngine
) -> None:
    with engine_on(condensing_llm, tmp_path, open_engine, llm_max_retries=5, llm_timeout=0.5, llm_budget=1.0) as engine:
        for _ in range(8):
            condensing_llm.push("hang", None)  # each call outlasts the 0.5 s timeout
        answer = engine.answer(WHERE_CAPTURED, context=NATALIA)
    # A budget each would let the rewrite and the answer try twice apiece; one budget leaves room for two calls.
    assert 1 <= len(condensing_llm.requests) <= 2
    assert answer.mode == "offline-fallback" and "Severodonetsk" in answer.citations[0].quote


# -- the bot ------------------------------------------------------------------------------------------


class AnsweredLog(logging.Handler):
    """Counts the bot's ``question.answered`` lines: the bot logs one when it is done with a question."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("question.answered"):
            self.count += 1


@pytest.fixture(autouse=True)
def answered_log() -> Iterator[AnsweredLog]:
    handler = AnsweredLog()
    logger = logging.getLogger("bot")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


def ask(harness: Harness, text: str, *, chat: dict[str, Any] | None = None, user_id: int = 1001, **kwargs: Any) -> str:
    """Send one message (private unless ``chat``) and wait for its reply.

    A question is waited for until the bot has logged it as answered: the reply reaches the Bot API a moment
    before the bot notes what it answered, and a follow-up sent in that moment would find nothing to follow.
    """
    handler = next((h for h in logging.getLogger("bot").handlers if isinstance(h, AnsweredLog)), None)
    answered = handler.count if handler else 0
    before = len(harness.fake.calls_of("sendMessage"))
    chat = chat or harness.fake.private_chat(user_id)
    harness.send(harness.fake.message(text, chat=chat, user_id=user_id, **kwargs))
    reply = visible(harness.replies(before + 1)[-1])
    if handler is not None and not text.startswith("/"):
        wait_until(lambda: handler.count > answered)
    return reply


def test_private_chat_follow_up_cites_where_he_announced_it(harness: Harness) -> None:
    ask(harness, ANNOUNCER)
    reply = ask(harness, WHERE_ANNOUNCED)
    assert "social media" in reply and ANNOUNCEMENT in reply and "[1]" in reply


def test_private_chat_follow_up_needs_the_previous_question(harness: Harness) -> None:
    ask(harness, NATALIA)
    assert "Severodonetsk" in ask(harness, WHERE_CAPTURED)
    ask(harness, "/reset")
    after_reset = ask(harness, WHERE_CAPTURED)
    engine: Engine = harness.application.bot_data.engine
    assert "Severodonetsk" not in after_reset
    assert after_reset == parse_telegram_html(format_answer(engine.answer(WHERE_CAPTURED)))  # as if asked first


def test_follow_up_context_is_per_chat(harness: Harness) -> None:
    ask(harness, NATALIA, user_id=2001)
    other_chat = ask(harness, WHERE_CAPTURED, user_id=2002)
    assert "Severodonetsk" not in other_chat


def test_private_chat_and_soldiers_after_civilians_cites_270(harness: Harness) -> None:
    ask(harness, CIVILIANS)
    reply = ask(harness, SOLDIERS)
    assert "270" in reply and PER_SIDE in reply


def test_group_reply_to_the_bots_answer_carries_its_question(harness: Harness) -> None:
    group = harness.fake.group_chat()
    ask(harness, f"@ArticleAnswerBot {NATALIA}", chat=group)
    answer_message = harness.fake.bot_messages[-1]
    reply = ask(harness, WHERE_CAPTURED, chat=group, user_id=1002, reply_to=answer_message)
    assert "Severodonetsk" in reply


def test_group_reply_to_another_members_question_carries_that_question(harness: Harness) -> None:
    group = harness.fake.group_chat()
    members_question = harness.fake.message(NATALIA, chat=group, user_id=1003)["message"]
    reply = ask(harness, f"@ArticleAnswerBot {WHERE_CAPTURED}", chat=group, user_id=1004, reply_to=members_question)
    assert "Severodonetsk" in reply


def test_follow_up_window_can_be_turned_off(settings, engine: Engine) -> None:
    with running_bot(settings, engine, followup_window_seconds=0) as harness:
        ask(harness, NATALIA)
        assert "Severodonetsk" not in ask(harness, WHERE_CAPTURED)


def private_message(chat_id: int, message_id: int, text: str) -> Message:
    return Message(message_id, datetime.now(timezone.utc), Chat(chat_id, Chat.PRIVATE), from_user=User(chat_id, "Ann", False), text=text)


def test_private_context_expires_after_the_window() -> None:
    now = [1000.0]
    memory = ConversationMemory(window_seconds=300, clock=lambda: now[0])
    assert memory.context_for(private_message(7, 1, NATALIA), NATALIA, "ArticleAnswerBot", 1) is None
    now[0] += 299
    follow_up = private_message(7, 2, WHERE_CAPTURED)
    assert memory.context_for(follow_up, WHERE_CAPTURED, "ArticleAnswerBot", 1) == NATALIA
    memory.remember(follow_up, Answer(WHERE_CAPTURED, "…", [], False, "offline", 1.0, read_as="both"), [])
    now[0] += 301
    assert memory.context_for(private_message(7, 3, "Why?"), "Why?", "ArticleAnswerBot", 1) is None


def test_a_quick_second_message_follows_the_first_before_it_is_answered() -> None:
    memory = ConversationMemory(window_seconds=300)
    first = private_message(7, 1, NATALIA)
    assert memory.context_for(first, NATALIA, "ArticleAnswerBot", 1) is None
    second = private_message(7, 2, WHERE_CAPTURED)
    assert memory.context_for(second, WHERE_CAPTURED, "ArticleAnswerBot", 1) == NATALIA  # the first is not answered yet
    memory.remember(first, Answer(NATALIA, "…", [], False, "offline", 1.0), [])  # answered late
    third = private_message(7, 3, "When?")
    assert memory.context_for(third, "When?", "ArticleAnswerBot", 1) == WHERE_CAPTURED  # the late answer did not win


def test_a_reply_to_any_part_of_a_long_answer_carries_its_question() -> None:
    memory = ConversationMemory(window_seconds=300)
    group, bot, ann = Chat(-100, Chat.GROUP), User(1, "ArticleAnswerBot", True), User(7, "Ann", False)
    asked = Message(1, datetime.now(timezone.utc), group, from_user=ann, text=NATALIA)
    parts = [Message(101 + i, datetime.now(timezone.utc), group, from_user=bot, text="…") for i in range(2)]
    memory.remember(asked, Answer(NATALIA, "…", [], False, "offline", 1.0), parts)
    for part in parts:
        reply = Message(200, datetime.now(timezone.utc), group, from_user=ann, text="Why?", reply_to_message=part)
        assert memory.context_for(reply, "Why?", "ArticleAnswerBot", 1) == NATALIA


def test_a_group_keeps_only_its_most_recently_used_answers() -> None:
    memory = ConversationMemory(window_seconds=300, answers_kept=2)
    group, bot = Chat(-100, Chat.GROUP), User(1, "ArticleAnswerBot", True)

    def answer(message_id: int, question: str) -> Message:
        asked = Message(message_id, datetime.now(timezone.utc), group, from_user=User(7, "Ann", False), text=question)
        sent = Message(message_id + 100, datetime.now(timezone.utc), group, from_user=bot, text="…")
        memory.remember(asked, Answer(question, "…", [], False, "offline", 1.0), [sent])
        return sent

    def reply_to(sent: Message) -> str | None:
        ann = User(7, "Ann", False)
        reply = Message(999, datetime.now(timezone.utc), group, from_user=ann, text="Why?", reply_to_message=sent)
        return memory.context_for(reply, "Why?", "ArticleAnswerBot", 1)

    first, second = answer(1, NATALIA), answer(2, WHERE_CAPTURED)
    assert reply_to(first) == NATALIA  # a reply keeps the first answer in use
    third = answer(3, "How many prisoners were exchanged?")
    assert reply_to(second) is None
    assert reply_to(first) == NATALIA and reply_to(third) == "How many prisoners were exchanged?"
