"""The command line: index, ask, chat, eval, bench and serve — thin callers of the engine."""

from __future__ import annotations

import importlib
import json
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from .engine import Engine, clean_question
from .errors import RagError
from .corpus import ProgressCallback
from .live import LiveEngine, watch_corpus
from .evaluate import evaluate, load_questions
from .evaluate_conversations import evaluate_conversations, is_conversation_file, load_conversations
from .models import Answer
from .settings import Settings, describe_validation_error

app = typer.Typer(help="Answer questions about news articles, citing the sentences used.", no_args_is_help=True)
console = Console()
errors = Console(stderr=True)

BENCH_EXTRA = ("langchain_chroma", "langchain_text_splitters", "psutil")  # pyproject.toml's `bench` extra

Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Log what the engine does (to stderr).")]


def _fail(message: str, code: int = 1) -> NoReturn:
    errors.print(f"[bold red]Error:[/] {escape(message)}", highlight=False, soft_wrap=True)  # "[bench]" is no markup
    raise typer.Exit(code)


def _fail_with(error: RagError) -> NoReturn:
    """One line: what a user should know, then the operator's detail (never a secret: see rag.errors)."""
    _fail(f"{error.user_message} ({error})")


def _importable(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def _setup(verbose: bool) -> Settings:
    """Settings from the environment and .env; a bad one stops here with one clear line."""
    try:
        settings = Settings()
    except ValidationError as exc:
        _fail(describe_validation_error(exc), 2)
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
def _live_engine(settings: Settings, *, show_progress: bool) -> Iterator[LiveEngine]:
    """Open the engine (building the index if needed), turning engine errors into one line."""
    try:
        with _progress(show_progress) as progress:
            live = LiveEngine.open(settings, progress=progress)
    except RagError as exc:
        _fail_with(exc)
    try:
        yield live
    finally:
        live.close()


@contextmanager
def _engine(settings: Settings, *, show_progress: bool) -> Iterator[Engine]:
    with _live_engine(settings, show_progress=show_progress) as live:
        yield live.current


def _ask(source: Engine | LiveEngine, question: str, context: str | None = None) -> Answer | None:
    try:
        # A live engine raises too, when every article was removed while chatting.
        return source.answer(question, context)
    except RagError as exc:
        _tell(exc)
        return None


def _tell(error: RagError) -> None:
    """A refused question: the user's message alone, as the bot gives it."""
    errors.print(error.user_message, highlight=False, soft_wrap=True)


def _print_answer(answer: Answer) -> None:
    body = answer.text if not answer.note else f"{answer.text}\n\n[dim]{answer.note}[/]"
    console.print(Panel(body, title="Answer", title_align="left", expand=False), highlight=False)
    if answer.citations:
        table = Table("#", "Source sentence", "Passage", show_header=True, header_style="bold", expand=False)
        for c in answer.citations:
            table.add_row(str(c.n), c.quote, c.passage_id)
        console.print(table)
    console.print(f"[dim]{answer.mode} · {answer.latency_ms:.0f} ms[/]")


@app.command()
def index(verbose: Verbose = False) -> None:
    """Build or update the index of the corpus (only new or changed sentences are embedded)."""
    settings = _setup(verbose)
    with _engine(settings, show_progress=True) as engine:
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


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in quotes.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a panel.")] = False,
    verbose: Verbose = False,
) -> None:
    """Answer one question with citations."""
    settings = _setup(verbose)
    try:
        clean_question(question, settings.max_question_chars)  # a question that will be refused builds no index
    except RagError as exc:
        _tell(exc)
        raise typer.Exit(1) from None
    with _engine(settings, show_progress=not as_json) as engine:
        answer = _ask(engine, question)
        if answer is None:
            raise typer.Exit(1)
        if as_json:
            sys.stdout.write(json.dumps(answer.to_json(), ensure_ascii=False) + "\n")
        else:
            _print_answer(answer)


@app.command()
def chat(verbose: Verbose = False) -> None:
    """A conversation in the terminal: one question per line, /reset to start over, empty line or Ctrl-D to quit.

    As in the bot, a follow-up ("and soldiers?") is read with the previous question when it
    came within FOLLOWUP_WINDOW_SECONDS, and changes to the corpus are answered from at once.
    """
    settings = _setup(verbose)
    with _live_engine(settings, show_progress=True) as live:
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


@app.command("eval")
def eval_command(
    questions: Annotated[
        Path | None, typer.Option("--questions", "-q", exists=True, dir_okay=False, help="JSONL file.")
    ] = None,
    conversations: Annotated[
        Path | None,
        typer.Option("--conversations", "-c", exists=True, dir_okay=False, help="JSONL file of conversations."),
    ] = None,
    squad: Annotated[
        Path | None,
        typer.Option("--squad", exists=True, file_okay=False, help="SQuAD-style sample: corpus/ + questions.jsonl."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics and results as JSON.")] = False,
    verbose: Verbose = False,
) -> None:
    """Score the engine on a question file: accuracy, citation precision/recall, refusals, hit@k, MRR.

    A file of conversations (given with --conversations, or recognised by its ``turns``) is scored
    turn by turn: follow-ups read with their context, and every turn also asked alone. A SQuAD-style
    sample (--squad DIR: corpus/ and questions.jsonl) is scored with each article indexed alone.
    """
    if sum(option is not None for option in (questions, conversations, squad)) != 1:
        _fail("Give one of --questions FILE, --conversations FILE or --squad DIR.", 2)
    if questions is not None and is_conversation_file(questions):
        questions, conversations = None, questions
    settings = _setup(verbose)
    if squad is not None:
        _eval_squad(settings, squad, as_json)
        return
    if conversations is not None:
        _eval_conversations(settings, conversations, as_json)
        return
    assert questions is not None
    with _engine(settings, show_progress=not as_json) as engine:
        report = evaluate(engine, load_questions(questions))
    if as_json:
        payload = report.summary() | {"results": [r.__dict__ for r in report.results]}
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
        return
    table = Table("id", "ok", "rank", "cited", "question", "answer", expand=False)
    for r in report.results:
        table.add_row(
            r.qid, "✓" if r.correct else "✗", str(r.first_relevant_rank or "-"),
            f"{r.cited_relevant}/{r.cited_total}", r.question, r.answer[:90],
        )
    console.print(table)
    _print_summary(report.summary())


def _print_summary(summary: dict[str, object]) -> None:
    table = Table("metric", "value", expand=False)
    for name, value in summary.items():
        table.add_row(name, f"{value:.3f}" if isinstance(value, float) else str(value))
    console.print(table)


def _eval_squad(settings: Settings, directory: Path, as_json: bool) -> None:
    """Each article of the sample indexed alone, every question asked, scored as the sample's README says."""
    from .evaluate_squad import evaluate_squad

    try:
        with console.status("Indexing each article alone and asking its questions…") if not as_json else nullcontext():
            report = evaluate_squad(settings, directory)
    except RagError as exc:
        _fail(str(exc))
    if as_json:
        payload = report.summary() | {"results": [r.__dict__ for r in report.results]}
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
        return
    table = Table("article", "ok", "kind", "question", "answer", expand=False)
    for r in report.results:
        kind = "answerable" if r.answerable else "unanswerable"
        table.add_row(r.article, "✓" if r.correct else "✗", kind, r.question, r.answer[:90])
    console.print(table)
    summary = report.summary()
    articles = summary.pop("articles")
    _print_summary(summary | {f"overall {slug}": value for slug, value in articles.items()})


def _eval_conversations(settings: Settings, path: Path, as_json: bool) -> None:
    with _engine(settings, show_progress=not as_json) as engine:
        report = evaluate_conversations(engine, load_conversations(path))
    if as_json:
        sys.stdout.write(json.dumps(report.summary(), ensure_ascii=False) + "\n")
        return
    groups = {
        "follow-ups, in conversation": report.follow_ups, "follow-ups, asked alone": report.follow_ups_alone,
        "self-contained, in conversation": report.standalone, "self-contained, asked alone": report.standalone_alone,
    }
    metrics = ("answer_accuracy", "citation_precision", "refusal_accuracy", "hit_at_3", "questions")
    table = Table("turns", "accuracy", "cit. precision", "refusal", "hit@3", "n", expand=False)
    for name, group in groups.items():
        values = group.summary()
        table.add_row(name, *(f"{values[m]:.3f}" if isinstance(values[m], float) else str(values[m]) for m in metrics))
    console.print(table)
    console.print(f"{report.conversations} conversations; need for context judged right: {report.context_judged_right:.3f}")


@app.command()
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
    from newsroom.command import ReportError, load_report, parse_since, render_text  # the newsroom's, beside rag
    from newsroom.export import export_questions, write_export

    settings = _setup(verbose)
    try:
        loaded = load_report(settings, parse_since(since))
    except ReportError as exc:
        _fail(str(exc), 2)
    except RagError as exc:
        _fail_with(exc)
    try:
        if html is not None:
            from newsroom.html import render_html  # matplotlib: loaded only for a page

            html.write_text(render_html(loaded.report), encoding="utf-8")
        if export is not None:
            questions = export_questions(loaded.entries)
            write_export(export, questions)
            errors.print(f"{len(questions)} questions written to {escape(str(export))} (facts left for an editor).")
    except OSError as exc:
        _fail(f"Cannot write {exc.filename}: {exc.strerror}")
    if as_json:
        sys.stdout.write(json.dumps(loaded.report.to_json(), ensure_ascii=False) + "\n")
    elif html is None and export is None:
        console.print(escape(render_text(loaded.report)), highlight=False, soft_wrap=True)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True}, add_help_option=False)
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
        _fail(f"exchange-bot bench needs the bench extra ({', '.join(missing)} missing): pip install -e \".[bench]\"", 2)
    try:
        from benchmarks.cli import main
    except ModuleNotFoundError as exc:
        if exc.name not in ("benchmarks", "benchmarks.cli"):
            raise
        _fail('bench runs from a source checkout: cd to its root and pip install -e ".[bench]"', 2)
    main(ctx.args, prog_name="exchange-bot bench")


@app.command()
def serve() -> None:
    """Run the Telegram bot (needs TELEGRAM_BOT_TOKEN); LOG_LEVEL sets how much it logs."""
    import bot  # the bot configures its own logging, with secrets redacted

    bot.main()


if __name__ == "__main__":
    app()
