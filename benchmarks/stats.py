"""Figures of the benchmark: median, min and max over runs, and the helpers every section shares."""

from __future__ import annotations

import os
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.settings import Settings
from telegram_bot.settings import TelegramSettings

# Settings the bench hands to child processes (bot, start-up probe) as environment variables.
_CHILD_SETTINGS = (
    "corpus_dir", "data_dir", "chroma_host", "chroma_port", "chroma_ssl", "collection_prefix", "top_k",
    "reader_threshold", "embedding_threads", "openai_base_url", "openai_model", "answer_cache_size",
    "multilingual_search",
)


@dataclass(frozen=True)
class Figure:
    """One measured quantity: the median of several runs, with their min and max."""

    median: float
    min: float
    max: float
    runs: int
    unit: str

    @classmethod
    def of(cls, values: Iterable[float], unit: str) -> "Figure":
        data = [float(v) for v in values]
        if not data:
            raise ValueError("a figure needs at least one run")
        return cls(statistics.median(data), min(data), max(data), len(data), unit)

    def to_json(self) -> dict[str, Any]:
        return {"median": round(self.median, 4), "min": round(self.min, 4), "max": round(self.max, 4),
                "runs": self.runs, "unit": self.unit}


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0..100), interpolated as numpy does."""
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


def ms_percentiles(samples_per_run: list[list[float]]) -> dict[str, dict[str, Any]]:
    """p50/p95/p99 in ms of each run's samples (seconds), as figures across the runs."""
    return {
        f"p{q}_ms": Figure.of((percentile(run, q) * 1000 for run in samples_per_run), "ms").to_json()
        for q in (50, 95, 99)
    }


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else float("inf")


def offline(settings: Settings) -> Settings:
    """The same settings in offline mode and without the answer cache.

    The latency targets are for the offline answerer, and the bench repeats its
    questions: a cache would measure dictionary look-ups instead.
    """
    return settings.model_copy(update={"openai_api_key": None, "openai_base_url": None, "answer_cache_size": 0})


def with_data_dir(settings: Settings, data_dir: Path, corpus_dir: Path | None = None) -> Settings:
    update: dict[str, Any] = {"data_dir": data_dir}
    if corpus_dir is not None:
        update["corpus_dir"] = corpus_dir
    return settings.model_copy(update=update)


def child_env(settings: Settings, **extra: str) -> dict[str, str]:
    """Environment for a child process that reads ``Settings()`` (and the bot's ``TelegramSettings()``): these
    settings and ``extra``, not the parent's .env."""
    # Every setting the child would read comes from here; none leaks in from the parent's environment.
    ours = Settings.model_fields.keys() | TelegramSettings.model_fields.keys()
    env = {key: value for key, value in os.environ.items() if key.lower() not in ours}
    for name in _CHILD_SETTINGS:
        value = getattr(settings, name)
        if value is not None:
            env[name.upper()] = str(Path(value).resolve()) if isinstance(value, Path) else str(value)
    if settings.openai_api_key is not None:
        env["OPENAI_API_KEY"] = settings.openai_api_key.get_secret_value()
    env.update(extra)
    return env


def directory_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20
