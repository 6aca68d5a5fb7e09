"""What every command shares: the terminal's two streams, one-line failures, the settings, and the engine opened
with a progress bar."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from rag.corpus import ProgressCallback
from rag.engine import Engine
from rag.errors import RagError
from rag.live import LiveEngine
from rag.settings import Settings, describe_validation_error

console = Console()
errors = Console(stderr=True)

Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Log what the engine does (to stderr).")]


def fail(message: str, code: int = 1) -> NoReturn:
    errors.print(f"[bold red]Error:[/] {escape(message)}", highlight=False, soft_wrap=True)  # "[bench]" is no markup
    raise typer.Exit(code)


def fail_with(error: RagError) -> NoReturn:
    """One line: what a user should know, then the operator's detail (never a secret: see rag.errors)."""
    fail(f"{error.user_message} ({error})")


def tell(error: RagError) -> None:
    """A refused question: the user's message alone, as the bot gives it."""
    errors.print(error.user_message, highlight=False, soft_wrap=True)


def load_settings(verbose: bool) -> Settings:
    """Settings from the environment and .env; a bad one stops here with one clear line."""
    try:
        settings = Settings()
    except ValidationError as exc:
        fail(describe_validation_error(exc), 2)
    logging.basicConfig(
        level=settings.log_level if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("httpx", "httpx2", "chromadb", "bm25s"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return settings


@contextmanager
def _progress(show: bool) -> Iterator[ProgressCallback | None]:
    """A progress bar on stderr for each stage of opening (splitting sentences, embedding passages), or nothing."""
    if not show:
        yield None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=errors, transient=True) as progress:
        task = progress.add_task("Reading the corpus", total=None)

        def show_stage(stage: str, done: int, total: int) -> None:
            progress.update(task, description=stage, completed=done, total=total)

        yield show_stage


@contextmanager
def open_live_engine(settings: Settings, *, show_progress: bool) -> Iterator[LiveEngine]:
    """Open the engine (building the index if needed), turning engine errors into one line."""
    try:
        with _progress(show_progress) as progress:
            live = LiveEngine.open(settings, progress=progress)
    except RagError as exc:
        fail_with(exc)
    try:
        yield live
    finally:
        live.close()


@contextmanager
def open_engine(settings: Settings, *, show_progress: bool) -> Iterator[Engine]:
    with open_live_engine(settings, show_progress=show_progress) as live:
        yield live.current
