"""Answer quality of the offline engine, scored by the project's eval harness (``rag.evaluation``).

English questions are answered offline by the learned reader (``rag.reader``).
The shared sample (``qa.jsonl``) and our own held-out sets (``paraphrases.jsonl``:
typos, group-chat phrasing, yes/no, tricky unanswerables; ``unseen.jsonl``) are
held to a floor a little under what we measure so a harmless change does not
flake. Questions in other languages (``multilingual.jsonl``) are answered
offline through the multilingual model, which quotes the English sentence.

Run with ``-s`` to see the figures and the misses.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rag import Engine
from rag.evaluation.questions import EvalReport, evaluate, load_questions
from tests.conftest import QA_FILE, load_questions as require_questions

DATA = Path(__file__).resolve().parent / "data"
CORPUS = Path(__file__).resolve().parents[1] / "corpus"


def report(name: str, result: EvalReport) -> None:
    print(
        f"\n{name}: accuracy={result.answer_accuracy:.3f} citation_precision={result.citation_precision:.3f} "
        f"citation_recall={result.citation_recall:.3f} refusal={result.refusal_accuracy:.3f} "
        f"hit@3={result.hit_at_3:.3f} mrr={result.mrr:.3f}"
    )
    for r in result.results:
        if not r.correct or r.cited_relevant < r.cited_total:
            print(f"  miss {r.qid} {r.question!r} -> {r.answer[:110]!r}")


@pytest.fixture(scope="module")
def sample(engine: Engine) -> EvalReport:
    require_questions()
    result = evaluate(engine, load_questions(QA_FILE))
    report("qa.jsonl", result)
    return result


# Measured with the reader of rag/reader_model (round 4, threshold 0.28, TOP_K 10): accuracy 0.800 (12 of 15
# answerable), citation precision 0.917, refusal 1.000 (3 of 3), hit@3 1.000. The hand-written rules it replaced scored
# 1.000 on all four; the reader refuses answerable questions asked in other words than the article's.
def test_sample_questions_stay_above_their_answer_and_refusal_floor(sample: EvalReport) -> None:
    assert sample.answer_accuracy >= 0.66
    assert sample.refusal_accuracy >= 0.95


def test_sample_questions_stay_above_their_citation_and_retrieval_floor(sample: EvalReport) -> None:
    # hit@3 is over Answer.evidence: fused retrieval ordered by the reader's probability that each passage answers.
    assert sample.citation_precision >= 0.85
    assert sample.hit_at_3 >= 0.95


@pytest.mark.parametrize(
    ("name", "floors"),
    [
        # Measured with the reader (round 4, TOP_K 10): accuracy 0.529 (36 of 68 answerable), citation precision
        # 0.867, refusal 0.969 (31 of 32), hit@3 0.971; the rules it replaced, tuned on these questions: 0.853,
        # 0.881, 0.812, 0.956.
        ("paraphrases.jsonl", (0.50, 0.80, 0.87, 0.92)),
        # Measured with the reader: accuracy 0.545 (12 of 22), citation precision 0.923, refusal 1.000 (8 of 8),
        # hit@3 0.955; the rules: 0.955, 0.913, 0.875, 1.000.
        ("unseen.jsonl", (0.45, 0.78, 0.87, 0.86)),
    ],
)
def test_held_out_sets_stay_above_their_floor(engine: Engine, name: str, floors: tuple[float, ...]) -> None:
    result = evaluate(engine, load_questions(DATA / name))
    report(name, result)
    # Floors sit about one or two questions under what we measure, so only a real regression fails.
    accuracy, precision, refusal, hit_at_3 = floors
    assert result.answer_accuracy >= accuracy
    assert result.citation_precision >= precision
    assert result.refusal_accuracy >= refusal
    assert result.hit_at_3 >= hit_at_3


def test_multilingual_questions_offline_find_the_english_sentence(engine: Engine) -> None:
    """Offline, questions in other languages are searched by the multilingual model (rag.multilingual); the
    reader, English-only, plays no part, so these figures did not move when it replaced the rules."""
    questions = load_questions(DATA / "multilingual.jsonl")
    for lang in ("uk", "ru", "es", "de", "fr"):
        report(f"multilingual.jsonl [{lang}]", evaluate(engine, [q for q in questions if q.qid.endswith(lang)]))
    result = evaluate(engine, questions)
    report("multilingual.jsonl", result)
    # Measured: accuracy 0.765, citation precision 1.000, refusal 1.000. The two similarity thresholds were
    # calibrated on the Ukrainian and Russian questions (0.727, 1.000, 1.000); the Spanish, German, French,
    # Italian, Polish and Portuguese ones were written afterwards and not fitted (0.833, 1.000, 1.000).
    assert result.answer_accuracy >= 0.70
    assert result.citation_precision >= 0.93
    assert result.refusal_accuracy >= 0.93


@pytest.mark.parametrize("name", ["paraphrases.jsonl", "unseen.jsonl", "multilingual.jsonl"])
def test_held_out_sets_quote_the_article_exactly(name: str) -> None:
    article = "\n".join(p.read_text(encoding="utf-8") for p in CORPUS.glob("*.md"))
    for q in load_questions(DATA / name):
        assert q.answerable == bool(q.evidence), q.qid
        for evidence in q.evidence:
            assert evidence in article, (q.qid, evidence)
