"""Sending replies to Telegram: HTML split to its limit with a plain-text fallback, the keyboard, "typing…"."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from telegram import InlineKeyboardMarkup, LinkPreviewOptions, Message
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import BadRequest, TelegramError

from .format import html_to_plain, split_html

logger = logging.getLogger("bot")

TYPING_REFRESH_S = 4.5  # Telegram shows "typing…" for 5 s per sendChatAction
TYPING_DELAY_S = 0.3  # answers faster than this need no hint
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def markup_refused(err: BadRequest) -> bool:
    """Telegram could not parse our HTML: the words still go out, as plain text."""
    return "can't parse entities" in err.message.lower()


async def send_html(message: Message, html: str, *, markup: InlineKeyboardMarkup | None = None) -> list[Message]:
    """Reply with HTML split to Telegram's limit; resend a part as plain text if refused. Returns the parts sent.

    In groups the first part quotes the asking message; every part stays in its forum topic
    (``reply_text`` carries ``message_thread_id`` over).  The keyboard goes on the last part.
    """
    parts = split_html(html)
    quote = message.chat.type != ChatType.PRIVATE
    sent_parts: list[Message] = []
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        kwargs = {"reply_markup": markup if last else None, "do_quote": quote and index == 0}
        try:
            sent = await message.reply_text(part, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW, **kwargs)
        except BadRequest as err:
            if not markup_refused(err):
                raise
            # The user must never get silence: the same words without markup always parse.
            logger.warning("reply.plain_fallback chat_type=%s reason=%s", message.chat.type, err.message)
            sent = await message.reply_text(html_to_plain(part), link_preview_options=NO_PREVIEW, **kwargs)
        sent_parts.append(sent)
    return sent_parts


@asynccontextmanager
async def typing(message: Message) -> AsyncIterator[None]:
    """Show "typing…" once an answer takes a moment, and keep it up until the block ends.

    Most offline answers are ready before a user could see the hint: skipping it
    then halves the requests the bot sends to Telegram.
    """

    async def refresh() -> None:
        await asyncio.sleep(TYPING_DELAY_S)
        while True:
            with suppress(TelegramError):  # a lost typing hint is no reason not to answer
                await message.reply_chat_action(ChatAction.TYPING)
            await asyncio.sleep(TYPING_REFRESH_S)

    task = asyncio.create_task(refresh())
    try:
        yield
    finally:
        task.cancel()
