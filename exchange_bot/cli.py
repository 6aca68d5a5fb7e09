"""The ``exchange-bot`` command: one typer app, each group of commands in a module of its own.

Adding a command: write it in a module of this package on a ``commands = typer.Typer()`` of its own
(``serve.py`` is the smallest example), then add one ``app.add_typer(module.commands)`` line below;
``--help`` lists the commands in the order they are added.
"""

from __future__ import annotations

import typer

from . import ask, bench, evaluation, index, report, serve

app = typer.Typer(help="Answer questions about news articles, citing the sentences used.", no_args_is_help=True)
app.add_typer(index.commands)  # index
app.add_typer(ask.commands)  # ask, chat
app.add_typer(evaluation.commands)  # eval
app.add_typer(report.commands)  # report
app.add_typer(bench.commands)  # bench
app.add_typer(serve.commands)  # serve
