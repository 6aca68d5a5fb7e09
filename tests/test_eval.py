"""The eval harness's scoring rules (shared/eval/README.md), on answers built by hand."""

from __future__ import annotations

from pathlib import Path

from rag.evaluation.questions import EvalQuestion, load_questions, score_question
from rag.models import Answer, Citation

QUOTE = "This exchange involved 390 individuals, including servicemen and civilians."


def _answer(text: str, quotes: list[str]) -> Answer:
    citations = [Citation(n=i, passage_id=f"doc:{i}", quote=q, document_title="T") for i, q in enumerate(quotes, 1)]
    return Answer("q", text, citations, grounded=bool(citations), mode="offline", latency_ms=1.0)


def test_answerable_needs_every_fact_and_counts_relevant_citations() -> None:
    question = EvalQuestion("q1", "How many?", True, ["390", ["servicemen", "soldiers"]], ["involved 390 individuals"])
    good = score_question(question, _answer(f"{QUOTE} [1]", [QUOTE, "Unrelated sentence."]))
    assert good.correct and (good.cited_relevant, good.cited_total) == (1, 2)
    missing_fact = score_question(question, _answer("It involved 390 people. [1]", [QUOTE]))
    assert not missing_fact.correct and missing_fact.cited_relevant == 1


def test_unanswerable_is_correct_only_as_a_refusal_without_citations() -> None:
    question = EvalQuestion("q2", "Capital of France?", False, [], [])
    assert score_question(question, _answer("The article does not say.", [])).correct
    assert not score_question(question, _answer("Paris. [1]", [QUOTE])).correct


def test_questions_load_from_jsonl_skipping_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "qa.jsonl"
    path.write_text(
        '{"id": "a", "question": "Q?", "answerable": true, "facts": ["x"], "evidence": ["y"]}\n\n'
        '{"id": "b", "question": "R?", "answerable": false}\n'
    )
    questions = load_questions(path)
    assert [(q.qid, q.answerable, q.facts, q.evidence) for q in questions] == [("a", True, ["x"], ["y"]), ("b", False, [], [])]
