"""Who answered and why: the offline answer standing in for a dead model, and the lines operators read."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rag import Citation, Engine, LLMCircuitOpenError, LLMUnavailableError
from rag.answering import ENGLISH_ONLY, Outcome, stood_in
from rag.embeddings import MiniLMEmbedding
from rag.reader import AnswerabilityReader
from tests.conftest import make_settings
from tests.openai_fake import FakeOpenAI

ANSWER_LINE = re.compile(
    r"^answer mode=(?P<mode>[a-z-]+) grounded=(?P<grounded>True|False) citations=\[(?P<citations>[^\]]*)\] "
    r"top_similarity=-?\d+\.\d{3} top_relevance=\d+\.\d{3} latency_ms=\d+\.\d$"
)


def test_the_offline_answer_stands_in_marked_as_such_with_the_reason_first(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO")
    citation = Citation(1, "prisoner-exchange:7", "They met in Istanbul.", "Major Prisoner Exchange")
    offline = Outcome("They met in Istanbul. [1]", [citation], "offline", [], note="Статтю написано англійською.")
    error = LLMCircuitOpenError("LLM not asked: it failed repeatedly")

    outcome = stood_in("translate", error, lambda: offline)

    assert outcome.mode == "offline-fallback"
    assert outcome.note == f"{LLMCircuitOpenError.fallback_note} Статтю написано англійською."
    assert (outcome.text, outcome.citations) == (offline.text, offline.citations)
    assert caplog.messages == [
        "answer.llm_fallback stage=translate error=LLMCircuitOpenError reason=LLM not asked: it failed repeatedly"
    ]


def test_a_dead_model_leaves_the_operator_lines_they_rely_on(
    fake_llm: FakeOpenAI, tmp_path: Path, embedder: MiniLMEmbedding, reader: AnswerabilityReader,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = make_settings(
        tmp_path, openai_base_url=fake_llm.base_url, llm_max_retries=0, llm_retry_base_delay=0, answer_cache_size=0
    )
    engine = Engine.open(settings, embedder=embedder, reader=reader)
    caplog.set_level("INFO", logger="rag")
    try:
        fake_llm.push("status", (500, "down"))  # the answer
        english = engine.answer("Where did the negotiators meet?")
        fake_llm.push("status", (500, "down"))  # the translation, without the multilingual search behind it
        foreign = engine.answer("Де зустрілися переговорники?")
        fine = engine.answer("Where did the negotiators meet?")
    finally:
        engine.close()

    assert english.mode == "offline-fallback" and english.note == LLMUnavailableError.fallback_note
    assert english.grounded and "Istanbul" in english.text
    assert foreign.mode == "offline-fallback" and foreign.text == ENGLISH_ONLY
    assert foreign.note == LLMUnavailableError.fallback_note
    assert fine.mode == "llm" and fine.note is None and "Istanbul" in fine.text
    fallbacks = [m for m in caplog.messages if m.startswith("answer.llm_fallback")]
    assert [m.split(" reason=")[0] for m in fallbacks] == [
        "answer.llm_fallback stage=answer error=LLMUnavailableError",
        "answer.llm_fallback stage=translate error=LLMUnavailableError",
    ]
    lines = [match for m in caplog.messages if (match := ANSWER_LINE.match(m))]
    assert [(line["mode"], line["grounded"]) for line in lines] == [
        ("offline-fallback", "True"), ("offline-fallback", "False"), ("llm", "True"),
    ]
    assert lines[0]["citations"] == ", ".join(repr(c.passage_id) for c in english.citations)
