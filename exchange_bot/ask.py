"""``exchange-bot ask`` and ``exchange-bot chat``: questions answered in the terminal, with their citations."""

from __future__ import annotations

import json
import sys
import time
from typing import Annotated

import typer
from rich.panel import Panel
from rich.table import Table

from rag.engine import Engine, clean_question
from rag.errors import RagError
from rag.live import LiveEngine, watch_corpus
from rag.models import Answer

from .terminal import Verbose, console, load_settings, open_engine, open_live_engine, tell

commands = typer.Typer()


def _ask(source: Engine | LiveEngine, question: str, context: str | None = None) -> Answer | None:
    try:
        # A live engine raises too, when every article was removed while chatting.
        return source.answer(question, context)
    except RagError as exc:
        tell(exc)
        return None


def _print_answer(answer: Answer) -> None:
    body = answer.text if not answer.note else f"{answer.text}\n\n[dim]{answer.note}[/]"
    console.print(Panel(body, title="Answer", title_align="left", expand=False), highlight=False)
    if answer.citations:
        table = Table("#", "Source sentence", "Passage", show_header=True, header_style="bold", expand=False)
        for c in answer.citations:
            table.add_row(str(c.n), c.quote, c.passage_id)
        console.print(table)
    console.print(f"[dim]{answer.mode} · {answer.latency_ms:.0f} ms[/]")


@commands.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in quotes.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a panel.")] = False,
    verbose: Verbose = False,
) -> None:
    """Answer one question with citations."""
    settings = load_settings(verbose)
    try:
        clean_question(question, settings.max_question_chars)  # a question that will be refused builds no index
    except RagError as exc:
        tell(exc)
        raise typer.Exit(1) from None
    with open_engine(settings, show_progress=not as_json) as engine:
        answer = _ask(engine, question)
        if answer is None:
            raise typer.Exit(1)
        if as_json:
            sys.stdout.write(json.dumps(answer.to_json(), ensure_ascii=False) + "\n")
        else:
            _print_answer(answer)


@commands.command()
def chat(verbose: Verbose = False) -> None:
    """A conversation in the terminal: one question per line, /reset to start over, empty line or Ctrl-D to quit.

    As in the bot, a follow-up ("and soldiers?") is read with the previous question when it
    came within FOLLOWUP_WINDOW_SECONDS, and changes to the corpus are answered from at once.
    """
    settings = load_settings(verbose)
    with open_live_engine(settings, show_progress=True) as live:
        watcher = watch_corpus(live, settings)
        titles = ", ".join(f"“{d.title}”" for d in live.current.documents)
        console.print(f"Ask me about {titles}. /reset starts over; an empty line quits.", highlight=False)
        previous: tuple[str, float] | None = None  # the last question as read, and when it was asked
        try:
            while True:
                try:
                    question = console.input("[bold]> [/]")
                except (EOFError, KeyboardInterrupt):
                    break
                if not question.strip():
                    break
                if question.strip() == "/reset":
                    previous = None
                    console.print("[dim]Forgotten: the next question starts a new conversation.[/]")
                    continue
                recent = previous is not None and time.monotonic() - previous[1] <= settings.followup_window_seconds
                answer = _ask(live, question, previous[0] if recent and previous else None)
                if answer is not None:
                    previous = (answer.read_as or answer.question, time.monotonic())
                    _print_answer(answer)
        finally:
            if watcher is not None:
                watcher.stop()
