"""The benchmark command: ``python -m benchmarks`` from a checkout, and ``exchange-bot bench`` forwards here."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated

from enum import Enum

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from rag.errors import RagError
from rag.settings import Settings, describe_validation_error

from .report import render_bench
from .runner import SECTION_NAMES, run_bench

command = typer.Typer(add_completion=False)
Section = Enum("Section", {name: name for name in SECTION_NAMES}, type=str)  # choices in --help
console = Console()
errors = Console(stderr=True)


@command.command()
def bench(
    quick: Annotated[bool, typer.Option("--quick", help="Fewer repeats and sizes (about a minute).")] = False,
    section: Annotated[
        list[Section] | None, typer.Option("--section", "-s", help="Run only these sections."),
    ] = None,
    questions: Annotated[
        Path | None,
        typer.Option(help="Eval questions (JSONL); default: shared/eval/qa.jsonl beside the checkout, if there."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each section (to stderr).")] = False,
) -> None:
    """Measure speed, memory and scaling against the floor and a LangChain baseline, in one run."""
    try:
        settings = Settings()
    except ValidationError as exc:
        errors.print(describe_validation_error(exc), highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s", stream=sys.stderr)
    logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s sets its own logger to DEBUG when imported
    if verbose:
        logging.getLogger(__package__).setLevel(logging.INFO)  # the sections' lines, not every HTTP request
    try:
        result = run_bench(settings, quick=quick, sections=[s.value for s in section or ()] or None, questions=questions)
    except RagError as exc:
        # What a user should know, then the operator's detail; escaped: a message may hold "[…]", which is no markup.
        errors.print(f"[bold red]Error:[/] {escape(f'{exc.user_message} ({exc})')}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    if as_json:
        sys.stdout.write(json.dumps(result) + "\n")
    else:
        render_bench(result, console)


def main(args: list[str] | None = None, prog_name: str = "python -m benchmarks") -> None:
    """Parse ``args`` (the command line when None), run, and exit with the command's status."""
    command(args=args, prog_name=prog_name)
