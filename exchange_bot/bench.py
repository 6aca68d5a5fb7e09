"""``exchange-bot bench``: the checkout's benchmarks (the ``benchmarks/`` package, not installed), under this name."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import typer

from .terminal import fail

commands = typer.Typer()

BENCH_EXTRA = ("langchain_chroma", "langchain_text_splitters", "psutil")  # pyproject.toml's `bench` extra


def _importable(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


@commands.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True}, add_help_option=False)
def bench(ctx: typer.Context) -> None:
    """Measure speed, memory and scaling, from a checkout (the benchmarks/ package; --help lists its options)."""
    # Not in the wheel: a checkout's benchmarks/ package. A console script's import path starts at its own
    # folder (and pysbd installs an unrelated top-level `benchmarks`), so, as `python -m` does, the current
    # folder goes first when it holds the package.
    here = Path.cwd()
    if (here / "benchmarks" / "__main__.py").is_file() and sys.path[:1] != [str(here)]:
        sys.path.insert(0, str(here))
    missing = [name for name in BENCH_EXTRA if not _importable(name)]
    if missing:
        fail(f"exchange-bot bench needs the bench extra ({', '.join(missing)} missing): pip install -e \".[bench]\"", 2)
    try:
        from benchmarks.cli import main
    except ModuleNotFoundError as exc:
        if exc.name not in ("benchmarks", "benchmarks.cli"):
            raise
        fail('bench runs from a source checkout: cd to its root and pip install -e ".[bench]"', 2)
    main(ctx.args, prog_name="exchange-bot bench")
