"""The ``start`` section: a cold index build in a fresh data directory (model load included), a warm
re-index of the unchanged corpus, and a new process from spawn to an open engine."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rag.engine import Engine
from rag.settings import Settings

from .checkout import child_pythonpath
from .context import BenchContext
from .stats import Figure, child_env, with_data_dir

READY_PROBE = "from rag import Engine, Settings; Engine.open(Settings())"


def bench_start(ctx: BenchContext) -> dict[str, Any]:
    cold, warm_open, warm_sync, cold_embedded, warm_embedded, cold_multilingual = [], [], [], [], [], []
    runs = ctx.plan.build_runs + (0 if ctx.plan.quick else 1)  # the first full-mode run warms the page cache
    for run in range(runs):
        with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
            fresh = with_data_dir(ctx.settings, Path(tmp))
            started = time.perf_counter()
            engine = Engine.open(fresh)  # new model session, empty index, every passage embedded
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
    env = child_env(settings, PYTHONPATH=child_pythonpath())
    with tempfile.TemporaryDirectory(prefix="bench-probe-") as cwd:  # no stray .env in the child's cwd
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", READY_PROBE], cwd=cwd, env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)
        return time.perf_counter() - started
