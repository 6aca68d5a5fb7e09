"""The newsroom's side: the question log and the report.

- ``report``: ``exchange-bot report`` (text, JSON, HTML, export) on a generated log of 100,000 questions (10,000
  with ``--quick``), every one embedded as the engine embeds it to answer; and what ``QuestionLog.record`` costs
  an answer, one durable write at a time.
- ``grouping``: how well the report's groups put paraphrases together, on the labelled sample in
  ``benchmarks/data/paraphrases.jsonl`` (questions about news topics, not the corpus) and on the SQuAD sample's
  questions grouped by article. Both as B-cubed precision (how pure each question's group is) and recall (how
  much of its true group it holds together).

The generated log is shaped like a busy one: most answers cite a sentence, about a third are refused, and the
refused questions are a long tail of things readers want (a few asked very often), each in a few wordings. A
wording's vector is fixed (the engine embeds the same words the same way); wordings of one question sit at
about the cosine paraphrases have in MiniLM.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from newsroom.command import load_report, render_text
from newsroom.export import export_questions
from newsroom.groups import group_labels
from newsroom.html import render_html
from newsroom.log import LoggedQuestion, QuestionLog, question_log_path
from newsroom.report import Corpus
from rag.embeddings import DIMENSION, MiniLMEmbedding

from .checkout import SHARED_QUESTIONS, child_pythonpath
from .context import BenchContext
from .stats import Figure, child_env, percentile, with_data_dir

PARAPHRASES = Path(__file__).resolve().parent / "data" / "paraphrases.jsonl"
SQUAD_QUESTIONS = SHARED_QUESTIONS.parent / "squad2" / "questions.jsonl"
_DAY = 86400.0
_SINGLE_WRITES = 200  # records timed one by one, each synced to disk


def generated_log(path: Path, questions: int, articles: list[str], passages: list[str], seed: int = 0) -> None:
    """A log of ``questions`` over the last seven days (see the module docstring for its shape)."""
    rng = np.random.default_rng(seed)
    intents = max(questions // 50, 10)
    popularity = 1.0 / np.arange(1, intents + 1)  # Zipf: a few questions very often, most once or twice
    popularity /= popularity.sum()
    centres = rng.normal(size=(intents, DIMENSION)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    wordings_per_intent = 4
    # A wording = its question's centre plus noise: cosine about 0.85 to the centre, 0.7 between two wordings.
    noise = rng.normal(size=(intents * wordings_per_intent, DIMENSION)).astype(np.float32)
    noise *= 0.62 / np.linalg.norm(noise, axis=1, keepdims=True)
    wordings = np.repeat(centres, wordings_per_intent, axis=0) + noise
    wordings /= np.linalg.norm(wordings, axis=1, keepdims=True)
    outcomes = rng.choice(["answered", "refused", "fallback", "error"], size=questions, p=[0.6, 0.35, 0.03, 0.02])
    intent_of = rng.choice(intents, size=questions, p=popularity)
    wording_of = intent_of * wordings_per_intent + rng.integers(0, wordings_per_intent, size=questions)
    now = time.time()
    entries = []
    for n in range(questions):
        outcome = str(outcomes[n])
        cited = (passages[int(rng.integers(len(passages)))],) if outcome in ("answered", "fallback") else ()
        entries.append(LoggedQuestion(
            answer_id=f"bench-{n}", question=f"generated question {wording_of[n]} (wording of {intent_of[n]})",
            outcome=outcome, mode="offline-fallback" if outcome == "fallback" else "offline",  # type: ignore[arg-type]
            latency_ms=float(rng.lognormal(3.3, 0.4)), chat_type="group", article=articles[n % len(articles)],
            article_version=None, passage_ids=cited, asked_at=now - float(rng.random()) * 7 * _DAY,
            embedding=wordings[wording_of[n]],
        ))
    log = QuestionLog.open(path)
    log.record_many(entries)
    answered = [e.answer_id for e in entries if e.passage_ids]
    for answer_id in rng.choice(answered, size=len(answered) // 20, replace=False):
        log.vote(str(answer_id), str(rng.integers(10**9)), 1 if rng.random() < 0.7 else -1)
    log.close()


def _single_writes_ms(path: Path) -> list[float]:
    """What logging adds to one answer: ``record`` with its sync to disk, timed one at a time."""
    log = QuestionLog.open(path)
    vector = np.ones(DIMENSION, dtype=np.float32) / np.sqrt(DIMENSION)
    times = []
    try:
        for n in range(_SINGLE_WRITES):
            entry = LoggedQuestion(f"single-{n}", "A question nobody answered?", "refused", "offline", 20.0,
                                   "private", None, None, (), time.time(), vector)
            started = time.perf_counter()
            log.record(entry)
            times.append((time.perf_counter() - started) * 1000)
    finally:
        log.close()
    return times


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def bench_report(ctx: BenchContext) -> dict[str, Any]:
    questions = 10_000 if ctx.plan.quick else 100_000
    runs = 1 if ctx.plan.quick else 3
    corpus = Corpus.load(ctx.settings.corpus_dir)
    in_process, command, command_cpu = [], [], []
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        settings = with_data_dir(ctx.settings, Path(tmp) / "data")
        generate_started = time.perf_counter()
        generated_log(question_log_path(settings.data_dir), questions, list(corpus.documents), list(corpus.passages))
        generate_s = time.perf_counter() - generate_started
        for _ in range(runs):
            started = time.perf_counter()
            loaded = load_report(settings, time.time() - 7 * _DAY)
            outputs = [render_text(loaded.report), render_html(loaded.report), json.dumps(loaded.report.to_json())]
            outputs.append(json.dumps(export_questions(loaded.entries)))
            in_process.append(time.perf_counter() - started)
        for _ in range(runs):  # the command as an editor runs it: a new process, every output at once
            started, cpu_before = time.perf_counter(), _children_cpu_s()
            subprocess.run(
                [sys.executable, "-m", "rag.cli", "report", "--json", "--html", str(Path(tmp) / "r.html"),
                 "--export", str(Path(tmp) / "r.jsonl")],
                env=child_env(settings, PYTHONPATH=child_pythonpath()), check=True, capture_output=True, timeout=300,
            )
            command.append(time.perf_counter() - started)
            command_cpu.append(_children_cpu_s() - cpu_before)
        writes = _single_writes_ms(Path(tmp) / "single" / "questions.sqlite3")
        groups = sum(len(a.unanswered) for a in loaded.report.articles)
    return {
        "questions": questions,
        "unanswered_groups": groups,
        "generate_s": round(generate_s, 2),
        "report_s": Figure.of(in_process, "s").to_json(),
        "command_s": Figure.of(command, "s").to_json(),
        # CPU seconds of the command: its time on an idle machine; on a shared one the wall time also waits for a core.
        "command_cpu_s": Figure.of(command_cpu, "s").to_json(),
        "record_p50_ms": Figure.of([percentile(writes, 50)], "ms").to_json(),
        "record_p95_ms": Figure.of([percentile(writes, 95)], "ms").to_json(),
    }


def bcubed(predicted: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """B-cubed precision and recall of a grouping against the true one (labels per item)."""
    same_predicted = predicted[:, None] == predicted[None, :]
    same_truth = truth[:, None] == truth[None, :]
    both = (same_predicted & same_truth).sum(axis=1)
    return float(np.mean(both / same_predicted.sum(axis=1))), float(np.mean(both / same_truth.sum(axis=1)))


def _grouping_figures(name: str, vectors: np.ndarray, truth: np.ndarray) -> dict[str, Any]:
    predicted = group_labels(vectors, np.ones(len(vectors), dtype=np.float32))
    precision, recall = bcubed(predicted, truth)
    return {
        f"{name}_questions": len(truth), f"{name}_true_groups": len(set(truth.tolist())),
        f"{name}_groups": int(predicted.max()) + 1,
        f"{name}_precision": Figure.of([precision], "").to_json(), f"{name}_recall": Figure.of([recall], "").to_json(),
    }


def bench_grouping(ctx: BenchContext) -> dict[str, Any]:
    embedder = MiniLMEmbedding(threads=ctx.settings.embedding_threads, model_dir=ctx.settings.model_dir)
    rows = [json.loads(line) for line in PARAPHRASES.read_text(encoding="utf-8").splitlines() if line.strip()]
    texts = [q for row in rows for q in row["questions"]]
    result = _grouping_figures(
        "paraphrases", embedder.embed(texts), np.array([row["group"] for row in rows for _ in row["questions"]])
    )
    if SQUAD_QUESTIONS.exists():
        squad = [json.loads(line) for line in SQUAD_QUESTIONS.read_text(encoding="utf-8").splitlines() if line]
        result |= _grouping_figures(
            "squad_by_article", embedder.embed([q["question"] for q in squad]), np.array([q["article"] for q in squad])
        )
    return result
