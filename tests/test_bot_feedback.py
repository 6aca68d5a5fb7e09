"""End to end through the loopback Bot API: 👍/👎 under every answer, votes acknowledged with a notice (never a
message), Source buttons whatever the article's file name, /privacy, /stats, and a question log that never holds
who asked.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

from telegram import Update

from newsroom.log import LOG_FILE, LogEntry, QuestionLog, question_log_path
from rag import Engine, Settings
from telegram_bot.buttons import MAX_CALLBACK_BYTES
from telegram_bot.handlers import VOTE_NOTICES
from telegram_bot.questions import answer_id, answer_id_key
from tests.conftest import EUROVISION, OpenEngine, make_settings
from tests.telegram_fake import Call, FakeBotAPI
from tests.telegram_loopback import QUESTION, Harness, cited, harness, running_bot, visible  # noqa: F401 - harness is a fixture

NOT_IN_ARTICLE = "What did the negotiators eat for lunch?"


def logged(settings: Settings) -> list[LogEntry]:
    """The question log as the newsroom's report reads it, oldest first."""
    log = QuestionLog.open(question_log_path(settings.data_dir))
    try:
        return log.entries()
    finally:
        log.close()


def keyboard(message: dict[str, Any]) -> list[list[dict[str, Any]]]:
    return message["reply_markup"]["inline_keyboard"]


def votes_of(message: dict[str, Any]) -> dict[str, str]:
    """👍 and 👎 → their callback_data, from the last row of a message's keyboard."""
    return {button["text"]: button["callback_data"] for button in keyboard(message)[-1]}


def press(h: Harness, data: str, *, user_id: int = 1001, message: dict[str, Any] | None = None) -> Call:
    """Press a button as ``user_id``; on ``message``, or on an inline-sent one when None. The acknowledgement."""
    before = len(h.fake.calls_of("answerCallbackQuery"))
    if message is not None:
        h.send(h.fake.callback_query(message, data, user_id=user_id))
    else:  # a message sent through inline mode: Telegram names it, the bot cannot reply under it
        query = {"id": f"cb{h.fake.new_message_id()}", "from": h.fake.user(user_id), "chat_instance": "ci-2",
                 "inline_message_id": "AAQAinline", "data": data}
        h.send({"callback_query": query})
    return h.fake.wait_for_calls("answerCallbackQuery", before + 1)[-1]


def test_votes_on_private_and_group_answers_are_acknowledged_one_per_reader(harness: Harness) -> None:
    h = harness
    h.send(h.fake.private_message(QUESTION))
    h.replies(1)
    private_answer = h.fake.bot_messages[-1]
    h.send(h.fake.group_message(f"/ask {NOT_IN_ARTICLE}"))
    h.replies(2)
    group_answer = h.fake.bot_messages[-1]

    private_votes, group_votes = votes_of(private_answer), votes_of(group_answer)
    first = press(h, private_votes["👍"], message=private_answer)
    changed = press(h, private_votes["👎"], message=private_answer)  # the same reader changes their mind
    other = press(h, private_votes["👍"], user_id=1002, message=private_answer)
    in_group = press(h, group_votes["👎"], user_id=1003, message=group_answer)
    unknown = press(h, "vote|0123456789abcdef|1", message=private_answer)  # pruned, or never logged

    assert [c.params["text"] for c in (first, changed, other, in_group, unknown)] == [
        VOTE_NOTICES["recorded"], VOTE_NOTICES["changed"], VOTE_NOTICES["recorded"], VOTE_NOTICES["recorded"],
        VOTE_NOTICES["unknown"],
    ]
    assert not any(c.params.get("show_alert") for c in (first, changed, other, in_group, unknown))
    h.fake.quiet_for(0.5)
    assert len(h.fake.calls_of("sendMessage")) == 2  # the two answers: a vote sends no message
    private_entry, group_entry = logged(h.application.bot_data.settings)
    assert (private_entry.up, private_entry.down) == (1, 1)  # one reader's 👍 became 👎; another's 👍
    assert (group_entry.up, group_entry.down) == (0, 1)
    assert private_entry.question.outcome == "answered" and private_entry.question.chat_type == "private"
    assert private_entry.question.passage_ids and private_entry.question.article == "prisoner-exchange"
    assert group_entry.question.outcome == "refused" and group_entry.question.chat_type == "supergroup"
    assert group_entry.question.embedding is not None  # what the report groups unanswered questions by


def test_an_inline_answer_carries_the_buttons_and_its_votes_count(harness: Harness) -> None:
    h = harness
    h.send(h.fake.inline_query(QUESTION))
    [call] = h.fake.wait_for_calls("answerInlineQuery")
    [result] = call.params["results"]
    rows = result["reply_markup"]["inline_keyboard"]
    assert rows[0][0]["text"] == "Source [1]" and [b["text"] for b in rows[-1]] == ["👍", "👎"]

    vote = press(h, rows[-1][0]["callback_data"])
    source = press(h, rows[0][0]["callback_data"])

    assert vote.params["text"] == VOTE_NOTICES["recorded"]
    cited_text = h.application.bot_data.engine.answer(QUESTION).citations[0].quote
    assert source.params["show_alert"] and source.params["text"][:40] == cited_text[:40]
    [entry] = logged(h.application.bot_data.settings)
    assert entry.question.chat_type == "inline" and entry.question.question == QUESTION and entry.up == 1


def test_inline_answers_are_logged_when_sent_not_as_the_reader_types(harness: Harness) -> None:
    h = harness
    for typed in ("How many people", QUESTION):  # Telegram asks again as the reader types
        h.send(h.fake.inline_query(typed))
    calls = h.fake.wait_for_calls("answerInlineQuery", 2)
    assert logged(h.application.bot_data.settings) == []  # previews are not questions
    # The two are answered side by side, in either order: the reader sends the full question's result.
    [chosen] = next(c.params["results"] for c in calls if c.params["results"][0]["title"] == QUESTION)
    h.send(h.fake.chosen_inline_result(chosen["id"], QUESTION))
    h.fake.wait_for(lambda: len(logged(h.application.bot_data.settings)) == 1)
    [entry] = logged(h.application.bot_data.settings)
    assert entry.question.question == QUESTION and entry.question.chat_type == "inline"


def test_a_long_article_file_name_keeps_every_button_within_64_bytes(tmp_path: Path, open_engine: OpenEngine) -> None:
    settings = make_settings(tmp_path)
    long_name = "basel-hosts-the-eurovision-song-contest-final-" * 4 + "and-the-city-celebrates.md"  # 210 bytes
    (settings.corpus_dir / long_name).write_text(EUROVISION, encoding="utf-8")
    engine = open_engine(settings)
    try:
        with running_bot(settings, engine) as h:
            h.send(h.fake.private_message("Which ballad won the contest?"))
            [reply] = h.replies()
            answer = h.fake.bot_messages[-1]
            buttons = [button for row in keyboard(answer) for button in row]
            h.send(h.fake.callback_query(answer, buttons[0]["callback_data"]))
            [_, source] = h.replies(2)
        cited_id = engine.answer("Which ballad won the contest?").citations[0].passage_id
    finally:
        engine.close()
    assert len(f"src|1|{cited_id}".encode()) > MAX_CALLBACK_BYTES  # as the button was
    assert cited(reply, "Wasted Love")
    assert buttons[0]["text"] == "Source [1]"  # before short keys, this button was left out
    assert all(len(b["callback_data"].encode()) <= MAX_CALLBACK_BYTES for b in buttons)
    assert visible(source).startswith("Source [1] — Basel Hosts the Eurovision Final") and "Wasted Love" in visible(source)


def test_privacy_and_about_say_what_is_kept_and_a_log_turned_off_keeps_nothing(settings: Settings, engine: Engine) -> None:
    with running_bot(settings, engine) as h:
        h.send(h.fake.private_message("/privacy"))
        [privacy] = h.replies(1)
        h.send(h.fake.private_message("/about"))
        privacy, about = (visible(c) for c in h.replies(2))
    with running_bot(settings, engine, question_log_days=0) as off:
        off.send(off.fake.private_message(QUESTION))
        [answer] = off.replies(1)
        off.send(off.fake.private_message("/privacy"))
        [_, privacy_off] = off.replies(2)
    assert "30 days" in privacy and "never keep in it: your user id, name, username" in privacy
    assert "kept for 30 days, never who asked" in about and "/privacy" in about
    assert cited(answer) and all(b["text"].startswith("Source") for row in keyboard(off.fake.bot_messages[0]) for b in row)
    assert "keeps no log of the questions" in visible(privacy_off)
    assert not (settings.data_dir / LOG_FILE).exists()  # turning it off deleted the log kept before


def test_stats_gives_admins_the_summary_and_others_a_polite_no(settings: Settings, engine: Engine) -> None:
    with running_bot(settings, engine, admin_user_ids=[1001]) as h:
        h.send(h.fake.private_message(QUESTION, user_id=1002))
        h.send(h.fake.private_message(NOT_IN_ARTICLE, user_id=1003))
        h.replies(2)
        h.fake.wait_for(lambda: len(logged(settings)) == 2)  # written while the replies went out
        h.send(h.fake.private_message("/stats", user_id=1002))
        [*_, refusal] = h.replies(3)
        h.send(h.fake.private_message("/stats"))
        [*_, summary] = h.replies(4)
        h.send(h.fake.group_message("/stats"))  # an admin in a group: the summary would show readers' questions there
        [*_, in_group] = h.replies(5)
    assert refusal.params["text"] == "Sorry, /stats is only for the people who run this bot."
    assert in_group.params["text"].startswith("Please ask /stats in a private chat") and NOT_IN_ARTICLE not in visible(in_group)
    text = visible(summary)
    assert "2 questions" in text and "Answered 1 (50%), refused 1 (50%)" in text
    assert NOT_IN_ARTICLE in text  # the most asked question the article does not answer


def identity_bytes(value: int | str) -> list[bytes]:
    """How an id or a name could sit in a file: as text, or as the big-endian integer SQLite writes."""
    if isinstance(value, str):
        return [value.encode(), value.encode("utf-16-le")]
    return [str(value).encode(), struct.pack(">q", value), struct.pack(">q", value).lstrip(b"\0" if value > 0 else b"\xff")]


def test_the_question_log_never_holds_an_id_or_a_name(settings: Settings, engine: Engine) -> None:
    user_id, group_id = 918273645, -1005550001234
    names = ["Zebulon", "Quillfeather", "zebulon_reads", "Quiet Readers Club"]

    def as_reader(update: dict[str, Any]) -> dict[str, Any]:
        sender = {"id": user_id, "is_bot": False, "first_name": names[0], "last_name": names[1], "username": names[2]}
        body = update.get("message") or update.get("inline_query") or update.get("chosen_inline_result")
        body["from"] = sender
        if "chat" in body:
            body["chat"] = ({"id": group_id, "type": "supergroup", "title": names[3]} if body["chat"]["type"] != "private"
                            else {"id": user_id, "type": "private", "first_name": names[0], "username": names[2]})
        return update

    log_files = [settings.data_dir / f"{LOG_FILE}{suffix}" for suffix in ("", "-wal", "-shm")]

    def contents() -> bytes:
        return b"".join(path.read_bytes() for path in log_files if path.exists())

    with running_bot(settings, engine) as h:
        h.send(as_reader(h.fake.private_message(QUESTION)))
        h.replies(1)  # the first answer is the one voted on below
        h.send(as_reader(h.fake.group_message(f"/ask {NOT_IN_ARTICLE}")))
        h.send(as_reader(h.fake.private_message("why? " * 400)))  # too long: logged as an error
        h.send(as_reader(h.fake.inline_query(QUESTION)))
        h.replies(3)
        [offered] = h.fake.wait_for_calls("answerInlineQuery")
        h.send(as_reader(h.fake.chosen_inline_result(offered.params["results"][0]["id"], QUESTION)))
        h.fake.wait_for(lambda: len(logged(settings)) == 4)
        press(h, votes_of(h.fake.bot_messages[0])["👎"], user_id=user_id, message=h.fake.bot_messages[0])
        while_running = contents()  # the write-ahead log holds the newest rows
    after = contents()

    assert sorted(e.question.outcome for e in logged(settings)) == ["answered", "answered", "error", "refused"]
    for data in (while_running, after):
        assert NOT_IN_ARTICLE.encode() in data  # the search does see what the log holds
        for value in (user_id, group_id, *names):
            assert not any(pattern in data for pattern in identity_bytes(value)), value


def test_an_answer_id_is_the_same_for_a_replayed_update_and_names_no_chat() -> None:
    fake = FakeBotAPI()
    message = fake.private_message(QUESTION, user_id=4242)
    key, other_key = answer_id_key(fake.token), answer_id_key("987:another-bot")

    first = answer_id(Update.de_json({"update_id": 1, **message}, None), key)
    replayed = answer_id(Update.de_json({"update_id": 1, **message}, None), key)
    redelivered = answer_id(Update.de_json({"update_id": 9, **message}, None), key)  # Telegram's own retry
    next_message = answer_id(Update.de_json({"update_id": 2, **fake.private_message(QUESTION, user_id=4242)}, None), key)

    assert first == replayed == redelivered and first != next_message
    assert answer_id(Update.de_json({"update_id": 1, **message}, None), other_key) != first  # keyed: no dictionary
    assert "4242" not in first and len(first) == 16
