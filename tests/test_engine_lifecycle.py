"""Closing an engine: its Chroma clients let go of the index files, it answers no more, and an answer in
progress (or another engine on the same data directory) keeps the index until it is done. A question that
took the engine a reload then closed is answered by the engine that replaced it."""

from __future__ import annotations

import os
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from rag import Answer, Engine, EngineClosedError
from rag.embeddings import MiniLMEmbedding
from rag.live import LiveEngine
from rag.reader import AnswerabilityReader
from tests.conftest import EUROVISION, OpenEngine, make_settings
from tests.fake_embedder import HashedWordsEmbedding
from tests.openai_fake import FakeOpenAI, translating
from tests.test_live_corpus import NEW_QUESTION

QUESTION = "Where did the negotiators meet?"
PROCESS_FILES = Path("/proc/self/fd")
DEADLINE_S = 60.0  # a deadline for a condition on a loaded 2-core machine, not a speed check


def files_held_under(folder: Path) -> set[str]:
    """The files under ``folder`` this process holds open, read from the kernel's own list."""
    if not PROCESS_FILES.is_dir():
        pytest.skip("needs /proc/self/fd (Linux) to see which files the process holds open")
    held = set()
    for descriptor in PROCESS_FILES.iterdir():
        try:
            target = os.readlink(descriptor)
        except OSError:  # closed between listing and reading
            continue
        if target.startswith(f"{folder.resolve()}{os.sep}"):
            held.add(target)
    return held


def released(folder: Path) -> bool:
    """Whether the process lets go of every file under ``folder``: once its last client is closed, chromadb's
    Rust side closes the database in the background, so this waits for that (never for an open client)."""
    deadline = time.monotonic() + DEADLINE_S
    while files_held_under(folder):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_a_closed_engine_lets_go_of_its_index_and_refuses_politely(
    tmp_path: Path, open_fake_engine: OpenEngine
) -> None:
    settings = make_settings(tmp_path, multilingual_search=True)
    engine = open_fake_engine(settings)
    assert "Istanbul" in engine.answer(QUESTION).text
    assert any(name.endswith("chroma.sqlite3") for name in files_held_under(settings.data_dir))

    engine.close()
    engine.close()  # closing twice is harmless
    assert released(settings.data_dir)  # both collections' database, closed
    for call in (lambda: engine.answer(QUESTION), lambda: engine.retrieve(QUESTION)):
        with pytest.raises(EngineClosedError) as caught:
            call()
        assert caught.value.user_message == "The articles were just reloaded. Please ask your question again."

    again = open_fake_engine(settings)  # a fresh client on the same files
    try:
        assert again.last_sync is not None and again.last_sync.embedded == 0
        assert "Istanbul" in again.answer(QUESTION).text
    finally:
        again.close()


def test_closing_one_engine_leaves_another_on_the_same_data_directory_answering(
    tmp_path: Path, open_fake_engine: OpenEngine
) -> None:
    settings = make_settings(tmp_path)
    first = open_fake_engine(settings)
    second = open_fake_engine(settings)  # Chroma shares one database per path
    first.close()
    assert "Istanbul" in second.answer(QUESTION).text
    assert files_held_under(settings.data_dir)
    second.close()
    assert released(settings.data_dir)


def test_closing_an_engine_whose_files_were_deleted_leaves_the_rebuilt_one_answering(
    tmp_path: Path, open_fake_engine: OpenEngine
) -> None:
    settings = make_settings(tmp_path)
    stale = open_fake_engine(settings)
    shutil.rmtree(settings.data_dir)  # deleted while the process runs: the next engine starts a new database
    rebuilt = open_fake_engine(settings)
    assert rebuilt.last_sync is not None and rebuilt.last_sync.embedded == 21
    stale.close()  # its database is gone: closing it must not close the one that replaced it
    try:
        assert "Istanbul" in rebuilt.answer(QUESTION).text
    finally:
        rebuilt.close()


def test_an_answer_in_progress_keeps_the_index_until_it_is_done(
    fake_llm: FakeOpenAI, tmp_path: Path, open_fake_engine: OpenEngine
) -> None:
    asked, may_reply = threading.Event(), threading.Event()
    model = translating(
        QUESTION, "Istanbul", "Переговорники зустрілися в Стамбулі.", "The negotiators met in Istanbul."
    )

    def slow_translation(request: dict[str, Any]) -> dict[str, Any] | str:
        if "response_format" not in request:  # the translation comes before the index is searched
            asked.set()
            may_reply.wait(timeout=DEADLINE_S)
        return model(request)

    fake_llm.responder = slow_translation
    settings = make_settings(tmp_path, openai_base_url=fake_llm.base_url, llm_timeout=DEADLINE_S, llm_budget=DEADLINE_S)
    engine = open_fake_engine(settings)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(engine.answer, "Де зустрілися переговорники?")
        assert asked.wait(timeout=DEADLINE_S), "the model was never asked to translate"
        engine.close()  # returns at once: a corpus reload must not wait for a slow model
        with pytest.raises(EngineClosedError):
            engine.answer("How many people were exchanged?")  # a new question is refused...
        may_reply.set()
        answer = pending.result()
    # ...but the one in progress searched the index after the close, and was answered by the model.
    assert answer.mode == "llm" and answer.text == "Переговорники зустрілися в Стамбулі. [1]"
    assert released(settings.data_dir)  # by the last answer out


def test_a_reload_closes_the_engine_it_replaces(
    tmp_path: Path, fake_embedder: HashedWordsEmbedding, reader: AnswerabilityReader
) -> None:
    settings = make_settings(tmp_path)
    live = LiveEngine.open(settings, embedder=fake_embedder, reader=reader)
    try:
        replaced = live.current
        assert live.reload()
        with pytest.raises(EngineClosedError):
            replaced.answer(QUESTION)
        assert live.current is not replaced and "Istanbul" in live.current.answer(QUESTION).text
    finally:
        live.close()
    assert released(settings.data_dir)


def test_a_question_that_took_the_engine_a_reload_closes_is_answered_by_its_replacement(
    tmp_path: Path, embedder: MiniLMEmbedding, reader: AnswerabilityReader
) -> None:
    settings = make_settings(tmp_path)
    live = LiveEngine.open(settings, embedder=embedder, reader=reader)
    engines_asked: list[Engine] = []

    def ask_across_a_reload(engine: Engine) -> Answer:
        engines_asked.append(engine)
        if len(engines_asked) == 1:  # the race: an article arrives between taking the engine and asking it
            (settings.corpus_dir / "eurovision.md").write_text(EUROVISION, encoding="utf-8")
            assert live.reload()  # what the corpus watcher calls: swaps in a new engine, closes this one
        return engine.answer(NEW_QUESTION)

    try:
        answer = live.with_current(ask_across_a_reload)
        taken, replacement = engines_asked
        with pytest.raises(EngineClosedError):
            taken.answer(NEW_QUESTION)  # the first try did meet a closed engine
        assert replacement is live.current and "JJ" in answer.text  # the new article, by the new engine
    finally:
        live.close()
    with pytest.raises(EngineClosedError):  # closed for good, not replaced: nothing to ask again
        live.answer(NEW_QUESTION)
    assert released(settings.data_dir)
