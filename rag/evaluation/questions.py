"""The eval harness: scores the engine on a JSONL file of questions (see shared/eval/README.md)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..engine import Engine
from ..models import Answer, Evidence


@dataclass(frozen=True)
class EvalQuestion:
    qid: str
    question: str
    answerable: bool
    facts: list[str | list[str]]
    evidence: list[str]


@dataclass(frozen=True)
class QuestionResult:
    qid: str
    question: str
    answer: str
    answerable: bool
    correct: bool  # answerable: every fact present; unanswerable: refused with no citation
    cited_relevant: int
    cited_total: int
    first_relevant_rank: int | None  # 1-based rank of the first retrieved passage with evidence


@dataclass(frozen=True)
class EvalReport:
    answer_accuracy: float
    citation_precision: float
    citation_recall: float
    refusal_accuracy: float
    hit_at_1: float
    hit_at_3: float
    mrr: float
    questions: int
    mode: str
    results: list[QuestionResult] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("results")
        return data


def load_questions(path: Path) -> list[EvalQuestion]:
    """Questions from a JSONL file; blank lines are skipped."""
    questions = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            questions.append(
                EvalQuestion(item["id"], item["question"], bool(item["answerable"]), item.get("facts", []), item.get("evidence", []))
            )
    return questions


def _has_fact(text: str, fact: str | list[str]) -> bool:
    options = [fact] if isinstance(fact, str) else fact
    return any(option.casefold() in text.casefold() for option in options)


def contains_evidence(passage_text: str, evidence: list[str]) -> bool:
    """The relevance rule of shared/eval/README.md: the text holds one of the exact evidence strings."""
    return any(snippet in passage_text for snippet in evidence)


def _first_relevant(evidence: list[Evidence], gold: list[str]) -> int | None:
    return next((rank for rank, e in enumerate(evidence, start=1) if contains_evidence(e.passage.text, gold)), None)


def score_question(question: EvalQuestion, answer: Answer) -> QuestionResult:
    """How one answer fares against its expected facts and evidence."""
    cited_relevant = sum(contains_evidence(c.quote, question.evidence) for c in answer.citations)
    if question.answerable:
        correct = answer.grounded and all(_has_fact(answer.text, f) for f in question.facts)
    else:
        correct = not answer.grounded and not answer.citations
    return QuestionResult(
        qid=question.qid,
        question=question.question,
        answer=answer.text,
        answerable=question.answerable,
        correct=correct,
        cited_relevant=cited_relevant,
        cited_total=len(answer.citations),
        first_relevant_rank=_first_relevant(answer.evidence, question.evidence) if question.answerable else None,
    )


def share(hits: int, total: int) -> float:
    """hits / total, and 1.0 for an empty set (nothing of that kind to get wrong)."""
    return hits / total if total else 1.0


def evaluate(engine: Engine, questions: list[EvalQuestion]) -> EvalReport:
    """Answer every question and compute the project's metrics."""
    return summarize([score_question(q, engine.answer(q.question)) for q in questions], engine.mode)


def summarize(results: list[QuestionResult], mode: str) -> EvalReport:
    """The project's metrics over scored answers."""
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    ranks = [r.first_relevant_rank for r in answerable]
    return EvalReport(
        answer_accuracy=share(sum(r.correct for r in answerable), len(answerable)),
        citation_precision=share(sum(r.cited_relevant for r in results), sum(r.cited_total for r in results)),
        citation_recall=share(sum(r.cited_relevant > 0 for r in answerable), len(answerable)),
        refusal_accuracy=share(sum(r.correct for r in unanswerable), len(unanswerable)),
        hit_at_1=share(sum(1 for k in ranks if k is not None and k <= 1), len(answerable)),
        hit_at_3=share(sum(1 for k in ranks if k is not None and k <= 3), len(answerable)),
        mrr=sum(1 / k for k in ranks if k) / len(answerable) if answerable else 1.0,
        questions=len(results),
        mode=mode,
        results=results,
    )
