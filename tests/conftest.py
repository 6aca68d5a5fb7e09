"""Shared fixtures: every data directory points at a temp dir; the corpus is a temp copy."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag import Engine, Settings
from rag.embeddings import MiniLMEmbedding
from tests.openai_fake import FakeOpenAI, quote_first_passage

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
QA_FILE = ROOT.parent / "shared" / "eval" / "qa.jsonl"

# Settings read the environment and .env: tests must not pick up a developer's key or token.
_ISOLATED_ENV = (
    "OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL", "CHROMA_HOST", "CHROMA_PORT", "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_BASE_URL", "WEBHOOK_URL", "WEBHOOK_SECRET", "ALLOWED_USER_IDS", "ALLOWED_CHAT_IDS", "DATA_DIR",
    "CORPUS_DIR", "TOP_K", "MIN_RELEVANCE",
)


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in _ISOLATED_ENV:
        monkeypatch.delenv(name, raising=False)
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
        "telegram_bot_token": None,
        "telegram_base_url": None,
        "webhook_url": None,
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
def engine(tmp_path_factory: pytest.TempPathFactory, embedder: MiniLMEmbedding) -> Iterator[Engine]:
    """One offline engine for the whole run, with the default settings (multilingual search on)."""
    built = Engine.open(make_settings(tmp_path_factory.mktemp("engine"), multilingual_search=True), embedder=embedder)
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
