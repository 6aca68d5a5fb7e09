"""``exchange-bot report``: what readers asked, from the bot's question log in DATA_DIR (the ``newsroom`` package)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from newsroom.command import ReportError, load_report, parse_since, render_text
from newsroom.export import export_questions, write_export
from rag.errors import RagError

from .terminal import Verbose, console, errors, fail, fail_with, load_settings

commands = typer.Typer()


@commands.command()
def report(
    since: Annotated[str, typer.Option(help="How far back: 7d, 24h, 90m, 2w, or a date (UTC).")] = "7d",
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as one JSON object.")] = False,
    html: Annotated[
        Path | None, typer.Option("--html", dir_okay=False, help="Write the report as one HTML page.")
    ] = None,
    export: Annotated[
        Path | None,
        typer.Option("--export", dir_okay=False, help="Write the refused and voted-down questions as eval JSONL."),
    ] = None,
    verbose: Verbose = False,
) -> None:
    """What readers asked (the bot's question log in DATA_DIR): per article, answered and refused shares, votes,
    latency, the questions the article does not answer grouped by meaning, and the answers voted down."""
    settings = load_settings(verbose)
    try:
        loaded = load_report(settings, parse_since(since))
    except ReportError as exc:
        fail(str(exc), 2)
    except RagError as exc:
        fail_with(exc)
    try:
        if html is not None:
            from newsroom.html import render_html  # matplotlib: loaded only for a page

            html.write_text(render_html(loaded.report), encoding="utf-8")
        if export is not None:
            questions = export_questions(loaded.entries)
            write_export(export, questions)
            errors.print(f"{len(questions)} questions written to {escape(str(export))} (facts left for an editor).")
    except OSError as exc:
        fail(f"Cannot write {exc.filename}: {exc.strerror}")
    if as_json:
        sys.stdout.write(json.dumps(loaded.report.to_json(), ensure_ascii=False) + "\n")
    elif html is None and export is None:
        console.print(escape(render_text(loaded.report)), highlight=False, soft_wrap=True)
