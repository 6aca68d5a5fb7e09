"""Shared fixtures: every data directory points at a temp dir; the corpus is a temp copy."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

from rag import Engine, Settings
from rag.embeddings import MiniLMEmbedding

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
QA_FILE = ROOT.parent / "shared" / "eval" / "qa.jsonl"


def _env_names(settings: type[BaseSettings]) -> set[str]:
    """The environment variable of every field, upper-cased (pydantic-settings matches them in any case)."""
    prefix = settings.model_config.get("env_prefix", "")
    return {f"{prefix}{name}".upper() for name in settings.model_fields}


# Settings read the environment and .env: tests must not pick up a developer's key, token or tuning.
# LangChain reads its tracing switches itself: a developer's LangSmith set-up must not send test runs out.
_ISOLATED_ENV = frozenset(_env_names(Settings) | {"LANGSMITH_TRACING", "LANGCHAIN_TRACING_V2"})


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
