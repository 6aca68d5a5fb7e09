"""The bench runs end to end in quick mode and reports sane figures; `exchange-bot bench` finds it only in a
checkout. No timing is asserted."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from rag import Settings
from benchmarks.report import render_bench
from benchmarks.runner import SECTION_NAMES, run_bench
from benchmarks.scaling import variant
from tests.conftest import CORPUS, QA_FILE, ROOT, load_questions, make_settings


def _figures(section: dict[str, Any]) -> list[dict[str, Any]]:
    return [v for v in section.values() if isinstance(v, dict) and "median" in v]


@pytest.fixture(scope="module")
def quick_result(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    settings: Settings = make_settings(tmp_path_factory.mktemp("bench"), multilingual_search=True)  # the default
    return run_bench(settings, quick=True)


@pytest.mark.timeout(600)
def test_quick_run_reports_every_section_with_sane_figures(quick_result: dict[str, Any]) -> None:
    result = json.loads(json.dumps(quick_result))  # JSON-able, as `bench --json` prints it
    assert result["meta"]["quick"] is True
    assert set(result["sections"]) == set(SECTION_NAMES)
    for name, section in result["sections"].items():
        # In a checkout every fixture a section needs (bot.py, the loopback fakes) is here: all must run.
        assert section.get("available", True), (name, section.get("reason"))
        figures = _figures(section)
        assert figures, name
        for figure in figures:
            assert figure["runs"] >= 1
            assert 0 < figure["min"] <= figure["median"] <= figure["max"] < math.inf, (name, figure)


@pytest.mark.timeout(600)
def test_quick_run_reports_the_figures_the_targets_need(quick_result: dict[str, Any]) -> None:
    sections = quick_result["sections"]
    start = sections["start"]
    assert start["warm_embedded"] == 0 and start["cold_embedded"] > 0
    assert 0 < start["cold_multilingual_sync_s"]["median"] < start["cold_build_s"]["median"]
    assert sections["latency"]["multilingual"]["p50_ms"]["median"] > 0
    assert sections["floor"]["overhead_ratio"]["median"] > 0
    baseline = sections["baseline"]
    assert baseline["baseline_chunks"] > 0 and baseline["our_passages"] > baseline["baseline_chunks"]
    for key in ("build_ratio", "retrieve_ratio", "answer_ratio"):
        assert baseline[key]["median"] > 0
    if QA_FILE.exists():
        # hit@3 over the eval file's answerable questions, not the front matter's examples it falls back to
        assert baseline["answerable_questions"] == sum(q["answerable"] for q in load_questions())
    scaling = sections["scaling"]
    assert scaling["largest_docs"] == 10 and scaling["docs_10"]["passages"] > scaling["docs_1"]["passages"]
    assert scaling["query_p50_ratio"]["median"] > 0
    assert sections["reload"]["embedded"] == 3  # the new article's sentences, nothing of the unchanged one
    assert sections["llm"]["modes"] == ["llm"]  # the fake answered; no fallback hid the LLM path
    telegram = sections["telegram"]
    assert telegram["failed_replies"] == 0 and telegram["peak_rss_mb"]["max"] > 0
    assert {t["target"].split(" (")[0] for t in quick_result["targets"]} >= {"answer p50", "bot peak RSS"}


def test_render_prints_tables(quick_result: dict[str, Any]) -> None:
    console = Console(record=True, width=160)
    render_bench(quick_result, console)
    text = console.export_text()
    assert "targets" in text and "cold_build_s" in text


def test_unknown_section_is_refused(settings: Settings) -> None:
    with pytest.raises(ValueError, match="unknown bench sections"):
        run_bench(settings, sections=["nope"])


def test_variants_change_names_numbers_and_places_but_not_the_seed() -> None:
    seed = next(CORPUS.glob("*.md")).read_text(encoding="utf-8")
    assert variant(seed, 0) == seed
    first, second = variant(seed, 1), variant(seed, 2)
    assert first != second
    for text in (first, second):
        assert "Zelensky" not in text and "Istanbul" not in text and "390" not in text
        assert "(report" in text.split("\n", 2)[1]  # the title is varied too


def _console_script(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """`exchange-bot` as pip installs it: a script in a folder of its own, and only what the wheel holds importable."""
    site, scripts = tmp_path / "site", tmp_path / "bin"
    site.mkdir()
    scripts.mkdir()
    for installed in ("rag", "telegram_bot", "exchange_bot", "bot.py"):
        (site / installed).symlink_to(ROOT / installed)
    script = scripts / "exchange-bot"
    script.write_text("from exchange_bot.cli import app\n\napp()\n", encoding="utf-8")
    return script, os.environ | {"PYTHONPATH": str(site)}


def test_bench_outside_a_checkout_says_where_it_runs(tmp_path: Path) -> None:
    script, env = _console_script(tmp_path)
    done = subprocess.run([sys.executable, str(script), "bench", "--quick"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "checkout" in done.stderr and 'pip install -e ".[bench]"' in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_bench_in_the_checkout_root_is_the_benchmarks_command(tmp_path: Path) -> None:
    script, env = _console_script(tmp_path)
    done = subprocess.run([sys.executable, str(script), "bench", "--help"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Usage: exchange-bot bench" in done.stdout and "--section" in done.stdout and "--quick" in done.stdout
