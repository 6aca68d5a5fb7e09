"""The Telegram bot's settings: environment variables and the same optional ``.env`` file as the engine's."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from rag.settings import strip_secret


class TelegramSettings(BaseSettings):
    """Every knob of the Telegram adapter; the engine's are ``rag.Settings``.

    Names map to upper-case environment variables (``telegram_bot_token`` ← ``TELEGRAM_BOT_TOKEN``).
    """

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: SecretStr | None = Field(None, description="Token from @BotFather.")
    telegram_base_url: str | None = Field(None, description="Bot API base URL (a local Bot API server, or tests).")
    webhook_url: str | None = Field(None, description="Public HTTPS URL; when set the bot uses a webhook.")
    webhook_secret: SecretStr | None = Field(None, description="Secret token Telegram sends with each webhook call.")
    webhook_listen: str = Field("0.0.0.0", description="Address the webhook server listens on.")
    webhook_port: int = Field(8443, ge=1, le=65535, description="Port the webhook server listens on.")
    drop_pending_updates: bool = Field(True, description="Skip messages sent while the bot was down.")
    allowed_user_ids: Annotated[list[int], NoDecode] = Field(default_factory=list, description="If set, only these users may ask.")
    allowed_chat_ids: Annotated[list[int], NoDecode] = Field(default_factory=list, description="If set, only these chats may ask.")
    user_rate_limit: int = Field(10, ge=1, description="Questions one user may ask per minute.")
    telegram_max_rate: float = Field(
        30.0, ge=0, description="Messages per second the bot sends overall, as Telegram allows (0 = no limit)."
    )
    telegram_send_retry_s: float = Field(
        30.0, ge=0, description="Seconds the bot keeps retrying a Bot API call that failed with 5xx or a network error."
    )
    telegram_answer_workers: int = Field(
        4, ge=1, le=64, description="Threads answering questions at once in the bot (commands never wait for them)."
    )
    telegram_answer_timeout: float = Field(
        25.0, gt=0, description="Seconds the bot waits for an answer before asking the user to try again."
    )
    question_log_days: int = Field(
        30, ge=0, description="Days the question log keeps questions, outcomes and votes, never who asked (0 = off)."
    )
    admin_user_ids: Annotated[list[int], NoDecode] = Field(
        default_factory=list, description="Users who may see /stats, the question log's summary."
    )
    metrics_port: int = Field(
        0, ge=0, le=65535, description="Polling mode: serve Prometheus /metrics on this port (0 = off; webhook mode serves them on WEBHOOK_PORT)."
    )
    metrics_listen: str = Field("127.0.0.1", description="Address the polling mode's /metrics server listens on.")

    @field_validator("allowed_user_ids", "allowed_chat_ids", "admin_user_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        """Accept ``"1,2,3"`` from the environment as well as a JSON list."""
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, int):
            return [value]
        return value

    @field_validator("telegram_bot_token", "webhook_secret", mode="before")
    @classmethod
    def _strip_secret(cls, value: object) -> object:
        return strip_secret(value)

    @property
    def token(self) -> str:
        """The bot token, or "" when none is set."""
        return self.telegram_bot_token.get_secret_value() if self.telegram_bot_token else ""
