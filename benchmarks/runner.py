"""One run of the chosen sections, as one JSON-able dict with the targets checked.

Shared machines are noisy, so every figure is the median of several runs after a
warm-up (with min and max), and comparisons are ratios taken in the same run.
Sections:

- ``start``: cold index build in a fresh data dir (model load included), warm re-index, process start to ready;
- ``latency``: ``Engine.answer`` p50/p95/p99 in-process, offline mode;
- ``floor``: one query embedding plus one Chroma query, and our p50 over it;
- ``baseline``: the LangChain RAG tutorial pipeline on the same corpus and model;
- ``llm``: what our code adds around an instant OpenAI-compatible server;
- ``telegram``: the real bot process against the loopback Bot API, 50 users;
- ``scaling``: build time and query p50 at 1, 100 and 1,000 generated documents;
- ``reload``: an article written into the running corpus → the first answer citing it;
- ``report``: ``exchange-bot report`` on a generated log of 100,000 questions, and one logged question's cost;
- ``grouping``: how pure and complete the report's groups of paraphrases are (labelled sample, SQuAD by article).
"""

from __future__ import annotations

import logging
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rag.settings import Settings

from .baseline import bench_baseline
from .checkout import SHARED_QUESTIONS
from .context import BenchContext, Plan, SectionUnavailable, bench_questions
from .latency import bench_floor, bench_latency
from .llm import bench_llm
from .newsroom import bench_grouping, bench_report
from .reload import bench_reload
from .report import check_targets
from .scaling import bench_scaling
from .start import bench_start
from .stats import offline
from .telegram_bot import bench_telegram

log = logging.getLogger(__name__)

SECTIONS: dict[str, Callable[[BenchContext], dict[str, Any]]] = {
    "start": bench_start, "latency": bench_latency, "floor": bench_floor, "baseline": bench_baseline,
    "llm": bench_llm, "telegram": bench_telegram, "scaling": bench_scaling, "reload": bench_reload,
    "report": bench_report, "grouping": bench_grouping,
}
SECTION_NAMES = tuple(SECTIONS)


def run_bench(
    settings: Settings, *, quick: bool = False, sections: list[str] | None = None, questions: Path | None = None
) -> dict[str, Any]:
    """Run the chosen sections (all by default) and return one JSON-able dict with targets checked."""
    chosen = list(sections or SECTION_NAMES)
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown:
        raise ValueError(f"unknown bench sections {unknown}; known: {', '.join(SECTION_NAMES)}")
    plan = Plan.for_mode(quick)
    ctx = BenchContext(offline(settings), plan, bench_questions(settings, questions or SHARED_QUESTIONS))
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
                figures = SECTIONS[name](ctx)
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
