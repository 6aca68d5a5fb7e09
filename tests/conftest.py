"""Shared fixtures: every data directory points at a temp dir; the corpus is a temp copy."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from rag import Engine, Settings
from rag.embeddings import MiniLMEmbedding

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
            time.sleep(0.2)
    try:
        yield process, port
    finally:
        process.terminate()
        process.wait(timeout=10)
