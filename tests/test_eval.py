"""The eval harness on the shared questions: the offline engine meets the issue's targets."""

from __future__ import annotations

from rag import Engine
from rag.evaluate import evaluate, load_questions
from tests.conftest import QA_FILE, load_questions as require_questions


def test_offline_engine_meets_the_targets_on_the_shared_questions(engine: Engine) -> None:
    require_questions()
    report = evaluate(engine, load_questions(QA_FILE))
    print(report.summary())
    assert report.refusal_accuracy >= 0.95
    assert report.hit_at_3 >= 0.9
    assert report.answer_accuracy >= 0.85
    assert report.citation_precision >= 0.85
    assert 0 < report.mrr <= 1
