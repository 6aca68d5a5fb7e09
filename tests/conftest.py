"""Shared fixtures: every data directory points at a temp dir; the corpus is a temp copy."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

from rag import Engine, Settings
from rag.embeddings import MiniLMEmbedding
from rag.reader import AnswerabilityReader
from telegram_bot.settings import TelegramSettings
from tests.fake_embedder import HashedWordsEmbedding
from tests.openai_fake import FakeOpenAI, quote_first_passage

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
QA_FILE = ROOT.parent / "shared" / "eval" / "qa.jsonl"
# An article to add beside the seed one: newer than it, with one example question it answers and one it does not.
EUROVISION = """---
title: Basel Hosts the Eurovision Final
date: 2025-06-01
examples:
  - Which ballad won the contest?
  - Who won the 2022 World Cup?
---
The Eurovision Song Contest final took place in Basel on Saturday night.
Austrian singer JJ won the contest with the ballad Wasted Love.
Israel finished second after a strong public vote.
"""
OpenEngine = Callable[[Settings], Engine]


def _env_names(settings: type[BaseSettings]) -> set[str]:
    """The environment variable of every field, upper-cased (pydantic-settings matches them in any case)."""
    prefix = settings.model_config.get("env_prefix", "")
    return {f"{prefix}{name}".upper() for name in settings.model_fields}


# Settings read the environment and .env: tests must not pick up a developer's key, token or tuning.
# LangChain reads its tracing switches itself: a developer's LangSmith set-up must not send test runs out.
_ISOLATED_ENV = frozenset(_env_names(Settings) | _env_names(TelegramSettings) | {"LANGSMITH_TRACING", "LANGCHAIN_TRACING_V2"})


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in [key for key in os.environ if key.upper() in _ISOLATED_ENV]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env from the developer's checkout


def make_settings(base: Path, **overrides: object) -> Settings:
    """Settings over a private copy of the corpus and a private data directory."""
    corpus = base / "corpus"
    if not corpus.exists():
        shutil.copytree(CORPUS, corpus)
    # Explicit values win over the environment, which session fixtures see unpatched.
    values: dict[str, object] = {
        "corpus_dir": corpus,
        "data_dir": base / "data",
        "openai_api_key": None,
        "openai_base_url": None,
        "chroma_host": None,
        # The multilingual model embeds every passage a second time: only the tests about it turn it on.
        "multilingual_search": False,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture(scope="session")
def embedder() -> MiniLMEmbedding:
    """The real embedding model, loaded once: tests that open several engines share it."""
    return MiniLMEmbedding()


@pytest.fixture(scope="session")
def fake_embedder() -> HashedWordsEmbedding:
    """A stand-in for the embedding model (tests/fake_embedder.py), for tests of the index, the engine's lifecycle
    or live reloads, where the model is not under test: real Chroma, real engine, no model to load or run."""
    return HashedWordsEmbedding()


@pytest.fixture(scope="session")
def reader() -> AnswerabilityReader:
    """The learned reader, loaded once: an engine given it answers its first question without loading a model."""
    return AnswerabilityReader()


@pytest.fixture(scope="session")
def open_engine(embedder: MiniLMEmbedding, reader: AnswerabilityReader) -> OpenEngine:
    """``Engine.open`` with the real models, loaded once for the run: an engine opened here loads no model."""
    return lambda settings: Engine.open(settings, embedder=embedder, reader=reader)


@pytest.fixture(scope="session")
def open_fake_engine(fake_embedder: HashedWordsEmbedding, reader: AnswerabilityReader) -> OpenEngine:
    """``Engine.open`` with the stand-in embedder and the shared reader: for tests of what the engine does with its
    index and corpus, not of what the embedding model finds."""
    return lambda settings: Engine.open(settings, embedder=fake_embedder, reader=reader)


@pytest.fixture(scope="session")
def engine(
    tmp_path_factory: pytest.TempPathFactory, embedder: MiniLMEmbedding, reader: AnswerabilityReader
) -> Iterator[Engine]:
    """One offline engine for the whole run, with the default settings (multilingual search on)."""
    settings = make_settings(tmp_path_factory.mktemp("engine"), multilingual_search=True)
    built = Engine.open(settings, embedder=embedder, reader=reader)
    yield built
    built.close()


@pytest.fixture(scope="session")
def openai_server() -> Iterator[FakeOpenAI]:
    """The loopback chat-completions server, started once; tests take it through ``fake_llm``."""
    server = FakeOpenAI(hang_seconds=1.5).start()
    yield server
    server.stop()


@pytest.fixture
def fake_llm(openai_server: FakeOpenAI) -> FakeOpenAI:
    """The loopback model with an empty script, no recorded requests and the well-behaved responder."""
    openai_server.script.clear()
    openai_server.requests.clear()
    openai_server.responder = quote_first_passage
    return openai_server


def load_questions() -> list[dict]:
    if not QA_FILE.exists():
        pytest.skip(f"{QA_FILE} is not present")
    return [json.loads(line) for line in QA_FILE.read_text().splitlines() if line.strip()]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def chroma_server_process(path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """A real `chroma run` server on loopback, storing in ``path``: its process and port."""
    chroma = Path(sys.executable).with_name("chroma")
    if not chroma.exists():
        pytest.fail("the chroma CLI is missing: chromadb is not installed properly")
    port = free_port()
    process = subprocess.Popen(
        [str(chroma), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1)
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail("chroma server did not start")
            time.sleep(0.05)
    try:
        yield process, port
    finally:
        process.send_signal(signal.SIGCONT)  # a test that froze it and failed must not leave it stopped
        process.terminate()
        process.wait(timeout=10)


@dataclass(frozen=True)
class ChromaServer:
    port: int
    process: subprocess.Popen[bytes]


@pytest.fixture(scope="module")
def chroma_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    """A real `chroma run` server on loopback, with its process for tests that freeze it."""
    with chroma_server_process(tmp_path_factory.mktemp("chroma-server")) as (process, port):
        yield ChromaServer(port, process)


@pytest.fixture(scope="module")
def chroma_server(chroma_process: ChromaServer) -> int:
    """The port of a real `chroma run` server on loopback."""
    return chroma_process.port
