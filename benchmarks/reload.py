"""The ``reload`` section: an article written into a running corpus → the first answer citing it.

A ``LiveEngine`` with the real file watcher serves a temporary copy of the corpus. Each run
writes a new article and asks its question until an answer cites it (the watcher's quiet
period, the incremental sync, the swap, and one answer); then deletes it and asks until it is
no longer cited. ``embedded`` shows that only the new article's sentences were embedded.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from rag.embeddings import MiniLMEmbedding
from rag.live import LiveEngine, watch_corpus

from .context import BenchContext
from .stats import Figure, with_data_dir

QUESTION = "Which ballad won the contest?"
POLL_S = 0.02
GIVE_UP_S = 120.0


def _article(run: int) -> str:
    return (
        f"---\ntitle: Basel Hosts the Eurovision Final, take {run}\ndate: 2025-06-01\n---\n"
        "The Eurovision Song Contest final took place in Basel on Saturday night.\n"
        "Austrian singer JJ won the contest with the ballad Wasted Love.\n"
        "Israel finished second after a strong public vote.\n"
    )


def _seconds_until(live: LiveEngine, slug: str, cited: bool, since: float) -> float:
    """Seconds from ``since`` until an answer to QUESTION cites (or stops citing) document ``slug``."""
    while True:
        answer = live.answer(QUESTION)
        if any(c.passage_id.startswith(f"{slug}:") for c in answer.citations) == cited:
            return time.perf_counter() - since
        if time.perf_counter() - since > GIVE_UP_S:
            raise RuntimeError(f"reload: {slug} {'not cited' if cited else 'still cited'} after {GIVE_UP_S:.0f} s")
        time.sleep(POLL_S)


def bench_reload(ctx: BenchContext) -> dict[str, Any]:
    added, removed, embedded = [], [], []
    with tempfile.TemporaryDirectory(prefix="bench-reload-") as tmp:
        corpus = Path(tmp) / "corpus"
        shutil.copytree(ctx.settings.corpus_dir, corpus)
        settings = with_data_dir(ctx.settings, Path(tmp) / "data", corpus).model_copy(update={"corpus_watch": True})
        embedder = MiniLMEmbedding(threads=settings.embedding_threads, model_dir=settings.model_dir)
        live = LiveEngine.open(settings, embedder=embedder)
        watcher = watch_corpus(live, settings)
        assert watcher is not None
        try:
            for run in range(ctx.plan.build_runs):
                slug = f"bench-reload-{run}"
                path = corpus / f"{slug}.md"
                started = time.perf_counter()
                path.write_text(_article(run), encoding="utf-8")
                added.append(_seconds_until(live, slug, True, started))
                embedded.append(live.current.last_sync.embedded if live.current.last_sync else -1)
                started = time.perf_counter()
                path.unlink()
                removed.append(_seconds_until(live, slug, False, started))
        finally:
            watcher.stop()
            live.close()
    return {
        "reload_s": Figure.of(added, "s").to_json(),
        "removed_s": Figure.of(removed, "s").to_json(),
        "embedded": max(embedded),
    }
