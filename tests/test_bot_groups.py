"""End to end in groups, through the loopback Bot API: the bot answers only what is addressed to it, and replies
to the asker in the asking topic.
"""

from __future__ import annotations

from tests.telegram_loopback import GROUP, QUESTION, Harness, cited, harness  # noqa: F401 - harness is a fixture


def test_group_message_not_addressed_to_the_bot_gets_no_reply(harness: Harness) -> None:
    harness.send(harness.fake.group_message(QUESTION))
    harness.send(harness.fake.group_message(f"/ask@SomeOtherBot {QUESTION}"))
    addressed = harness.send(harness.fake.group_message(f"/ask {QUESTION}", user_id=1002))

    [reply] = harness.replies()
    assert reply.params["reply_parameters"]["message_id"] == addressed["message"]["message_id"]
    later = harness.fake.quiet_for(0.4)
    assert not [c for c in later if c.method in {"sendMessage", "sendChatAction"}]
    assert harness.fake.pending_updates() == 0  # the bot took all three, and ignored two
    assert cited(reply)


def test_mention_in_a_forum_topic_replies_in_that_topic(harness: Harness) -> None:
    asked = harness.send(
        harness.fake.group_message("Hey @ArticleAnswerBot, how many civilians were exchanged?", forum=True, thread_id=77)
    )

    [reply] = harness.replies()

    assert reply.params["chat_id"] == GROUP
    assert reply.params["message_thread_id"] == 77
    assert reply.params["reply_parameters"]["message_id"] == asked["message"]["message_id"]
    assert cited(reply, "120 civilians")


def test_reply_to_the_bot_is_answered_without_a_mention(harness: Harness) -> None:
    harness.send(harness.fake.group_message("@ArticleAnswerBot where did the exchange take place?"))
    [answer] = harness.replies()
    assert cited(answer, "Belarus")
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
