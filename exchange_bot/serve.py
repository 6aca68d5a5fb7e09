"""``exchange-bot serve``: the Telegram bot, the same as ``python bot.py``."""

from __future__ import annotations

import typer

commands = typer.Typer()


@commands.command()
def serve() -> None:
    """Run the Telegram bot (needs TELEGRAM_BOT_TOKEN); LOG_LEVEL sets how much it logs."""
    import bot  # the bot configures its own logging, with secrets redacted

    bot.main()
