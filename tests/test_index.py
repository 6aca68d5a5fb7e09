"""The Chroma index: idempotent sync by content hash, stale removal, corruption recovery, server mode."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag import Engine, IndexUnavailableError
from rag.embeddings import MiniLMEmbedding
from rag.index import collection_name
from tests.conftest import chroma_server_process, free_port, make_settings


def test_reindexing_an_unchanged_corpus_embeds_nothing(tmp_path: Path, embedder: MiniLMEmbedding) -> None:
    settings = make_settings(tmp_path, multilingual_search=True)
    first, second = Engine.open(settings, embedder=embedder), Engine.open(settings, embedder=embedder)
    for a, b in ((first.last_sync, second.last_sync), (first.last_multilingual_sync, second.last_multilingual_sync)):
        assert a is not None and b is not None
        assert a.embedded == a.added == 21
        assert b.embedded == 0 and b.unchanged == 21 and b.removed == 0


def test_changed_corpus_updates_and_removes_stale_passages(tmp_path: Path, embedder: MiniLMEmbedding) -> None:
    settings = make_settings(tmp_path)
    Engine.open(settings, embedder=embedder)
    article = settings.corpus_dir / "prisoner-exchange.md"
    text = article.read_text()
    text = text.replace("Istanbul last week", "Geneva last week")
    text = text.replace("For now, the hope for peace lingers amidst the complexities of a deeply entrenched struggle.", "")
    article.write_text(text)
    (settings.corpus_dir / "second.md").write_text("---\ntitle: Second story\n---\nThe mayor opened a bridge.\n")
    engine = Engine.open(settings, embedder=embedder)
    report = engine.last_sync
    assert report is not None
    assert report.updated == 1 and report.removed == 1 and report.added == 1 and report.embedded == 2
    assert "Geneva" in engine.answer("Where did the negotiators meet before the swap?").text
    assert engine.answer("What did the mayor open?").citations[0].passage_id == "second:1"


def test_collection_name_carries_the_embedding_model() -> None:
    assert collection_name("passages") == "passages-all-minilm-l6-v2-int8-dynamic"
    assert collection_name("passages", "multilingual-e5-small-q4") == "passages-multilingual-e5-small-q4"


def test_corrupt_embedded_index_is_moved_aside_and_rebuilt(tmp_path: Path, embedder: MiniLMEmbedding) -> None:
    settings = make_settings(tmp_path)
    Engine.open(settings, embedder=embedder)
    chroma_dir = settings.data_dir / "chroma"
    for sqlite in chroma_dir.glob("*.sqlite3"):
        sqlite.write_bytes(b"this is not a database" * 100)
    engine = Engine.open(settings, embedder=embedder)
    assert engine.last_sync is not None and engine.last_sync.embedded == 21
    assert list(settings.data_dir.glob("chroma.corrupt-*"))
    assert engine.answer("How many civilians did each country release?").grounded


def test_missing_index_directory_is_rebuilt(tmp_path: Path, embedder: MiniLMEmbedding) -> None:
    settings = make_settings(tmp_path)
    Engine.open(settings, embedder=embedder)
    shutil.rmtree(settings.data_dir)
    engine = Engine.open(settings, embedder=embedder)
    assert engine.last_sync is not None and engine.last_sync.embedded == 21


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A real `chroma run` server on loopback."""
    with chroma_server_process(tmp_path_factory.mktemp("chroma-server")) as (_, port):
        yield port


def test_server_mode_uses_the_same_code_path(tmp_path: Path, chroma_server: int, embedder: MiniLMEmbedding) -> None:
    settings = make_settings(tmp_path, chroma_host="127.0.0.1", chroma_port=chroma_server, multilingual_search=True)
    engine = Engine.open(settings, embedder=embedder)
    assert engine.info().index_location == f"chroma server 127.0.0.1:{chroma_server}"
    assert engine.last_sync is not None and engine.last_sync.embedded == 21
    answer = engine.answer("Where did the negotiators meet before the swap?")
    assert answer.grounded and "Istanbul" in answer.text
    assert engine.answer("Скільки людей обміняли загалом?").citations  # the multilingual collection too
    again = Engine.open(settings, embedder=embedder)
    assert again.last_sync is not None and again.last_sync.embedded == 0
    assert again.last_multilingual_sync is not None and again.last_multilingual_sync.embedded == 0
    assert not (settings.data_dir / "chroma").exists()  # nothing written locally in server mode


def test_unreachable_server_is_a_typed_error(tmp_path: Path, embedder: MiniLMEmbedding) -> None:
    settings = make_settings(tmp_path, chroma_host="127.0.0.1", chroma_port=free_port())
    with pytest.raises(IndexUnavailableError) as caught:
        Engine.open(settings, embedder=embedder)
    assert "not available" in caught.value.user_message
