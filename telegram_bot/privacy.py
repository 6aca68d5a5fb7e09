"""What the bot tells readers about the question log (/privacy, /about), and /stats' period."""

from __future__ import annotations

DEFAULT_STATS_DAYS = 7


def log_notice(retention_days: int) -> str:
    """One sentence on what is kept, for /about."""
    if not retention_days:
        return "<b>Privacy:</b> no questions are kept."
    return (
        f"<b>Privacy:</b> questions, how they were answered and 👍/👎 votes are kept for {retention_days} days, "
        "never who asked."
    )


def privacy_html(retention_days: int) -> str:
    """/privacy: what is kept, for how long, what never is, and why."""
    if not retention_days:
        return (
            "<b>What I keep:</b> nothing. This bot keeps no log of the questions it is asked.\n\n"
            "To answer, I read your message and, in a private chat, your previous question for a few minutes "
            "(for follow-ups); that stays in memory only."
        )
    return (
        "<b>What I keep</b>, so the newsroom can see what readers ask and what the article does not answer:\n"
        "• each question's text and how it was answered (answered, not in the article, or an error), how long "
        "it took, and which article and sentences it cited;\n"
        "• the kind of chat it came from (private, group or inline), never which chat;\n"
        "• 👍/👎 votes on answers, under a one-way code that names nobody and links no two of your votes.\n\n"
        "<b>What I never keep</b> in it: your user id, name, username, or the chat's id or name. (So that no "
        "question is lost in a crash, the messages Telegram delivers, with who sent them, wait in a delivery "
        "journal for at most a day.)\n\n"
        f"<b>For how long:</b> {retention_days} days, then it is deleted. Don't write personal details into "
        "a question: its text is kept as written."
    )


def parse_days(args: list[str] | None) -> int | None:
    """/stats' period in days: none given is a week; None when the argument is not a positive number."""
    if not args:
        return DEFAULT_STATS_DAYS
    try:
        days = int(args[0])
    except ValueError:
        return None
    return days if days > 0 else None
