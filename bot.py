#!/usr/bin/env python
"""The Telegram bot: private chats, groups and inline mode, answering questions about the articles with citations.

Usage: set TELEGRAM_BOT_TOKEN (from @BotFather) and run ``python bot.py`` (or ``exchange-bot serve``).
This file builds the Application and starts it; the handlers are in ``telegram_bot/handlers.py``.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import NoReturn

from pydantic import ValidationError
from telegram import BotCommand, Update
from telegram.error import InvalidToken, NetworkError
from telegram.request import BaseRequest
from telegram.ext import Application, ApplicationBuilder, CallbackQueryHandler, ChosenInlineResultHandler, CommandHandler
from telegram.ext import InlineQueryHandler
from telegram.ext import MessageHandler, TypeHandler, filters

from rag import Engine, RagError, Settings
from rag.live import LiveEngine, watch_corpus
from rag.settings import describe_validation_error
from telegram_bot import handlers
from telegram_bot.engine import EngineRunner
from telegram_bot.journal import JOURNAL_FILE, JournaledUpdateProcessor, JournaledUpdateQueue, UpdateJournal
from telegram_bot.logs import LOG_FORMAT, redact_secrets
from telegram_bot.buttons import SOURCE_PATTERN, VOTE_PATTERN
from telegram_bot.metrics import BotMetrics, BotReadings, MetricsServer
from telegram_bot.questions import QuestionRecorder
from telegram_bot.settings import TelegramSettings
from telegram_bot.state import CONTEXT_TYPES, BotState
from telegram_bot.transport import make_bot, serve
from telegram_bot.webhook import TelegramUpdater

logger = logging.getLogger("bot")

MISSING_TOKEN = (
    "TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather in Telegram (/newbot), "
    "then put TELEGRAM_BOT_TOKEN=<token> in the environment or in .env."
)


def configure_logging(settings: Settings, telegram: TelegramSettings) -> None:
    """Key=value lines at LOG_LEVEL; no line or traceback carries the bot token or the API key."""
    logging.basicConfig(format=LOG_FORMAT, level=settings.log_level)
    # httpx logs every request URL at INFO, and the URL contains the bot token; the others log their internals.
    for chatty in ("httpx", "httpx2", "chromadb", "bm25s"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    api_key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
    redact_secrets([telegram.token, api_key])


async def post_init(application: Application) -> None:
    """Open the engine once (index built or checked now) and the question log, start the metrics, register the
    commands, replay unanswered updates."""
    state: BotState = application.bot_data
    telegram = state.telegram
    if state.live is None:
        state.live = await asyncio.to_thread(LiveEngine.open, state.settings)
        state.owns_engine = True
    state.watcher = watch_corpus(state.live, state.settings)
    state.runner = EngineRunner(state.live, telegram.telegram_answer_workers, telegram.telegram_answer_timeout)
    state.recorder = await asyncio.to_thread(
        QuestionRecorder.open, state.settings.data_dir, telegram.question_log_days, telegram.token
    )
    state.pruning = asyncio.create_task(state.recorder.prune_daily())
    journal: UpdateJournal = application.update_queue.journal
    state.metrics.watch(BotReadings(state.breaker_states, journal.backlog, state.corpus_reloads))
    if telegram.metrics_port and not telegram.webhook_url:  # a webhook serves them on its own port
        state.metrics_server = MetricsServer.start(state.metrics, telegram.metrics_listen, telegram.metrics_port)
    await application.bot.set_my_commands([BotCommand(name, about) for name, (about, _) in handlers.COMMANDS.items()])
    application.update_queue.replay(application.bot)
    info = state.engine.info()
    logger.info(
        "bot.ready username=@%s mode=%s llm_model=%s passages=%d documents=%d index=%s transport=%s",
        application.bot.username, info.mode, info.llm_model, info.passages, len(info.documents),
        info.index_location, "webhook" if state.telegram.webhook_url else "polling",
    )


async def post_shutdown(application: Application) -> None:
    """Stop watching the corpus and the answer pool; close the engine if post_init opened it."""
    application.bot_data.close()


def build_application(
    settings: Settings, telegram: TelegramSettings, engine: Engine | LiveEngine | None = None,
    request: BaseRequest | None = None,
) -> Application:
    """The Application with every handler; ``engine`` lets tests and benches share one (a plain ``Engine`` is
    answered from as it is; a ``LiveEngine`` also follows the corpus), ``request`` answers the Bot API in tests."""
    assert telegram.token, MISSING_TOKEN
    journal = UpdateJournal.open(settings.data_dir / JOURNAL_FILE)
    metrics = BotMetrics.create()  # this application's own registry
    application = (
        ApplicationBuilder()
        .context_types(CONTEXT_TYPES)
        .updater(TelegramUpdater(make_bot(telegram, request), JournaledUpdateQueue(journal), metrics.registry))
        .concurrent_updates(JournaledUpdateProcessor(journal))  # one slow answer never blocks other users
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    application.bot_data.configure(settings, telegram, engine, metrics)

    allowed = application.bot_data.access.messages  # ALLOWED_USER_IDS / ALLOWED_CHAT_IDS (all when unset)
    # Edits of old questions are not re-answered, and a message the user sent through this
    # bot's inline mode is an answer, not a question.
    new_message = filters.UpdateType.MESSAGE & ~filters.VIA_BOT & allowed
    question, private = new_message & filters.TEXT & ~filters.COMMAND, filters.ChatType.PRIVATE
    application.add_handler(TypeHandler(Update, handlers.gate_queries), group=-1)
    commands = {name: callback for name, (_, callback) in handlers.COMMANDS.items()} | handlers.UNLISTED_COMMANDS
    for name, callback in commands.items():
        application.add_handler(CommandHandler(name, callback, filters=allowed))
    application.add_handler(MessageHandler(question & private, handlers.private_text))
    application.add_handler(MessageHandler(question & filters.ChatType.GROUPS, handlers.group_text))
    application.add_handler(MessageHandler(new_message & ~filters.TEXT & ~filters.StatusUpdate.ALL, handlers.non_text))
    application.add_handler(MessageHandler(new_message & private & filters.COMMAND, handlers.unknown_command))
    refused = filters.UpdateType.MESSAGE & private & ~allowed  # in groups: silence
    application.add_handler(MessageHandler(refused, handlers.refuse_message))
    application.add_handler(InlineQueryHandler(handlers.inline_query))
    application.add_handler(ChosenInlineResultHandler(handlers.inline_chosen))
    application.add_handler(CallbackQueryHandler(handlers.source_button, pattern=SOURCE_PATTERN))
    application.add_handler(CallbackQueryHandler(handlers.vote_button, pattern=VOTE_PATTERN))
    application.add_handler(CallbackQueryHandler(handlers.stale_button))
    application.add_error_handler(handlers.error_handler)
    return application


def fail(message: str, code: int) -> NoReturn:
    print(message, file=sys.stderr)
    raise SystemExit(code)


def main() -> None:
    """Read the settings from the environment and .env, then serve until stopped (``exchange-bot serve`` too)."""
    try:
        settings, telegram = Settings(), TelegramSettings()
    except ValidationError as err:
        fail(describe_validation_error(err), 2)
    if not telegram.token:
        fail(MISSING_TOKEN, 2)
    configure_logging(settings, telegram)
    try:
        serve(build_application(settings, telegram), telegram)
    except InvalidToken:
        fail("Telegram refused TELEGRAM_BOT_TOKEN: copy the token again from @BotFather (/mybots → API Token).", 2)
    except RagError as err:
        fail(f"Cannot start: {err.user_message} ({err})", 1)
    except NetworkError as err:
        fail(f"Cannot reach the Telegram Bot API: {err}", 1)


if __name__ == "__main__":
    main()
