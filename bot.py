#!/usr/bin/env python
"""Telegram adapter: private chats, groups and inline mode, answering with citations.

Every question goes to the engine's one ``answer`` function; this module only decides
*whether* to answer (addressing, allowlists, rate limit) and *how* to show it.

Usage: set TELEGRAM_BOT_TOKEN (from @BotFather) and run ``python bot.py``.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from contextlib import suppress
from typing import NoReturn

from pydantic import ValidationError
from telegram import BotCommand, InlineQueryResultsButton, Message, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from rag import Engine, RagError, Settings
from rag.live import LiveEngine, watch_corpus
from rag.settings import describe_validation_error
from telegram_bot.answer import answer_question, offer_inline_answer
from telegram_bot.articles import articles, last_sync_html, start
from telegram_bot.conversation import reset
from telegram_bot.engine import EngineRunner
from telegram_bot.format import escape, format_passage, shorten
from telegram_bot.journal import JOURNAL_FILE, JournaledUpdateProcessor, JournaledUpdateQueue, UpdateJournal
from telegram_bot.logs import configure_logging
from telegram_bot.policy import addressed_question
from telegram_bot.reply import SOURCE_PREFIX, send_html
from telegram_bot.sending import DeliveryUncertain
from telegram_bot.settings import TelegramSettings
from telegram_bot.state import CONTEXT_TYPES, BotContext, BotState
from telegram_bot.transport import make_bot, serve
from telegram_bot.webhook import TelegramUpdater

logger = logging.getLogger("bot")

MISSING_TOKEN = (
    "TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather in Telegram (/newbot), "
    "then put TELEGRAM_BOT_TOKEN=<token> in the environment or in .env."
)
COMMANDS = [
    BotCommand("start", "What I know and example questions"),
    BotCommand("help", "How to ask, in private and in groups"),
    BotCommand("ask", "Ask a question: /ask <question>"),
    BotCommand("source", "Full passage behind citation N: /source N"),
    BotCommand("articles", "The articles I answer from"),
    BotCommand("reset", "Forget the conversation: the next question stands alone"),
    BotCommand("about", "Mode, model, index and last sync"),
]
MIN_INLINE_CHARS = 3
NON_TEXT_HINT = "I can only read text: please type your question about the article (or put it in the caption)."
APOLOGY = "Sorry, something went wrong while answering. Please try again."


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
    logger.info("access.denied user=%s chat=%s", update.effective_user and update.effective_user.id, chat.id)
    if context.bot_data.notices.first(("access", chat.id)):
        await update.effective_message.reply_text("Sorry, this bot only answers the people it was set up for.")


async def gate_queries(update: Update, context: BotContext) -> None:
    """Stop inline queries and button presses from outside the allowlists (PTB's handlers for them take no filters)."""
    user, chat = update.effective_user, update.effective_chat
    if not (update.inline_query or update.callback_query) or context.bot_data.access.permits(user.id, chat and chat.id):
        return
    logger.info("access.denied user=%s chat=%s", user.id, chat and chat.id)
    if update.inline_query:
        await update.inline_query.answer([], cache_time=0, is_personal=True)
    else:
        await update.callback_query.answer("Sorry, this bot is not open to you.")
    raise ApplicationHandlerStop


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
    await update.effective_message.reply_text(text, parse_mode=ParseMode.HTML)


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
    _, n, passage_id = query.data.split("|", 2)
    if not isinstance(query.message, Message):  # inline-sent or too old to reply to
        passages = context.bot_data.engine.passage_with_context(passage_id, 0)
        await query.answer(shorten(passages[0].text, 190) if passages else "Source not found.", show_alert=True)
        return
    with suppress(BadRequest):  # a press replayed after a restart is too old to answer; the source still shows
        await query.answer()
    if not await send_source(query.message, context, int(n), passage_id):
        await query.message.reply_text("That source is no longer in the index.")


async def stale_button(update: Update, context: BotContext) -> None:
    """A button this bot no longer knows: stop the client's spinner with a word why."""
    await update.callback_query.answer("This button no longer works: ask the question again.")


async def inline_query(update: Update, context: BotContext) -> None:
    """@BotName question in any chat: offer the cited answer as one result."""
    query = update.inline_query
    question = query.query.strip()

    async def no_results(hint: str) -> None:
        # No results, but a button in their place says why (it opens a private chat).
        button = InlineQueryResultsButton(hint, start_parameter="inline")
        await query.answer([], cache_time=0, is_personal=True, button=button)

    if len(question) < MIN_INLINE_CHARS:
        await no_results("Type a question about the article")
        return
    wait = context.bot_data.limiter.check(query.from_user.id)
    if wait:
        await no_results(f"Slow down: try again in {wait:.0f} s")
        return
    try:
        answer = await context.bot_data.answers.answer(question)
    except RagError as err:  # empty or too long question, index down: all have a safe message
        await no_results(shorten(err.user_message, 60))
        return
    await offer_inline_answer(query, question, answer)
    logger.info(
        "inline.answered user=%s mode=%s grounded=%s engine_ms=%.0f",
        query.from_user.id, answer.mode, answer.grounded, answer.latency_ms,
    )


async def error_handler(update: object, context: BotContext) -> None:
    """Log the failure with where it happened, and apologise to the user."""
    where = "no update"
    if isinstance(update, Update):
        chat = update.effective_chat
        where = f"update={update.update_id} chat_type={chat and chat.type} chat={chat and chat.id}"
    if isinstance(context.error, DeliveryUncertain):  # the reply probably arrived: a "sorry" would be wrong
        logger.warning("update.reply_uncertain %s", where)
        return
    logger.error("update.failed %s error=%r", where, context.error, exc_info=context.error)
    if isinstance(update, Update) and update.effective_message:
        with suppress(TelegramError):
            await update.effective_message.reply_text(APOLOGY)


async def post_init(application: Application) -> None:
    """Open the engine (index built or checked now), register commands, replay unanswered updates."""
    state: BotState = application.bot_data
    settings, telegram = state.settings, state.telegram
    if state.live is None:
        state.live = await asyncio.to_thread(LiveEngine.open, settings)
        state.owns_engine = True
    state.watcher = watch_corpus(state.live, settings)
    state.runner = EngineRunner(state.live, telegram.telegram_answer_workers, telegram.telegram_answer_timeout)
    await application.bot.set_my_commands(COMMANDS)
    application.update_queue.replay(application.bot)
    info = state.engine.info()
    logger.info(
        "bot.ready username=@%s mode=%s llm_model=%s passages=%d documents=%d index=%s transport=%s",
        application.bot.username, info.mode, info.llm_model, info.passages, len(info.documents),
        info.index_location, "webhook" if telegram.webhook_url else "polling",
    )


async def post_shutdown(application: Application) -> None:
    """Stop watching the corpus and the answer pool; close the engine if this application opened it."""
    state: BotState = application.bot_data
    if state.watcher:
        state.watcher.stop()
    if state.runner:  # not when start-up failed before post_init
        state.runner.close()
    if state.owns_engine and state.live:
        state.live.close()


def build_application(
    settings: Settings, telegram: TelegramSettings, engine: Engine | LiveEngine | None = None
) -> Application:
    """The Application with every handler; ``engine`` lets tests and benches share one (a plain
    ``Engine`` is answered from as it is; a ``LiveEngine`` also follows changes to the corpus)."""
    assert telegram.token, MISSING_TOKEN
    journal = UpdateJournal.open(settings.data_dir / JOURNAL_FILE)
    application = (
        ApplicationBuilder()
        .context_types(CONTEXT_TYPES)
        .updater(TelegramUpdater(make_bot(telegram), JournaledUpdateQueue(journal)))
        .concurrent_updates(JournaledUpdateProcessor(journal))  # one slow answer never blocks other users
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    application.bot_data.configure(settings, telegram, engine)

    # ALLOWED_USER_IDS / ALLOWED_CHAT_IDS; what it turns away falls through to refuse_message (private) or nothing.
    allowed = application.bot_data.access.messages
    # Edits of old questions are not re-answered, and a message the user sent through this
    # bot's inline mode is an answer, not a question.
    new_message = filters.UpdateType.MESSAGE & ~filters.VIA_BOT & allowed
    application.add_handler(TypeHandler(Update, gate_queries), group=-1)
    application.add_handler(CommandHandler("start", start, filters=allowed))
    application.add_handler(CommandHandler("help", help_command, filters=allowed))
    application.add_handler(CommandHandler("about", about, filters=allowed))
    application.add_handler(CommandHandler("articles", articles, filters=allowed))
    application.add_handler(CommandHandler("reset", reset, filters=allowed))
    application.add_handler(CommandHandler("ask", ask, filters=allowed))
    application.add_handler(CommandHandler("source", source_command, filters=allowed))
    question = new_message & filters.TEXT & ~filters.COMMAND
    application.add_handler(MessageHandler(question & filters.ChatType.PRIVATE, private_text))
    application.add_handler(MessageHandler(question & filters.ChatType.GROUPS, group_text))
    application.add_handler(MessageHandler(new_message & ~filters.TEXT & ~filters.StatusUpdate.ALL, non_text))
    application.add_handler(MessageHandler(new_message & filters.ChatType.PRIVATE & filters.COMMAND, unknown_command))
    refused = filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE & ~allowed
    application.add_handler(MessageHandler(refused, refuse_message))
    application.add_handler(InlineQueryHandler(inline_query))
    application.add_handler(CallbackQueryHandler(source_button, pattern=rf"^{SOURCE_PREFIX}\|\d+\|"))
    application.add_handler(CallbackQueryHandler(stale_button))
    application.add_error_handler(error_handler)
    return application


def fail(message: str, code: int) -> NoReturn:
    print(message, file=sys.stderr)
    raise SystemExit(code)


def run(settings: Settings, telegram: TelegramSettings) -> None:
    """Serve the bot with these settings (used by ``python bot.py`` and ``exchange-bot serve``)."""
    if not telegram.token:
        fail(MISSING_TOKEN, 2)
    configure_logging(settings, telegram.token)
    try:
        serve(build_application(settings, telegram), telegram)
    except InvalidToken:
        fail("Telegram refused TELEGRAM_BOT_TOKEN: copy the token again from @BotFather (/mybots → API Token).", 2)
    except RagError as err:
        fail(f"Cannot start: {err.user_message} ({err})", 1)
    except NetworkError as err:
        fail(f"Cannot reach the Telegram Bot API: {err}", 1)


def main() -> None:
    """Read the settings from the environment and .env, then run."""
    try:
        settings, telegram = Settings(), TelegramSettings()
    except ValidationError as err:
        fail(describe_validation_error(err), 2)
    run(settings, telegram)


if __name__ == "__main__":
    main()
