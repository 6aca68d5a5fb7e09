"""The ``latency`` and ``floor`` sections: ``Engine.answer`` in-process, and the least any answer costs
(one query embedding plus one Chroma query), interleaved with ours so that noise hits both."""

from __future__ import annotations

import time
from typing import Any

from rag.embeddings import MiniLMEmbedding
from rag.engine import Engine
from rag.index import PassageIndex

from .context import BenchContext
from .stats import Figure, ms_percentiles, percentile, ratio

# Offline, these go through the multilingual model (rag.multilingual): answered, refused, and in both languages.
FOREIGN_QUESTIONS = [
    "Скільки людей обміняли загалом?", "Сколько гражданских освободила каждая страна?",
    "Хто оголосив про повернення українців?", "Кто выиграл выборы?",
]


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
