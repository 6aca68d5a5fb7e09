"""LLM overhead: what our code adds around one chat-completions call to a server that answers at once.

Per question, the engine in LLM mode answers against the loopback fake of the
tests (``tests/openai_fake.py``), and the same prompt is sent once more through a
bare ``openai`` client. The difference is our share: retrieval, prompting,
LangChain's structured-output parsing and the citation check.
"""

from __future__ import annotations

import time
from typing import Any

import openai
from pydantic import SecretStr

from rag.engine import Engine
from rag.llm import SYSTEM_PROMPT, build_messages

from .checkout import load_fixture
from .context import BenchContext
from .stats import Figure, percentile


def bench_llm(ctx: BenchContext) -> dict[str, Any]:
    fake = load_fixture("openai_fake").FakeOpenAI().start()
    try:
        settings = ctx.settings.model_copy(update={
            "openai_base_url": fake.base_url, "openai_api_key": SecretStr("bench"), "llm_max_retries": 0,
        })
        engine = Engine.open(settings)
        client = openai.OpenAI(base_url=fake.base_url, api_key="bench", max_retries=0)

        def bare_call(question: str) -> float:
            messages, _ = build_messages(question, engine.retrieve(question))
            user = messages[1].content
            started = time.perf_counter()
            client.chat.completions.create(
                model=settings.openai_model,
                messages=[{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}],
            )
            return time.perf_counter() - started

        ours_runs, bare_runs, overhead_runs, modes = [], [], [], set()
        for run in range(ctx.plan.answer_runs + 1):  # run 0 is the warm-up
            ours, bare, overhead = [], [], []
            for _ in range(ctx.plan.passes):
                for question in ctx.texts:
                    started = time.perf_counter()
                    answer = engine.answer(question)
                    total = time.perf_counter() - started
                    call = bare_call(question)
                    modes.add(answer.mode)
                    ours.append(total)
                    bare.append(call)
                    overhead.append(total - call)
            if run:
                ours_runs.append(percentile(ours, 50) * 1000)
                bare_runs.append(percentile(bare, 50) * 1000)
                overhead_runs.append(percentile(overhead, 50) * 1000)
        engine.close()
    finally:
        fake.stop()
    return {
        "modes": sorted(modes),  # "llm" only, unless the fake failed and the engine fell back
        "llm_answer_p50_ms": Figure.of(ours_runs, "ms").to_json(),
        "bare_call_p50_ms": Figure.of(bare_runs, "ms").to_json(),
        "our_overhead_p50_ms": Figure.of(overhead_runs, "ms").to_json(),
        "requests": len(fake.requests),
    }
