"""Scaling: the article multiplied into 1, 100, 1,000 documents that differ in names, numbers and places.

Every generated document has its own file (so its own doc id) and its own
figures, so no two documents are the same text and every passage is embedded.
"""

from __future__ import annotations

import re
import tempfile
import time
from pathlib import Path
from typing import Any

from rag.corpus import SUFFIXES
from rag.engine import Engine

from .context import BenchContext
from .stats import Figure, directory_mb, percentile, ratio, with_data_dir

FIRST = ("Olena", "Andriy", "Maria", "Taras", "Iryna", "Bohdan", "Sofia", "Mykola", "Kateryna", "Dmytro",
         "Oksana", "Yurii", "Halyna", "Petro", "Larysa", "Serhii", "Nadia", "Ivan", "Tetiana", "Roman")
LAST = ("Kovalenko", "Shevchenko", "Bondarenko", "Tkachenko", "Kravchenko", "Melnyk", "Oliinyk", "Polishchuk",
        "Lysenko", "Marchenko", "Savchenko", "Rudenko", "Moroz", "Pavlenko", "Havrylyuk", "Karpenko")
PLACES = ("Kharkiv", "Odesa", "Dnipro", "Lviv", "Zaporizhzhia", "Mykolaiv", "Kherson", "Poltava", "Sumy",
          "Vinnytsia", "Rivne", "Uzhhorod", "Ternopil", "Zhytomyr", "Cherkasy", "Kropyvnytskyi", "Lutsk",
          "Ivano-Frankivsk", "Chernivtsi", "Khmelnytskyi", "Mariupol", "Bakhmut", "Izium", "Kupiansk")
COUNTRIES = ("Poland", "Moldova", "Romania", "Hungary", "Slovakia", "Turkey", "Georgia", "Lithuania")

# Names, figures and places of the seed article that the variants change.
_PEOPLE = (("Volodymyr Zelensky", "Zelensky"), ("Sergei Lavrov", "Lavrov"), ("Donald Trump", "Trump"))
_FIRST_NAMES = ("Natalia", "Olha", "Valerii")
_TOWNS = ("Kyiv", "Chernihiv", "Donetsk", "Severodonetsk", "Luhansk", "Istanbul")
_COUNTRIES = ("Belarus", "Italy")


def _substitutions(i: int) -> dict[str, str]:
    """Replacement of each seed name, figure and place for variant ``i`` (0 is the article itself)."""
    if i == 0:
        return {}
    subs: dict[str, str] = {}
    for k, (full, surname) in enumerate(_PEOPLE):
        first, last = FIRST[(i + 7 * k) % len(FIRST)], LAST[(i // len(FIRST) + 5 * k + i) % len(LAST)]
        subs[full], subs[surname] = f"{first} {last}", last
    for k, name in enumerate(_FIRST_NAMES):
        subs[name] = FIRST[(3 * i + 11 * k + 1) % len(FIRST)]
    for k, town in enumerate(_TOWNS):
        subs[town] = PLACES[(i + 5 * k) % len(PLACES)]
    for k, country in enumerate(_COUNTRIES):
        subs[country] = COUNTRIES[(i + 3 * k) % len(COUNTRIES)]
    military, civilians = 100 + (i * 37) % 400, 20 + (i * 13) % 200
    subs.update({"270": str(military), "120": str(civilians), "390": str(military + civilians)})
    return subs


def variant(text: str, i: int) -> str:
    """The seed text with variant ``i``'s names, figures and places, in one pass (no double replacement)."""
    subs = _substitutions(i)
    if not subs:
        return text
    pattern = re.compile(r"\b(" + "|".join(re.escape(k) for k in sorted(subs, key=len, reverse=True)) + r")\b")
    text = pattern.sub(lambda m: subs[m.group(0)], text)
    # The title goes into every passage's hash and into /start: give each variant its own.
    return re.sub(r"^title: (.*)$", rf"title: \1 (report {i})", text, count=1, flags=re.MULTILINE)


def write_corpus(seed: Path, folder: Path, count: int) -> None:
    """``count`` variants of ``seed`` as separate files in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    text = seed.read_text(encoding="utf-8")
    for i in range(count):
        (folder / f"report-{i:04d}{seed.suffix}").write_text(variant(text, i), encoding="utf-8")


def seed_article(corpus_dir: Path) -> Path:
    files = sorted(p for p in corpus_dir.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
    if not files:
        raise FileNotFoundError(f"no article in {corpus_dir} to generate documents from")
    return files[0]


def bench_scaling(ctx: BenchContext) -> dict[str, Any]:
    seed = seed_article(ctx.settings.corpus_dir)
    sizes: dict[str, Any] = {}
    p50_by_size: dict[int, list[float]] = {}
    for count in ctx.plan.scaling_sizes:
        with tempfile.TemporaryDirectory(prefix=f"bench-scale-{count}-") as tmp:
            corpus, data = Path(tmp) / "corpus", Path(tmp) / "data"
            write_corpus(seed, corpus, count)
            # The English index is what scales with every question; the multilingual one (off here) costs its own
            # embedding time per passage at build, reported by the start section.
            settings = with_data_dir(ctx.settings, data, corpus).model_copy(update={"multilingual_search": False})
            started = time.perf_counter()
            engine = Engine.open(settings)
            open_s = time.perf_counter() - started
            assert engine.last_sync is not None
            sync_s, passages = engine.last_sync.seconds, engine.last_sync.embedded
            for question in ctx.texts:  # warm-up
                engine.answer(question)
            runs = []
            for _ in range(ctx.plan.answer_runs):
                samples = []
                for question in ctx.texts * ctx.plan.passes:
                    t0 = time.perf_counter()
                    engine.answer(question)
                    samples.append(time.perf_counter() - t0)
                runs.append(percentile(samples, 50) * 1000)
            engine.close()
            p50_by_size[count] = runs
            sizes[f"docs_{count}"] = {
                "passages": passages,
                "build_s": Figure.of([open_s], "s").to_json(),  # one build per size: 1,000 docs take minutes
                "sync_s": Figure.of([sync_s], "s").to_json(),
                "query_p50_ms": Figure.of(runs, "ms").to_json(),
                "index_mb": round(directory_mb(data), 1),
            }
    smallest, largest = min(p50_by_size), max(p50_by_size)
    return {
        **sizes,
        "largest_docs": largest,
        "query_p50_ratio": Figure.of(
            (ratio(b, a) for a, b in zip(p50_by_size[smallest], p50_by_size[largest])), "x"
        ).to_json(),
        "note": (
            "The embedded PersistentClient serves one process; a Chroma server (CHROMA_HOST) takes over when several "
            "bot replicas must share one index, or when the index no longer fits beside the bot in its memory budget."
        ),
    }
