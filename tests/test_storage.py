"""Caches and the index on disk: unreadable caches are rebuilt; a read-only or full DATA_DIR is one clear line,
never a healthy index moved aside (real mounts in a private mount namespace, when the machine allows them)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from rag.embeddings import MiniLMEmbedding
from tests.conftest import CORPUS, OpenEngine, ROOT, make_settings


def test_a_truncated_model_cache_is_rebuilt(tmp_path: Path) -> None:
    first = MiniLMEmbedding(threads=1, model_dir=tmp_path)
    reference = first.embed(["prisoner exchange"])
    (model_file,) = tmp_path.glob("*.onnx")
    model_file.write_bytes(model_file.read_bytes()[: model_file.stat().st_size // 3])
    again = MiniLMEmbedding(threads=1, model_dir=tmp_path).embed(["prisoner exchange"])
    assert float(again[0] @ reference[0]) > 0.999
    assert model_file.stat().st_size > 0 and len(list(tmp_path.glob("*.onnx"))) == 1


@cache
def _mount_unavailable() -> str | None:
    """Why this machine cannot mount in a private namespace (no root, no unshare), or None when it can."""
    if shutil.which("unshare") is None or shutil.which("mount") is None:
        return "unshare or mount is not installed"
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"], capture_output=True, text=True
    )
    return None if probe.returncode == 0 else f"cannot mount in a private namespace: {probe.stderr.strip()}"


def _in_namespace(script: str, data_dir: Path, corpus: Path = CORPUS) -> subprocess.CompletedProcess:
    """A shell ``script`` in a mount namespace of its own (its mounts vanish with it); ``$CLI`` is exchange-bot."""
    reason = _mount_unavailable()
    if reason:
        pytest.skip(reason)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "CHROMA_", "TELEGRAM_"))}
    env |= {
        "CORPUS_DIR": str(corpus), "DATA_DIR": str(data_dir), "MULTILINGUAL_SEARCH": "false",
        "PYTHONPATH": str(ROOT), "CLI": f"{sys.executable} -m exchange_bot",
    }
    return subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, env=env, timeout=300)


def _read_only(path: Path) -> str:
    return f"mount --bind {path} {path} && mount -o remount,ro,bind {path}"


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def test_read_only_data_dir_with_a_complete_index_still_answers(tmp_path: Path, open_engine: OpenEngine) -> None:
    settings = make_settings(tmp_path)
    open_engine(settings)
    before = sorted(p.name for p in settings.data_dir.iterdir())
    script = f"{_read_only(settings.data_dir)} && $CLI ask --json 'At which border did the exchange take place?'"
    done = _in_namespace(script, settings.data_dir, settings.corpus_dir)
    assert done.returncode == 0, done.stderr
    assert "Belarus" in done.stdout and done.stderr == ""
    assert sorted(p.name for p in settings.data_dir.iterdir()) == before  # nothing moved aside or added


def test_read_only_data_dir_with_a_stale_index_is_one_clear_line(tmp_path: Path, open_engine: OpenEngine) -> None:
    settings = make_settings(tmp_path)
    open_engine(settings)
    with (settings.corpus_dir / "prisoner-exchange.md").open("a") as article:
        article.write("\nThe mayor opened a bridge.\n")
    done = _in_namespace(f"{_read_only(settings.data_dir)} && $CLI index", settings.data_dir, settings.corpus_dir)
    assert done.returncode == 1
    assert "DATA_DIR is read-only" in _one_line(done.stderr)
    assert not list(settings.data_dir.glob("chroma.corrupt-*"))


def test_full_data_dir_is_one_clear_line(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    done = _in_namespace(f"mount -t tmpfs -o size=96k tmpfs {data_dir} && $CLI index", data_dir)
    assert done.returncode == 1
    assert "is full" in _one_line(done.stderr)


def test_a_disk_that_fills_up_keeps_its_index_and_still_answers(tmp_path: Path) -> None:
    data_dir, corpus = tmp_path / "data", tmp_path / "corpus"
    data_dir.mkdir()
    shutil.copytree(CORPUS, corpus)
    script = (
        f"mount -t tmpfs -o size=2m tmpfs {data_dir} && $CLI index >/dev/null"
        f" && (dd if=/dev/zero of={data_dir}/filler bs=16k 2>/dev/null; true)"  # the disk is now full
        f" && $CLI ask --json 'At which border did the exchange take place?'"
        f" && echo 'The mayor opened a bridge.' >> {corpus}/prisoner-exchange.md && $CLI index;"
        f" echo index_exit=$?; ls {data_dir}"
    )
    done = _in_namespace(script, data_dir, corpus)
    assert "Belarus" in done.stdout and "index_exit=1" in done.stdout, done.stdout + done.stderr
    assert "DATA_DIR is full" in _one_line(done.stderr)
    assert "corrupt" not in done.stdout  # the listing of DATA_DIR: the healthy index was not moved aside
