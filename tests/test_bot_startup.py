"""Starting the bot: webhook mode against the loopback Bot API, and ``python bot.py`` refusing a bad
configuration with one clear line.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from rag import Engine, Settings
from telegram_bot.journal import JOURNAL_FILE
from tests.conftest import free_port
from tests.telegram_fake import FakeBotAPI
from tests.telegram_loopback import QUESTION, cited, running_bot

REPO = Path(__file__).resolve().parents[1]


def post_update(url: str, update: dict[str, Any] | bytes, secret: str | None) -> int:
    """POST an update (or a raw body) to the bot's webhook as Telegram would; the HTTP status."""
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    body = update if isinstance(update, bytes) else json.dumps(update).encode()
    request = urllib.request.Request(url, data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


def test_webhook_mode_registers_the_url_checks_the_secret_and_journals_before_200(settings: Settings, engine: Engine) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/hook"
    overrides = {"webhook_url": url, "webhook_listen": "127.0.0.1", "webhook_port": port,
                 "webhook_secret": SecretStr("s3cret-token")}
    with running_bot(settings, engine, **overrides) as h:
        [registered] = h.fake.calls_of("setWebhook")
        assert registered.params["url"] == url and registered.params["secret_token"] == "s3cret-token"
        assert registered.params["drop_pending_updates"] is True
        update = h.fake.private_message(QUESTION)
        deadline = time.monotonic() + 10
        while True:  # the server starts listening just after setWebhook
            try:
                assert post_update(url, {"update_id": 1, **update}, secret=None) == 403  # forged: refused
                break
            except urllib.error.URLError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert post_update(url, {"update_id": 2, **update}, secret="s3cret-token") == 200
        with sqlite3.connect(settings.data_dir / JOURNAL_FILE) as journal:  # written before the 200
            assert journal.execute("SELECT update_id FROM updates").fetchall() == [(2,)]
        [reply] = h.replies()
        assert post_update(url, {"update_id": 2, **update}, secret="s3cret-token") == 200  # Telegram retried
        assert post_update(url, b"{not json", secret="s3cret-token") == 400
        assert post_update(url, {"update_id": 3, "message": {"chat": "x"}}, secret="s3cret-token") == 400
        assert not [c for c in h.fake.quiet_for(0.5) if c.method == "sendMessage"]  # the retry is not answered again
    assert cited(reply)
    assert not h.fake.calls_of("getUpdates")


@pytest.fixture(scope="module")
def start_failures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, subprocess.CompletedProcess[str]]:
    """``python bot.py`` with a bad configuration, three ways, run side by side (imports are slow)."""
    base = tmp_path_factory.mktemp("start")
    (base / "empty").mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "OPENAI_", "WEBHOOK_", "CORPUS_", "DATA_"))}
    env.update(CORPUS_DIR=str(REPO / "corpus"), DATA_DIR=str(base / "data"))
    with FakeBotAPI() as fake:
        configs = {
            "missing token": {},
            "rejected token": {"TELEGRAM_BOT_TOKEN": "42:rejected-token", "TELEGRAM_BASE_URL": fake.base_url},
            "empty corpus": {"TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_BASE_URL": fake.base_url,
                             "CORPUS_DIR": str(base / "empty")},
        }
        processes = {
            name: subprocess.Popen([sys.executable, str(REPO / "bot.py")], cwd=base, env={**env, **extra},
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for name, extra in configs.items()
        }
        results = {}
        for name, process in processes.items():
            stdout, stderr = process.communicate(timeout=90)
            results[name] = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    return results


def test_missing_token_exits_2_with_one_line_about_botfather(start_failures: dict) -> None:
    result = start_failures["missing token"]
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()  # one line, so no traceback
    assert "TELEGRAM_BOT_TOKEN" in line and "@BotFather" in line and "/newbot" in line


def test_rejected_token_exits_2_without_printing_the_token(start_failures: dict) -> None:
    result = start_failures["rejected token"]
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("Telegram refused TELEGRAM_BOT_TOKEN")
    assert "42:rejected-token" not in result.stderr + result.stdout


def test_unusable_corpus_exits_1_with_the_engine_message(start_failures: dict) -> None:
    result = start_failures["empty corpus"]
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("Cannot start: There are no articles to answer from")
