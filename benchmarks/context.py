"""What every section shares: the plan of repeats, offline settings over one index, the questions, one engine."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from rag.corpus import load_documents
from rag.engine import Engine
from rag.evaluation.questions import EvalQuestion, load_questions
from rag.settings import Settings

log = logging.getLogger(__name__)


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


def bench_questions(settings: Settings, path: Path) -> list[EvalQuestion]:
    """The eval questions in ``path``; without the file, the example questions of the corpus front matter."""
    if path.exists():
        return load_questions(path)
    examples = [e for d in load_documents(settings.corpus_dir) for e in d.examples]
    log.warning("bench.no_eval_file path=%s using=%d front-matter examples", path, len(examples))
    return [EvalQuestion(f"example{i}", text, True, [], []) for i, text in enumerate(examples)]
