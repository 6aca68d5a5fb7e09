"""The Chroma index: idempotent sync by content hash, stale removal, corruption recovery, server mode."""

from __future__ import annotations

import shutil
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag import Answer, Engine, IndexUnreachableError
from exchange_bot.cli import app
from rag.index import collection_name
from tests.conftest import ChromaServer, OpenEngine, free_port, make_settings


def test_reindexing_an_unchanged_corpus_embeds_nothing(tmp_path: Path, open_fake_engine: OpenEngine) -> None:
    settings = make_settings(tmp_path, multilingual_search=True)
    first, second = open_fake_engine(settings), open_fake_engine(settings)
    for a, b in ((first.last_sync, second.last_sync), (first.last_multilingual_sync, second.last_multilingual_sync)):
        assert a is not None and b is not None
        assert a.embedded == a.added == 21
        assert b.embedded == 0 and b.unchanged == 21 and b.removed == 0


def test_changed_corpus_updates_and_removes_stale_passages(tmp_path: Path, open_fake_engine: OpenEngine) -> None:
    settings = make_settings(tmp_path)
    open_fake_engine(settings)
    article = settings.corpus_dir / "prisoner-exchange.md"
    text = article.read_text()
    text = text.replace("Istanbul last week", "Geneva last week")
    text = text.replace("For now, the hope for peace lingers amidst the complexities of a deeply entrenched struggle.", "")
    article.write_text(text)
    (settings.corpus_dir / "second.md").write_text("---\ntitle: Second story\n---\nThe mayor opened a bridge.\n")
    engine = open_fake_engine(settings)
    report = engine.last_sync
    assert report is not None
    assert report.updated == 1 and report.removed == 1 and report.added == 1 and report.embedded == 2
    assert "Geneva" in engine.answer("Where did the negotiators meet?").text
    assert engine.answer("What did the mayor open?").citations[0].passage_id == "second:1"


def test_collection_name_carries_the_embedding_model() -> None:
    assert collection_name("passages") == "passages-all-minilm-l6-v2-int8-dynamic"
    assert collection_name("passages", "multilingual-e5-small-q4") == "passages-multilingual-e5-small-q4"


def test_corrupt_embedded_index_is_moved_aside_and_rebuilt(tmp_path: Path, open_fake_engine: OpenEngine) -> None:
    settings = make_settings(tmp_path)
    open_fake_engine(settings)
    chroma_dir = settings.data_dir / "chroma"
    for sqlite in chroma_dir.glob("*.sqlite3"):
        sqlite.write_bytes(b"this is not a database" * 100)
    engine = open_fake_engine(settings)
    assert engine.last_sync is not None and engine.last_sync.embedded == 21
    assert list(settings.data_dir.glob("chroma.corrupt-*"))
    assert "120" in engine.answer("How many civilians did each country exchange?").text


def test_missing_index_directory_is_rebuilt(tmp_path: Path, open_fake_engine: OpenEngine) -> None:
    settings = make_settings(tmp_path)
    open_fake_engine(settings)
    shutil.rmtree(settings.data_dir)
    engine = open_fake_engine(settings)
    assert engine.last_sync is not None and engine.last_sync.embedded == 21


def test_server_mode_uses_the_same_code_path(
    tmp_path: Path, chroma_server: int, open_fake_engine: OpenEngine
) -> None:
    settings = make_settings(tmp_path, chroma_host="127.0.0.1", chroma_port=chroma_server, multilingual_search=True)
    engine = open_fake_engine(settings)
    assert engine.info().index_location == f"chroma server 127.0.0.1:{chroma_server}"
    assert engine.last_sync is not None and engine.last_sync.embedded == 21
    answer = engine.answer("Where did the negotiators meet?")
    assert answer.grounded and "Istanbul" in answer.text
    assert "390" in engine.answer("Скільки людей обміняли загалом?").text  # the multilingual collection too
    again = open_fake_engine(settings)
    assert again.last_sync is not None and again.last_sync.embedded == 0
    assert again.last_multilingual_sync is not None and again.last_multilingual_sync.embedded == 0
    assert not (settings.data_dir / "chroma").exists()  # nothing written locally in server mode


def test_unreachable_server_is_a_typed_error(tmp_path: Path, open_fake_engine: OpenEngine) -> None:
    settings = make_settings(tmp_path, chroma_host="127.0.0.1", chroma_port=free_port())
    with pytest.raises(IndexUnreachableError) as caught:
        open_fake_engine(settings)
    assert "not reachable" in caught.value.user_message


def _answer_or_error(engine: Engine, question: str) -> Answer | Exception:
    """One answer in a worker thread: a frozen server must give an error, and the test must not hang."""
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(engine.answer, question)
        try:
            return future.result(timeout=30)  # the promise to users: a reply within 30 s
        except Exception as exc:  # the answer's own exception, or TimeoutError from the 30 s bound
            return exc


def test_frozen_server_is_a_typed_error_and_answers_resume_after_it_thaws(
    tmp_path: Path, chroma_process: ChromaServer, open_fake_engine: OpenEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(
        tmp_path, chroma_host="127.0.0.1", chroma_port=chroma_process.port, chroma_timeout=1.0,
        chroma_cooldown=0.5, answer_cache_size=0,
    )
    engine = open_fake_engine(settings)
    question = "Where did the negotiators meet?"
    chroma_process.process.send_signal(signal.SIGSTOP)
    try:
        first, second = _answer_or_error(engine, question), _answer_or_error(engine, "How many were exchanged?")
        for env, value in {"CORPUS_DIR": settings.corpus_dir, "DATA_DIR": settings.data_dir,
                           "CHROMA_HOST": "127.0.0.1", "CHROMA_PORT": chroma_process.port, "CHROMA_TIMEOUT": 1,
                           "MULTILINGUAL_SEARCH": "false"}.items():
            monkeypatch.setenv(env, str(value))
        cli = CliRunner().invoke(app, ["ask", question])
    finally:
        chroma_process.process.send_signal(signal.SIGCONT)
    for error in (first, second):
        assert isinstance(error, IndexUnreachableError), error
        assert error.user_message == "The article index is not reachable right now. Please try again in a minute."
    assert cli.exit_code == 1 and "not reachable" in cli.output and "Traceback" not in cli.output
    deadline = time.monotonic() + 30  # the cool-down, then one probe: not a speed assert, a bound on the wait
    while isinstance(answer := _answer_or_error(engine, question), IndexUnreachableError) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert isinstance(answer, Answer) and answer.grounded and "Istanbul" in answer.text
