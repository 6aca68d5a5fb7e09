"""The one path from a question to a cited reply: rate limit, the engine's pool, the reply, the question log."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from telegram import (
    InlineKeyboardMarkup, InlineQuery, InlineQueryResultArticle, InlineQueryResultsButton, InputTextMessageContent, Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest

from newsroom.log import LoggedQuestion
from rag import Answer, EmptyQuestionError, QuestionTooLongError, RagError

from .conversation import ConversationMemory
from .format import format_answer, html_to_plain, shorten, split_html
from .buttons import answer_keyboard
from .questions import logged_answer, logged_error
from .reply import NO_PREVIEW, markup_refused, send_html, typing
from .state import BotContext, BotState

logger = logging.getLogger("bot")

INLINE_CHAT_TYPE = "inline"  # what the log keeps as the chat type of an inline query


async def answer_question(update: Update, context: BotContext, question: str) -> None:
    """Rate-limit, ask the engine in its own pool, reply with the cited answer and log the question."""
    # The sender is a user, or a chat when someone posts on a channel's or group's behalf.
    message, user = update.effective_message, update.effective_sender
    assert message is not None and user is not None
    state = context.bot_data
    wait = state.limiter.check(user.id)
    if wait:
        logger.info("question.rate_limited chat_type=%s wait_s=%.0f", message.chat.type, wait)
        if state.notices.first(("rate", user.id)):  # then silence until the window ends
            await message.reply_text(f"You're asking quickly — please wait {wait:.0f} s and try again.")
        return
    started = time.perf_counter()
    answer_id, asked_at = state.questions.answer_id(update), message.date.timestamp()
    conversation: ConversationMemory = state.conversation
    previous = conversation.context_for(message, question, context.bot.username, context.bot.id)
    try:
        async with typing(message):
            answer = await state.answers.answer(question, previous)
    except EmptyQuestionError as err:  # nothing was asked: nothing to log
        await message.reply_text(err.user_message)
        return
    except RagError as err:  # too long, the index down, no answer in time: all have a polite message
        seconds = time.perf_counter() - started
        if not isinstance(err, QuestionTooLongError):
            logger.warning("question.engine_error chat_type=%s error=%s", message.chat.type, err)
        entry = logged_error(question, answer_id, message.chat.type, state.mode, seconds * 1000, asked_at)
        async with logged(state, entry, seconds):
            await message.reply_text(err.user_message)
        return
    seconds = time.perf_counter() - started
    entry = logged_answer(answer, answer_id, message.chat.type, state.documents(), asked_at)
    # For /source N; set before sending, so a /source sent as soon as the answer shows finds it.
    context.chat_data["sources"] = {c.n: c.passage_id for c in answer.citations}
    async with logged(state, entry, seconds):
        keyboard = answer_keyboard(answer, state.questions.votable(answer_id))
        sent = await send_html(message, format_answer(answer), markup=keyboard)
        conversation.remember(message, answer, sent)  # a reply to the answer may come before the log's write ends
    logger.info(
        "question.answered chat_type=%s chars=%d mode=%s outcome=%s citations=%d engine_ms=%.0f total_ms=%.0f",
        message.chat.type, len(question), answer.mode, entry.outcome, len(answer.citations),
        answer.latency_ms, (time.perf_counter() - started) * 1000,
    )


@asynccontextmanager
async def logged(state: BotState, entry: LoggedQuestion, seconds: float) -> AsyncIterator[None]:
    """Count the question in the metrics and write its log entry while the block sends the reply.

    The block's end waits for the write: the update is marked answered in the journal only after its row is
    durable, so a crash in between replays it and the replay's row, under the same answer id, is the same row.
    """
    state.metrics.count_question(entry.outcome, seconds)
    writing = asyncio.ensure_future(state.questions.record(entry))
    try:
        yield
    finally:
        await writing


async def answer_inline(update: Update, context: BotContext, question: str) -> None:
    """An inline query: offer the cited answer as one result (or why there is none), and log the question."""
    query, state = update.inline_query, context.bot_data
    assert query is not None
    started, asked_at = time.perf_counter(), time.time()
    answer_id = state.questions.answer_id(update)
    try:
        answer = await state.answers.answer(question)
    except EmptyQuestionError as err:
        await offer_no_results(query, shorten(err.user_message, 60))
        return
    except RagError as err:  # too long, index down: all have a safe message; nothing to send, so nothing logged
        state.metrics.count_question("error", time.perf_counter() - started)
        await offer_no_results(query, shorten(err.user_message, 60))
        return
    seconds = time.perf_counter() - started
    entry = logged_answer(answer, answer_id, INLINE_CHAT_TYPE, state.documents(), asked_at)
    state.metrics.count_question(entry.outcome, seconds)
    state.questions.hold(entry)  # logged once the reader sends it or votes on it, not as they type
    keyboard = answer_keyboard(answer, state.questions.votable(answer_id))
    await offer_inline_answer(query, question, answer, keyboard, result_id=answer_id)
    logger.info("inline.answered mode=%s outcome=%s engine_ms=%.0f", answer.mode, entry.outcome, answer.latency_ms)


async def offer_no_results(query: InlineQuery, hint: str) -> None:
    """No results, but a button in their place says why (it opens a private chat)."""
    await query.answer([], cache_time=0, is_personal=True, button=InlineQueryResultsButton(hint, start_parameter="inline"))


async def offer_inline_answer(
    query: InlineQuery, question: str, answer: Answer, keyboard: InlineKeyboardMarkup | None, result_id: str
) -> None:
    """Answer an inline query with the cited answer as one result (``result_id``: its answer id, which a chosen
    inline result names), its buttons under it; as plain text if the HTML is refused."""
    html = split_html(format_answer(answer, question=question))[0]

    def result(text: str, parse_mode: str | None) -> InlineQueryResultArticle:
        content = InputTextMessageContent(text, parse_mode=parse_mode, link_preview_options=NO_PREVIEW)
        return InlineQueryResultArticle(
            result_id, title=shorten(question, 60), input_message_content=content,
            description=shorten(answer.text, 120), reply_markup=keyboard,
        )
    try:
        await query.answer([result(html, ParseMode.HTML)], cache_time=60)
    except BadRequest as err:
        if not markup_refused(err):
            raise
        await query.answer([result(html_to_plain(html), None)], cache_time=60)
