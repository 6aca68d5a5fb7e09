"""The ``bench`` command: speed, memory and scaling against a floor and a baseline, in one run.

Shared machines are noisy, so every figure is the median of several runs after a
warm-up (with min and max), and comparisons are ratios taken in the same run.
Sections (issue 4):

- ``start``: cold index build in a fresh data dir (model load included), warm re-index, process start to ready;
- ``latency``: ``Engine.answer`` p50/p95/p99 in-process, offline mode;
- ``floor``: one query embedding plus one Chroma query, and our p50 over it;
- ``baseline``: the LangChain RAG tutorial pipeline on the same corpus and model (``bench_baseline``);
- ``llm``: what our code adds around an instant OpenAI-compatible server (``bench_llm``);
- ``telegram``: the real bot process against the loopback Bot API, 50 users (``bench_telegram``);
- ``scaling``: build time and query p50 at 1, 100 and 1,000 generated documents (``bench_scaling``);
- ``reload``: an article written into the running corpus → the first answer citing it (``bench_reload``).
"""

from __future__ import annotations

import logging
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from .embeddings import MiniLMEmbedding
from .engine import Engine
from .evaluate import EvalQuestion, load_questions
from .index import PassageIndex
from .settings import Settings
from .bench_stats import Figure, child_env, ms_percentiles, offline, percentile, ratio, with_data_dir

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_QUESTIONS = REPO_ROOT.parent / "shared" / "eval" / "qa.jsonl"
# Offline, these go through the multilingual model (rag.multilingual): answered, refused, and in both languages.
FOREIGN_QUESTIONS = [
    "Скільки людей обміняли загалом?", "Сколько гражданских освободила каждая страна?",
    "Хто оголосив про повернення українців?", "Кто выиграл выборы?",
]
READY_PROBE = "from rag import Engine, Settings; Engine.open(Settings())"


class SectionUnavailable(Exception):
    """A section cannot run here (a fixture or an optional package is missing); the reason is reported."""


@dataclass(frozen=True)
class Plan:
    """How many repeats each section makes; ``quick`` keeps the whole run near a minute."""

    quick: bool
    build_runs: int
    start_runs: int
    answer_runs: int
    passes: int  # passes over the questions in one latency run
    baseline_runs: int
    telegram_runs: int
    telegram_rounds: int  # messages each user sends, one round at a time
    users: int
    scaling_sizes: tuple[int, ...]

    @classmethod
    def for_mode(cls, quick: bool) -> "Plan":
        if quick:
            return cls(True, 2, 1, 2, 1, 1, 1, 1, 50, (1, 10))
        return cls(False, 3, 3, 5, 4, 3, 2, 4, 50, (1, 100, 1000))


@dataclass
class BenchContext:
    """What the sections share: offline settings over an existing index, the questions, one engine."""

    settings: Settings
    plan: Plan
    questions: list[EvalQuestion]
    _engine: Engine | None = field(default=None, repr=False)

    @property
    def texts(self) -> list[str]:
        return [q.question for q in self.questions]

    def engine(self) -> Engine:
        """The engine over ``settings.data_dir``, opened once (which also makes sure the index exists)."""
        if self._engine is None:
            self._engine = Engine.open(self.settings)
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()


def _questions(settings: Settings, path: Path | None) -> list[EvalQuestion]:
    """The eval questions; without the file, the example questions of the corpus front matter."""
    path = path or DEFAULT_QUESTIONS
    if path.exists():
        return load_questions(path)
    from .corpus import load_documents

    examples = [e for d in load_documents(settings.corpus_dir) for e in d.examples]
    log.warning("bench.no_eval_file path=%s using=%d front-matter examples", path, len(examples))
    return [EvalQuestion(f"example{i}", text, True, [], []) for i, text in enumerate(examples)]


# -- section 1: start and index ------------------------------------------------------------------


def bench_start(ctx: BenchContext) -> dict[str, Any]:
    cold, warm_open, warm_sync, cold_embedded, warm_embedded, cold_multilingual = [], [], [], [], [], []
    runs = ctx.plan.build_runs + (0 if ctx.plan.quick else 1)  # the first full-mode run warms the page cache
    for run in range(runs):
        with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
            fresh = with_data_dir(ctx.settings, Path(tmp))
            started = time.perf_counter()
            engine = Engine.open(fresh)  # new model session, empty index, word vectors embedded
            seconds = time.perf_counter() - started
            assert engine.last_sync is not None
            embedded = engine.last_sync.embedded
            multilingual = engine.last_multilingual_sync.seconds if engine.last_multilingual_sync else 0.0
            engine.close()
            started = time.perf_counter()
            again = Engine.open(fresh)  # unchanged corpus: hashes match, nothing is embedded
            reopen = time.perf_counter() - started
            assert again.last_sync is not None
            again.close()
        if run < runs - ctx.plan.build_runs:
            continue
        cold.append(seconds)
        cold_embedded.append(embedded)
        cold_multilingual.append(multilingual)
        warm_open.append(reopen)
        warm_sync.append(again.last_sync.seconds)
        warm_embedded.append(again.last_sync.embedded)
    ctx.engine()  # the probe below needs an existing index
    ready = [_process_ready(ctx.settings) for _ in range(ctx.plan.start_runs)]
    figures: dict[str, Any] = {
        "cold_build_s": Figure.of(cold, "s").to_json(),
        "cold_embedded": max(cold_embedded),
        "warm_reindex_s": Figure.of(warm_open, "s").to_json(),
        "warm_sync_s": Figure.of(warm_sync, "s").to_json(),
        "warm_embedded": max(warm_embedded),
        "engine_process_ready_s": Figure.of(ready, "s").to_json(),
    }
    if ctx.settings.multilingual_search:
        # Part of cold_build_s: the same passages embedded again by the multilingual model.
        figures["cold_multilingual_sync_s"] = Figure.of(cold_multilingual, "s").to_json()
    return figures


def _process_ready(settings: Settings) -> float:
    """Seconds from spawning ``python -c 'Engine.open(Settings())'`` to its exit, over an existing index."""
    env = child_env(settings, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])))
    with tempfile.TemporaryDirectory(prefix="bench-probe-") as cwd:  # no stray .env in the child's cwd
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", READY_PROBE], cwd=cwd, env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)
        return time.perf_counter() - started


# -- section 2: answer latency -------------------------------------------------------------------


def answer_samples(engine: Engine, questions: list[str], passes: int) -> list[float]:
    """Seconds of ``engine.answer`` per question, over ``passes`` passes."""
    samples = []
    for _ in range(passes):
        for question in questions:
            started = time.perf_counter()
            engine.answer(question)
            samples.append(time.perf_counter() - started)
    return samples


def bench_latency(ctx: BenchContext) -> dict[str, Any]:
    engine = ctx.engine()
    answer_samples(engine, ctx.texts, 1)  # warm-up: caches, allocator, onnxruntime arenas
    runs = [answer_samples(engine, ctx.texts, ctx.plan.passes) for _ in range(ctx.plan.answer_runs)]
    figures = {**ms_percentiles(runs), "questions": len(ctx.texts), "samples": sum(len(r) for r in runs)}
    if ctx.settings.multilingual_search:
        answer_samples(engine, FOREIGN_QUESTIONS, 1)  # loads the multilingual model
        foreign = [answer_samples(engine, FOREIGN_QUESTIONS, ctx.plan.passes) for _ in range(ctx.plan.answer_runs)]
        figures["multilingual"] = ms_percentiles(foreign)
    return figures


# -- section 3: the floor ------------------------------------------------------------------------


def bench_floor(ctx: BenchContext) -> dict[str, Any]:
    """One embedding and one Chroma query per question, interleaved with ``answer`` so noise hits both."""
    engine = ctx.engine()
    embedder = MiniLMEmbedding(threads=ctx.settings.embedding_threads)
    index = PassageIndex.open(ctx.settings, embedder)
    k = ctx.settings.top_k

    def floor(question: str) -> None:
        index.query(embedder.embed([question])[0], k)

    floors, ours = [], []
    for run in range(ctx.plan.answer_runs + 1):  # run 0 is the warm-up
        floor_s, ours_s = [], []
        for _ in range(ctx.plan.passes):
            for question in ctx.texts:
                started = time.perf_counter()
                floor(question)
                middle = time.perf_counter()
                engine.answer(question)
                floor_s.append(middle - started)
                ours_s.append(time.perf_counter() - middle)
        if run:
            floors.append(floor_s)
            ours.append(ours_s)
    return {
        "floor_p50_ms": Figure.of((percentile(r, 50) * 1000 for r in floors), "ms").to_json(),
        "ours_p50_ms": Figure.of((percentile(r, 50) * 1000 for r in ours), "ms").to_json(),
        "overhead_ratio": Figure.of(
            (ratio(percentile(o, 50), percentile(f, 50)) for o, f in zip(ours, floors)), "x"
        ).to_json(),
    }


# -- the run -------------------------------------------------------------------------------------


def _sections() -> dict[str, Callable[[BenchContext], dict[str, Any]]]:
    from .bench_baseline import bench_baseline
    from .bench_llm import bench_llm
    from .bench_reload import bench_reload
    from .bench_scaling import bench_scaling
    from .bench_telegram import bench_telegram

    return {
        "start": bench_start, "latency": bench_latency, "floor": bench_floor, "baseline": bench_baseline,
        "llm": bench_llm, "telegram": bench_telegram, "scaling": bench_scaling, "reload": bench_reload,
    }


SECTION_NAMES = ("start", "latency", "floor", "baseline", "llm", "telegram", "scaling", "reload")


def run_bench(
    settings: Settings, *, quick: bool = False, sections: list[str] | None = None, questions: Path | None = None
) -> dict[str, Any]:
    """Run the chosen sections (all by default) and return one JSON-able dict with targets checked."""
    chosen = list(sections or SECTION_NAMES)
    unknown = [s for s in chosen if s not in SECTION_NAMES]
    if unknown:
        raise ValueError(f"unknown bench sections {unknown}; known: {', '.join(SECTION_NAMES)}")
    plan = Plan.for_mode(quick)
    ctx = BenchContext(offline(settings), plan, _questions(settings, questions))
    registry = _sections()
    result: dict[str, Any] = {
        "meta": {
            "quick": quick, "python": platform.python_version(), "cores": os.cpu_count(),
            "questions": len(ctx.questions), "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        },
        "sections": {},
    }
    started = time.perf_counter()
    try:
        for name in chosen:
            section_started = time.perf_counter()
            try:
                figures = registry[name](ctx)
            except SectionUnavailable as exc:
                figures = {"available": False, "reason": str(exc)}
            seconds = time.perf_counter() - section_started
            result["sections"][name] = figures | {"seconds": round(seconds, 2)}
            log.info("bench.section name=%s seconds=%.1f available=%s", name, seconds, figures.get("available", True))
    finally:
        ctx.close()
    result["meta"]["seconds"] = round(time.perf_counter() - started, 2)
    result["targets"] = check_targets(result["sections"])
    return result


# -- targets and rendering -----------------------------------------------------------------------


def _measured(sections: dict[str, Any], section: str, figure: str, key: str = "median") -> float | None:
    """A figure's median (or ``key``), a plain number as is, None when the section did not run."""
    value = sections.get(section, {}).get(figure)
    return value.get(key) if isinstance(value, dict) else value


def check_targets(sections: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 4's targets beside the measured figure (the median, or the max for peaks)."""
    ready = _measured(sections, "telegram", "ready_s")
    ready_what = "bot"
    if ready is None:
        ready, ready_what = _measured(sections, "start", "engine_process_ready_s"), "engine"
    largest = sections.get("scaling", {}).get("largest_docs")
    rows = [
        ("answer p50", _measured(sections, "latency", "p50_ms"), "<=", 30.0, "ms"),
        ("answer p95", _measured(sections, "latency", "p95_ms"), "<=", 60.0, "ms"),
        ("overhead over the floor", _measured(sections, "floor", "overhead_ratio"), "<=", 2.0, "x"),
        ("bot throughput, 50 users", _measured(sections, "telegram", "messages_per_s"), ">=", 100.0, "msg/s"),
        ("bot update→reply p95", _measured(sections, "telegram", "p95_ms"), "<=", 500.0, "ms"),
        ("bot peak RSS", _measured(sections, "telegram", "peak_rss_mb", "max"), "<=", 300.0, "MB"),
        (f"start to ready ({ready_what})", ready, "<=", 3.0, "s"),
        (f"query p50 at {largest or '?'} docs / 1 doc", _measured(sections, "scaling", "query_p50_ratio"), "<=", 2.0, "x"),
        ("new article answered", _measured(sections, "reload", "reload_s"), "<=", 5.0, "s"),
    ]
    targets = []
    for name, value, op, limit, unit in rows:
        met = None if value is None else (value <= limit if op == "<=" else value >= limit)
        targets.append({"target": name, "value": value, "limit": f"{op} {limit:g} {unit}", "met": met})
    return targets


def _rows(prefix: str, value: Any) -> list[tuple[str, str, str, str, str]]:
    """Flatten a section into (figure, median, min, max, unit) rows."""
    if isinstance(value, dict) and "median" in value:
        return [(prefix, f"{value['median']:.4g}", f"{value['min']:.4g}", f"{value['max']:.4g}", value["unit"])]
    if isinstance(value, dict):
        return [row for key, item in value.items() for row in _rows(f"{prefix}.{key}" if prefix else key, item)]
    if isinstance(value, str) and len(value) > 40:
        return []  # notes and paths go below the table
    shown = f"{value:.4g}" if isinstance(value, float) else str(value)
    return [(prefix, shown, "", "", "")]


def render_bench(result: dict[str, Any], console: Console) -> None:
    """Print the figures and the targets as rich tables."""
    meta = result.get("meta", {})
    table = Table("section", "figure", "median", "min", "max", "unit",
                  title=f"bench ({'quick' if meta.get('quick') else 'full'}, {meta.get('cores')} cores, "
                        f"{meta.get('questions')} questions, {meta.get('seconds')} s)")
    notes = []
    for section, figures in result.get("sections", {}).items():
        rows = _rows("", figures)
        for index, row in enumerate(rows):
            table.add_row(section if index == 0 else "", *row, end_section=index == len(rows) - 1)
        notes += [f"{section}.{key}: {value}" for key, value in figures.items() if isinstance(value, str) and len(value) > 40]
    console.print(table)
    for note in notes:
        console.print(note, highlight=False)
    targets = Table("target", "measured", "limit", "met", title="issue 4 targets")
    for t in result.get("targets", []):
        value = "n/a" if t["value"] is None else f"{t['value']:.4g}"
        met = {True: "[green]yes[/]", False: "[red]no[/]", None: "[dim]not run[/]"}[t["met"]]
        targets.add_row(t["target"], value, t["limit"], met)
    console.print(targets)
