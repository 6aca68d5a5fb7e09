"""The one path from a question to a cited reply: rate limit, the engine's pool, the reply, the log line."""

from __future__ import annotations

import hashlib
import logging
import time

from telegram import InlineQuery, InlineQueryResultArticle, InputTextMessageContent, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

from rag import Answer, EmptyQuestionError, QuestionTooLongError, RagError

from .conversation import ConversationMemory
from .format import format_answer, html_to_plain, shorten, split_html
from .reply import NO_PREVIEW, markup_refused, send_html, source_keyboard, typing
from .state import BotContext

logger = logging.getLogger("bot")


async def answer_question(update: Update, context: BotContext, question: str) -> None:
    """Rate-limit, ask the engine in its own pool, and reply with the cited answer."""
    # The sender is a user, or a chat when someone posts on a channel's or group's behalf.
    message, user = update.effective_message, update.effective_sender
    assert message is not None and user is not None
    wait = context.bot_data.limiter.check(user.id)
    if wait:
        logger.info("question.rate_limited user=%s chat_type=%s wait_s=%.0f", user.id, message.chat.type, wait)
        if context.bot_data.notices.first(("rate", user.id)):  # then silence until the window ends
            await message.reply_text(f"You're asking quickly — please wait {wait:.0f} s and try again.")
        return
    started = time.perf_counter()
    conversation: ConversationMemory = context.bot_data.conversation
    previous = conversation.context_for(message, question, context.bot.username, context.bot.id)
    try:
        async with typing(message):
            answer = await context.bot_data.answers.answer(question, previous)
    except (EmptyQuestionError, QuestionTooLongError) as err:
        await message.reply_text(err.user_message)
        return
    except RagError as err:
        logger.warning("question.engine_error chat_type=%s error=%s", message.chat.type, err)
        await message.reply_text(err.user_message)
        return
    # For /source N; set before sending, so a /source sent as soon as the answer shows finds it.
    context.chat_data["sources"] = {c.n: c.passage_id for c in answer.citations}
    sent = await send_html(message, format_answer(answer), markup=source_keyboard(answer))
    conversation.remember(message, answer, sent)
    logger.info(
        "question.answered chat_type=%s user=%s chars=%d mode=%s grounded=%s citations=%d engine_ms=%.0f total_ms=%.0f",
        message.chat.type, user.id, len(question), answer.mode, answer.grounded, len(answer.citations),
        answer.latency_ms, (time.perf_counter() - started) * 1000,
    )


async def offer_inline_answer(query: InlineQuery, question: str, answer: Answer) -> None:
    """Answer an inline query with the cited answer as one result; as plain text if the HTML is refused."""
    html = split_html(format_answer(answer, question=question))[0]

    def result(text: str, parse_mode: str | None) -> InlineQueryResultArticle:
        content = InputTextMessageContent(text, parse_mode=parse_mode, link_preview_options=NO_PREVIEW)
        result_id = hashlib.sha256(question.encode()).hexdigest()[:32]  # at most 64 bytes
        return InlineQueryResultArticle(
            result_id, title=shorten(question, 60), input_message_content=content, description=shorten(answer.text, 120)
        )

    try:
        await query.answer([result(html, ParseMode.HTML)], cache_time=60)
    except BadRequest as err:
        if not markup_refused(err):
            raise
        await query.answer([result(html_to_plain(html), None)], cache_time=60)
