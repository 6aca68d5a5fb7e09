"""``exchange-bot index``: build or update the index, and name the example questions the bot will not suggest."""

from __future__ import annotations

import typer
from rich.markup import escape

from .terminal import Verbose, console, load_settings, open_engine

commands = typer.Typer()


@commands.command()
def index(verbose: Verbose = False) -> None:
    """Build or update the index of the corpus (only new or changed sentences are embedded)."""
    settings = load_settings(verbose)
    with open_engine(settings, show_progress=True) as engine:
        report = engine.last_sync
        info = engine.info()
        assert report is not None
        console.print(
            f"Indexed {info.passages} passages from {len(info.documents)} document(s) at {info.index_location}: "
            f"{report.added} added, {report.updated} updated, {report.removed} removed, {report.unchanged} unchanged; "
            f"{report.embedded} embedded in {report.seconds:.2f} s."
        )
        multilingual = engine.last_multilingual_sync
        if multilingual is not None:
            console.print(
                f"Multilingual search: {multilingual.embedded} embedded in {multilingual.seconds:.2f} s "
                f"({multilingual.unchanged} unchanged)."
            )
        for document in engine.documents:
            unanswered = [q for q in document.examples if not engine.answers(q)]
            if unanswered:  # /start would not suggest them: tell the newsroom, who can reword them
                console.print(
                    f"[yellow]“{escape(document.title)}”: the offline reader does not answer {len(unanswered)} of its "
                    f"example question(s), so the bot will not suggest them: {escape('; '.join(unanswered))}[/yellow]",
                    soft_wrap=True,
                )
