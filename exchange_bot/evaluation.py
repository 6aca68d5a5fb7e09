"""``exchange-bot eval``: score the engine on a question file, a file of conversations or a SQuAD-style sample."""

from __future__ import annotations

import json
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from rag.errors import RagError
from rag.evaluation.conversations import evaluate_conversations, is_conversation_file, load_conversations
from rag.evaluation.questions import evaluate, load_questions
from rag.settings import Settings

from .terminal import Verbose, console, fail, load_settings, open_engine

commands = typer.Typer()


@commands.command("eval")
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
        fail("Give one of --questions FILE, --conversations FILE or --squad DIR.", 2)
    if questions is not None and is_conversation_file(questions):
        questions, conversations = None, questions
    settings = load_settings(verbose)
    if squad is not None:
        _eval_squad(settings, squad, as_json)
        return
    if conversations is not None:
        _eval_conversations(settings, conversations, as_json)
        return
    assert questions is not None
    with open_engine(settings, show_progress=not as_json) as engine:
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
    from rag.evaluation.squad import evaluate_squad

    try:
        with console.status("Indexing each article alone and asking its questions…") if not as_json else nullcontext():
            report = evaluate_squad(settings, directory)
    except RagError as exc:
        fail(str(exc))
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
    with open_engine(settings, show_progress=not as_json) as engine:
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
