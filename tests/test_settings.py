"""Settings: environment parsing, secrets hidden, one-line validation errors."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from rag.settings import Settings, describe_validation_error
from telegram_bot.settings import TelegramSettings


def test_defaults_are_offline() -> None:
    settings = Settings(_env_file=None)
    assert not settings.llm_enabled
    assert settings.chroma_host is None


def test_llm_is_enabled_by_key_or_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1")
    assert Settings(_env_file=None).llm_enabled


def test_id_lists_accept_commas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLOWED_USER_IDS", "12, 34,56")
    monkeypatch.setenv("ALLOWED_CHAT_IDS", "-100123")
    settings = TelegramSettings(_env_file=None)
    assert settings.allowed_user_ids == [12, 34, 56]
    assert settings.allowed_chat_ids == [-100123]


def test_secrets_are_hidden_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:ABC-secret-token")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-very-secret")
    settings, telegram = Settings(_env_file=None), TelegramSettings(_env_file=None)
    assert "sk-very-secret" not in repr(settings) and "ABC-secret-token" not in repr(telegram)
    assert telegram.token == "123456:ABC-secret-token"
    assert settings.openai_api_key is not None and settings.openai_api_key.get_secret_value() == "sk-very-secret"


def test_dotenv_file_is_read(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("TOP_K=3\nLOG_LEVEL=debug\n")
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    assert settings.top_k == 3 and settings.log_level == "DEBUG"


def test_bad_values_give_one_line_naming_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("READER_THRESHOLD", "2")
    monkeypatch.setenv("LOG_LEVEL", "LOUD")
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None)
    line = describe_validation_error(caught.value)
    assert "\n" not in line
    assert "READER_THRESHOLD" in line and "LOG_LEVEL" in line


def test_engine_and_bot_settings_are_apart() -> None:
    assert not set(Settings.model_fields) & set(TelegramSettings.model_fields)
    assert not [name for name in Settings.model_fields if name.startswith(("telegram_", "webhook_", "allowed_"))]


@pytest.mark.parametrize("settings_class", [Settings, TelegramSettings])
def test_every_setting_is_documented_in_the_readme_and_env_example(settings_class: type) -> None:
    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text()
    example = (ROOT / ".env.example").read_text()
    rows = {line.split("|")[1].strip(): line for line in readme.splitlines() if line.startswith("| `")}
    for name, field in settings_class.model_fields.items():
        assert f"`{name.upper()}`" in rows, name
        assert f"| {field.description} |" in rows[f"`{name.upper()}`"], name  # the row says what the code says
        assert f"# {name.upper()}=" in example, name


def test_a_token_with_surrounding_whitespace_is_stripped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "  123456:ABC-token \n")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-key\t")
    settings, telegram = Settings(_env_file=None), TelegramSettings(_env_file=None)
    assert telegram.token == "123456:ABC-token"
    assert settings.openai_api_key is not None and settings.openai_api_key.get_secret_value() == "sk-key"


def test_embedding_threads_beyond_the_cores_are_refused_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    monkeypatch.setenv("EMBEDDING_THREADS", "100000")
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None)
    line = describe_validation_error(caught.value)
    assert "\n" not in line and "EMBEDDING_THREADS" in line and f"between 0 and {os.cpu_count()}" in line
    monkeypatch.setenv("EMBEDDING_THREADS", str(os.cpu_count()))
    assert Settings(_env_file=None).embedding_threads == os.cpu_count()
