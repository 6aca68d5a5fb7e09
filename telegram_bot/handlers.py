"""The bot's handlers: each decides whether and how to answer one kind of update; ``bot.py`` registers them.

Every question goes to the engine's one ``answer`` function (``answer.answer_question``); these
only decide *whether* to answer (addressing, allowlists, rate limit) and *how* to show it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress

from telegram import Message, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import ApplicationHandlerStop

from rag import RagError

from .buttons import read_source_data, read_vote_data
from .answer import answer_inline, answer_question, offer_no_results
from .articles import articles_html, last_sync_html, start_html
from .format import escape, format_passage, shorten
from .policy import addressed_question
from .privacy import DEFAULT_STATS_DAYS, log_notice, parse_days, privacy_html
from .reply import send_html
from .sending import DeliveryUncertain
from .state import BotContext

logger = logging.getLogger("bot")

MIN_INLINE_CHARS = 3
NON_TEXT_HINT = "I can only read text: please type your question about the article (or put it in the caption)."
APOLOGY = "Sorry, something went wrong while answering. Please try again."
VOTE_NOTICES = {
    "recorded": "Thanks: your vote is in.",
    "changed": "Thanks: your vote is changed.",
    "unchanged": "Your vote was already in.",
    "unknown": "This answer is too old to vote on now.",
}


async def send_source(message: Message, context: BotContext, n: int | None, passage_id: str) -> bool:
    """Reply with the passage behind a citation and its neighbours; False if it is gone."""
    engine = context.bot_data.engine
    passages = engine.passage_with_context(passage_id, 1)  # in memory: never waits for the index or a model
    if not passages:
        return False
    document = engine.document(passages[0].doc_id)
    await send_html(message, format_passage(passages, passage_id, n=n, title=document.title if document else None))
    return True


async def refuse_message(update: Update, context: BotContext) -> None:
    """A private message from outside the allowlists: one notice a minute, then silence."""
    chat = update.effective_chat
    logger.info("access.denied chat_type=%s", chat.type)
    if context.bot_data.notices.first(("access", chat.id)):
        await update.effective_message.reply_text("Sorry, this bot only answers the people it was set up for.")


async def gate_queries(update: Update, context: BotContext) -> None:
    """Stop inline queries and button presses from outside the allowlists (PTB's handlers for them take no filters)."""
    user, chat = update.effective_user, update.effective_chat
    if not (update.inline_query or update.callback_query) or context.bot_data.access.permits(user.id, chat and chat.id):
        return
    logger.info("access.denied chat_type=%s", chat.type if chat else "inline")
    if update.inline_query:
        await update.inline_query.answer([], cache_time=0, is_personal=True)
    else:
        await update.callback_query.answer("Sorry, this bot is not open to you.")
    raise ApplicationHandlerStop


async def start(update: Update, context: BotContext) -> None:
    """Say what the bot knows: the articles, with the newest one's example questions."""
    await update.effective_message.reply_text(start_html(context.bot_data.engine), parse_mode=ParseMode.HTML)


async def articles(update: Update, context: BotContext) -> None:
    """/articles: every article with its date and number of passages."""
    state = context.bot_data
    await update.effective_message.reply_text(articles_html(state.engine, state.synced_at), parse_mode=ParseMode.HTML)


async def reset(update: Update, context: BotContext) -> None:
    """/reset: the next message is read on its own, not as a follow-up."""
    context.bot_data.conversation.forget(update.effective_chat.id)
    await update.effective_message.reply_text("Done: your next question starts a new conversation.")


async def help_command(update: Update, context: BotContext) -> None:
    """Explain private, group and inline use, including Telegram's privacy mode."""
    name = context.bot.username
    text = (
        "<b>Private chat:</b> send any question about the article; I answer with [n] markers "
        "and quote my sources. Tap a source button, or send /source N, for the full passage.\n\n"
        f"<b>Groups:</b> I answer only when you @mention me (@{name} question), reply to one of "
        f"my messages, or use /ask question (/ask@{name} question when several bots are there). "
        "Other messages are left alone.\n\n"
        "<b>Privacy mode:</b> by default Telegram shows me only commands, messages that mention me "
        "and replies to me, never the rest of the conversation; that is all I need, and /ask "
        "always works. The bot's owner can change this with @BotFather /setprivacy.\n\n"
        f"<b>Inline:</b> type @{name} and a question in any chat to send a cited answer there.\n\n"
        f"Limit: {context.bot_data.limiter.limit} questions a minute per person. "
        "/about shows how I answer."
    )
    await update.effective_message.reply_text(text, parse_mode=ParseMode.HTML)


async def about(update: Update, context: BotContext) -> None:
    """Show the answering mode, models and index size."""
    info = context.bot_data.engine.info()
    mode = f"language model ({info.llm_model})" if info.mode == "llm" else "offline (sentences quoted from the article)"
    text = (
        f"<b>Mode:</b> {escape(mode)}\n<b>Embeddings:</b> {escape(info.embedding_model)}\n"
        f"<b>Index:</b> {info.passages} passages from {len(info.documents)} article(s)"
    )
    if info.multilingual_model:
        text += f"\n<b>Other languages:</b> {escape(info.multilingual_model)}"
    text += "\n" + last_sync_html(context.bot_data.synced_at)
    text += "\n\n" + log_notice(context.bot_data.telegram.question_log_days) + " /privacy says more."
    await update.effective_message.reply_text(text, parse_mode=ParseMode.HTML)


async def privacy(update: Update, context: BotContext) -> None:
    """/privacy: what the bot keeps of a question, for how long, and what it never keeps."""
    await update.effective_message.reply_text(privacy_html(context.bot_data.telegram.question_log_days),
                                              parse_mode=ParseMode.HTML)


async def stats(update: Update, context: BotContext) -> None:
    """/stats [days]: the question log's summary, for ADMIN_USER_IDS only."""
    message, user = update.effective_message, update.effective_user
    if user is None or user.id not in context.bot_data.telegram.admin_user_ids:
        await message.reply_text("Sorry, /stats is only for the people who run this bot.")
        return
    if message.chat.type != ChatType.PRIVATE:  # the summary quotes readers' questions, private chats' included
        await message.reply_text("Please ask /stats in a private chat with me: it quotes readers' questions.")
        return
    days = parse_days(context.args)
    if days is None:
        await message.reply_text(f"Usage: /stats or /stats N, for the last N days ({DEFAULT_STATS_DAYS} by default).")
        return
    retention = context.bot_data.telegram.question_log_days
    await message.reply_text(await context.bot_data.questions.summary(min(days, retention) if retention else days))


async def ask(update: Update, context: BotContext) -> None:
    """/ask question (or /ask in reply to a message): answer in any chat."""
    message = update.effective_message
    command = message.entities[0] if message.entities else None
    question = message.text[command.length :].strip() if command else " ".join(context.args or ())
    if not question and message.reply_to_message:
        question = message.reply_to_message.text or message.reply_to_message.caption or ""
    if not question:
        await message.reply_text("Usage: /ask <question about the article>")
        return
    await answer_question(update, context, question)


async def private_text(update: Update, context: BotContext) -> None:
    """In a private chat every text message is a question."""
    await answer_question(update, context, update.effective_message.text)


async def group_text(update: Update, context: BotContext) -> None:
    """In groups answer only messages that @mention the bot or reply to it."""
    question = addressed_question(update.effective_message, context.bot.username, context.bot.id)
    if question is not None:
        await answer_question(update, context, question)


async def non_text(update: Update, context: BotContext) -> None:
    """Stickers, photos, voice: a caption is the question; else a hint, in private or when addressed."""
    message = update.effective_message
    private = message.chat.type == ChatType.PRIVATE
    question = message.caption if private else addressed_question(message, context.bot.username, context.bot.id)
    if question and question.strip():
        await answer_question(update, context, question)
    elif private or question is not None:
        await message.reply_text(NON_TEXT_HINT)


async def unknown_command(update: Update, context: BotContext) -> None:
    """A command the bot does not have, in a private chat: point at /help."""
    await update.effective_message.reply_text("I don't know that command. See /help.")


async def source_command(update: Update, context: BotContext) -> None:
    """/source N: the passage behind citation N of the last answer in this chat."""
    message = update.effective_message
    sources: dict[int, str] = context.chat_data.get("sources", {})
    try:
        n = int(context.args[0]) if context.args else 0  # not str.isdigit(): it takes "²" for a digit
    except ValueError:
        n = 0
    if n < 1:
        await message.reply_text("Usage: /source N, for citation [N] of my last answer here.")
        return
    if n not in sources or not await send_source(message, context, n, sources[n]):
        await message.reply_text(f"My last answer here has no source [{n}].")


async def source_button(update: Update, context: BotContext) -> None:
    """A Source [n] button: show the full passage under the answer."""
    query = update.callback_query
    press = read_source_data(query.data, context.bot_data.engine)
    if not isinstance(query.message, Message):  # inline-sent or too old to reply to
        passages = context.bot_data.engine.passage_with_context(press.passage_id, 0) if press.passage_id else []
        await query.answer(shorten(passages[0].text, 190) if passages else "Source not found.", show_alert=True)
        return
    with suppress(BadRequest):  # a press replayed after a restart is too old to answer; the source still shows
        await query.answer()
    if not press.passage_id or not await send_source(query.message, context, press.n, press.passage_id):
        await query.message.reply_text("That source is no longer in the index.")


async def vote_button(update: Update, context: BotContext) -> None:
    """A 👍/👎 button: keep the reader's vote on the answer, acknowledged by a notice, never a message."""
    query = update.callback_query
    answer_id, value = read_vote_data(query.data)
    result = await context.bot_data.questions.vote(answer_id, query.from_user.id, value)
    logger.info("answer.voted value=%d result=%s", value, result)
    with suppress(BadRequest):  # a press replayed after a restart is too old to acknowledge
        await query.answer(VOTE_NOTICES[result])


async def inline_chosen(update: Update, context: BotContext) -> None:
    """A reader sent an inline answer into a chat (inline feedback on): log the question it answered."""
    await context.bot_data.questions.sent(update.chosen_inline_result.result_id)


async def stale_button(update: Update, context: BotContext) -> None:
    """A button this bot no longer knows: stop the client's spinner with a word why."""
    await update.callback_query.answer("This button no longer works: ask the question again.")


async def inline_query(update: Update, context: BotContext) -> None:
    """@BotName question in any chat: offer the cited answer as one result."""
    query = update.inline_query
    question = query.query.strip()
    if len(question) < MIN_INLINE_CHARS:
        await offer_no_results(query, "Type a question about the article")
        return
    wait = context.bot_data.limiter.check(query.from_user.id)
    if wait:
        await offer_no_results(query, f"Slow down: try again in {wait:.0f} s")
        return
    await answer_inline(update, context, question)


async def error_handler(update: object, context: BotContext) -> None:
    """Log the failure with where it happened, and apologise to the user."""
    where = "no update"
    if isinstance(update, Update):
        chat = update.effective_chat
        where = f"update={update.update_id} chat_type={chat and chat.type}"
    if isinstance(context.error, DeliveryUncertain):  # the reply probably arrived: a "sorry" would be wrong
        logger.warning("update.reply_uncertain %s", where)
        return
    if isinstance(context.error, RagError):  # the engine said what went wrong (no articles, index down)
        logger.warning("update.engine_error %s error=%s", where, context.error)
        reply = context.error.user_message
    else:
        logger.error("update.failed %s error=%r", where, context.error, exc_info=context.error)
        reply = APOLOGY
    if isinstance(update, Update) and update.effective_message:
        with suppress(TelegramError):
            await update.effective_message.reply_text(reply)


# The command menu, in the order Telegram shows it: what each command does, and its handler.
COMMANDS: dict[str, tuple[str, Callable[[Update, BotContext], Awaitable[None]]]] = {
    "start": ("What I know and example questions", start),
    "help": ("How to ask, in private and in groups", help_command),
    "ask": ("Ask a question: /ask <question>", ask),
    "source": ("Full passage behind citation N: /source N", source_command),
    "articles": ("The articles I answer from", articles),
    "reset": ("Forget the conversation: the next question stands alone", reset),
    "about": ("Mode, model, index and last sync", about),
    "privacy": ("What is kept of your questions, and for how long", privacy),
}
# Commands left out of everyone's menu: /stats answers ADMIN_USER_IDS only.
UNLISTED_COMMANDS: dict[str, Callable[[Update, BotContext], Awaitable[None]]] = {"stats": stats}
