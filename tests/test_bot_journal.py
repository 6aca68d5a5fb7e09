"""The update journal on its own: deduplication keys, replay, giving up, pruning, and an unwritable DATA_DIR."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from telegram import Update

from telegram_bot.journal import JOURNAL_FILE, KEEP_S, MAX_REPLAYS, UpdateJournal, update_key
from tests.telegram_fake import FakeBotAPI

REPO = Path(__file__).resolve().parents[1]


def update(update_id: int, payload: dict[str, Any]) -> Update:
    return Update.de_json({"update_id": update_id, **payload}, None)


def test_a_redelivered_message_is_recorded_once_and_replayed_until_answered(tmp_path: Path) -> None:
    fake = FakeBotAPI()
    question = fake.private_message("How many?")
    journal = UpdateJournal.open(tmp_path / JOURNAL_FILE)

    assert journal.record(update(1, question))
    assert not journal.record(update(1, question))  # Telegram sent it again: a duplicate
    assert not journal.record(update(7, question))  # the same message under another update_id, too
    answered = update(2, fake.private_message("Where?"))
    assert journal.record(answered)
    journal.mark_answered(answered)
    journal.close()

    reopened = UpdateJournal.open(tmp_path / JOURNAL_FILE)  # as after a restart
    [replayed] = reopened.take_unanswered()
    assert replayed["update_id"] == 1 and replayed["message"]["text"] == "How many?"
    assert reopened.counts().received == 2 and reopened.counts().answered == 1


def test_an_update_that_fails_every_replay_is_given_up(tmp_path: Path) -> None:
    journal = UpdateJournal.open(tmp_path / JOURNAL_FILE)
    journal.record(update(1, FakeBotAPI().private_message("crashes the bot")))

    replays = [len(journal.take_unanswered()) for _ in range(MAX_REPLAYS + 2)]

    assert replays == [1] * MAX_REPLAYS + [0, 0]
    assert journal.counts().answered == 1  # closed, so it is not replayed again


def test_rows_older_than_telegrams_own_retention_are_pruned(tmp_path: Path) -> None:
    journal = UpdateJournal.open(tmp_path / JOURNAL_FILE)
    journal.record(update(1, FakeBotAPI().private_message("old")))

    journal.prune(now=time.time() + KEEP_S + 1)

    assert journal.counts().received == 0


def test_keys_tell_messages_edits_callbacks_and_inline_queries_apart() -> None:
    fake = FakeBotAPI()
    message = fake.private_message("hi")
    edit = {"edited_message": message["message"]}
    bot_message = {"message_id": 5, "date": 0, "chat": fake.private_chat(), "text": "answer"}
    keys = {
        update_key(update(1, message)),
        update_key(update(2, edit)),
        update_key(update(3, fake.callback_query(bot_message, "src|1|x"))),
        update_key(update(4, fake.inline_query("how many"))),
    }
    assert len(keys) == 4


def test_a_journal_that_cannot_be_written_keeps_the_bot_running_in_memory(tmp_path: Path) -> None:
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("")
    journal = UpdateJournal.open(not_a_directory / JOURNAL_FILE)
    assert journal.location == ":memory:"
    assert journal.record(update(1, FakeBotAPI().private_message("still answered")))


def test_a_corrupt_journal_is_moved_aside_and_a_new_one_started(tmp_path: Path) -> None:
    path = tmp_path / JOURNAL_FILE
    path.write_bytes(b"this is not sqlite at all" * 100)

    journal = UpdateJournal.open(path)

    assert journal.location == str(path)
    assert journal.record(update(1, FakeBotAPI().private_message("still answered")))
    assert path.with_name(path.name + ".corrupt").read_bytes().startswith(b"this is not sqlite")


def test_a_read_only_data_dir_mount_degrades_to_memory_with_one_line(tmp_path: Path) -> None:
    """A real read-only bind mount, in a user namespace of its own (skipped where the machine allows none)."""
    unshare = shutil.which("unshare")
    data = tmp_path / "data"
    data.mkdir()
    UpdateJournal.open(data / JOURNAL_FILE).close()  # a journal from an earlier run is there
    script = (
        "import logging, sys; from pathlib import Path; logging.basicConfig(level=logging.INFO);"
        "from telegram_bot.journal import UpdateJournal;"
        f"journal = UpdateJournal.open(Path({str(data)!r}) / {JOURNAL_FILE!r}); print('location=' + journal.location)"
    )
    mount = f"mount --bind {data} {data} && mount -o remount,bind,ro {data}"
    command = [unshare or "unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
               f'{mount} || exit 77; touch {data}/probe 2>/dev/null && exit 78; exec "$0" -c "$1"', sys.executable, script]
    if unshare is None:
        pytest.skip("no unshare(1) here: a read-only mount cannot be made without privileges")
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60)
    if result.returncode in (77, 78) or "unshare:" in result.stderr:
        pytest.skip(f"this machine allows no read-only bind mount in a user namespace: {result.stderr.strip()[:200]}")
    assert result.returncode == 0, result.stderr
    assert "location=:memory:" in result.stdout
    assert result.stderr.count("journal.unavailable") == 1 and "Traceback" not in result.stderr
