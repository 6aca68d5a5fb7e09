"""The learned reader: the packaged cross-encoder and its calibration, on text nobody here wrote it for."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rag import Engine
from rag.errors import ReaderUnavailableError
from rag.reader import MODEL_DIR, AnswerabilityReader
from tests.conftest import make_settings


@pytest.fixture(scope="module")
def reader() -> AnswerabilityReader:
    return AnswerabilityReader()


def test_the_packaged_model_brings_its_calibrated_threshold(reader: AnswerabilityReader) -> None:
    assert 0.0 < reader.calibration.threshold < 1.0
    assert 0.0 < reader.calibration.second_share <= 1.0


def test_a_sentence_that_answers_clears_the_threshold_and_others_do_not(reader: AnswerabilityReader) -> None:
    sentences = [
        "The river floods the valley every spring.",
        "The Harbour Bridge was opened to traffic in March 1932.",
        "Tolls are collected from southbound vehicles only.",
    ]
    scores = reader.score("When did the bridge open?", sentences)
    assert scores.shape == (3,)
    assert scores.argmax() == 1
    assert scores[1] >= reader.calibration.threshold
    assert scores[0] < reader.calibration.threshold


def test_the_same_topic_without_the_asked_for_fact_is_not_an_answer(reader: AnswerabilityReader) -> None:
    # On topic, same words, but nothing about when: the cut-off must not be "it mentions the bridge".
    [score] = reader.score("When did the bridge open?", ["The bridge is painted grey and carries eight lanes."])
    assert score < reader.calibration.threshold


def test_scores_do_not_depend_on_batch_mates(reader: AnswerabilityReader) -> None:
    alone = reader.score("Who designed the bridge?", ["John Bradfield designed the bridge."])
    together = reader.score(
        "Who designed the bridge?", ["John Bradfield designed the bridge.", "A much longer sentence " * 8]
    )
    assert abs(float(alone[0]) - float(together[0])) < 0.02


def test_a_missing_model_is_a_typed_error_naming_the_reader(tmp_path: Path) -> None:
    shutil.copy(MODEL_DIR / "calibration.json", tmp_path / "calibration.json")
    broken = AnswerabilityReader(model_dir=tmp_path)  # calibration readable, model file absent
    with pytest.raises(ReaderUnavailableError):
        broken.score("Who?", ["Somebody."])
    with pytest.raises(ReaderUnavailableError):
        AnswerabilityReader(model_dir=tmp_path / "nowhere")


def test_evidence_comes_in_the_readers_order_with_its_probability(engine: Engine) -> None:
    evidence = engine.answer("How many prisoners were exchanged?").evidence
    relevance = [e.relevance for e in evidence]
    assert relevance == sorted(relevance, reverse=True)
    assert all(0.0 <= r <= 1.0 for r in relevance)


def test_an_operator_can_move_the_threshold(tmp_path: Path) -> None:
    never = Engine.open(make_settings(tmp_path, reader_threshold=1.0))
    try:
        answer = never.answer("How many prisoners were exchanged?")
    finally:
        never.close()
    assert not answer.grounded and not answer.citations
