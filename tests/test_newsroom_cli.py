"""``exchange-bot report`` on a log the real engine's answers filled: text, --json, --html (a page a strict HTML
parser accepts, needing nothing from outside), --export (which ``eval --questions`` reads back)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import html5lib
import pytest
from typer.testing import CliRunner

from newsroom.log import LoggedQuestion, QuestionLog, question_log_path
from rag import Settings
from exchange_bot.cli import app
from tests.conftest import OpenEngine, make_settings

runner = CliRunner()
ANSWERED = ["How many civilians did each country exchange?", "Who announced the return of the personnel?"]
NOT_IN_IT = ["How much did tickets for the final cost?", "What was the price of a ticket to the final?",
             "What is the weather going to be like tomorrow?"]


@pytest.fixture(scope="module")
def logged_data(tmp_path_factory: pytest.TempPathFactory, open_engine: OpenEngine) -> Settings:
    """An indexed DATA_DIR whose question log holds what the engine answered, over two days, with votes."""
    settings = make_settings(tmp_path_factory.mktemp("newsroom-cli"))
    engine = open_engine(settings)
    log = QuestionLog.open(question_log_path(settings.data_dir))
    documents = {d.doc_id: d for d in engine.documents}
    now = time.time()
    try:
        for n, question in enumerate(ANSWERED + NOT_IN_IT + ANSWERED[:1] + NOT_IN_IT[:1]):
            answer = engine.answer(question)
            entry = LoggedQuestion.from_answer(answer, answer_id=f"m{n}", chat_type="private", documents=documents,
                                               asked_at=now - 86400 * (n % 2))
            log.record(entry)
        log.vote("m1", "5550001", -1)  # readers thought "who announced" was answered wrongly
        log.vote("m1", "5550002", -1)
    finally:
        log.close()
        engine.close()
    return settings


@pytest.fixture
def report_env(logged_data: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name, value in {"CORPUS_DIR": logged_data.corpus_dir, "DATA_DIR": logged_data.data_dir,
                        "MULTILINGUAL_SEARCH": "false"}.items():
        monkeypatch.setenv(name, str(value))
    return logged_data


def test_report_json_has_the_articles_figures_and_its_unanswered_groups(report_env: Settings) -> None:
    result = runner.invoke(app, ["report", "--json", "--since", "3d"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["asked"] == 7
    [article] = report["articles"]
    assert article["article"] == "prisoner-exchange" and article["asked"] == 7
    groups = article["unanswered"]
    assert sum(g["count"] for g in groups) == report["outcomes"]["refused"] >= 4
    tickets = next(g for g in groups if NOT_IN_IT[0] in g["examples"])
    assert NOT_IN_IT[1] in tickets["examples"] and tickets["count"] == 3  # asked three times in two wordings
    [down] = article["voted_down"]
    assert down["question"] == ANSWERED[1] and down["down"] == 2 and down["cited"][0]["text"]
    assert [d["asked"] for d in report["days"]] in ([3, 4], [4, 3], [7])  # two UTC days, unless run near midnight


def test_report_since_leaves_out_older_questions_and_prints_text(report_env: Settings) -> None:
    result = runner.invoke(app, ["report", "--since", "12h"])
    assert result.exit_code == 0, result.output
    assert "4 questions" in result.stdout and "Not in the article" in result.stdout


def test_report_html_is_one_valid_self_contained_page(report_env: Settings, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    result = runner.invoke(app, ["report", "--html", str(page)])
    assert result.exit_code == 0, result.output
    text = page.read_text(encoding="utf-8")
    html5lib.HTMLParser(strict=True).parse(text)  # raises on any parse error a browser would have to repair
    assert text.count('src="data:image/svg+xml;base64,') == 2
    assert not re.search(r"<script|<link|(src|href)=\"(https?:)?//", text)  # nothing fetched, nothing run
    assert 'name="viewport"' in text and NOT_IN_IT[0] in text and ANSWERED[1] in text


def test_the_export_is_a_question_file_eval_reads(report_env: Settings, tmp_path: Path) -> None:
    exported = tmp_path / "readers.jsonl"
    result = runner.invoke(app, ["report", "--export", str(exported)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in exported.read_text(encoding="utf-8").splitlines()]
    assert {q["question"] for q in lines} >= set(NOT_IN_IT) | {ANSWERED[1]}
    assert all(q["facts"] == [] for q in lines)
    scored = runner.invoke(app, ["eval", "--questions", str(exported), "--json"])
    assert scored.exit_code == 0, scored.output
    report = json.loads(scored.stdout)
    assert report["questions"] == len(lines)
    refused = [r for r in report["results"] if not r["answerable"]]
    assert refused and all(r["correct"] for r in refused)  # the engine still refuses what it refused


def test_no_log_a_bad_period_and_an_unwritable_file_are_one_clear_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    report_env: Settings) -> None:
    bad = runner.invoke(app, ["report", "--since", "last tuesday"])
    assert bad.exit_code == 2 and "--since" in bad.output and "Traceback" not in bad.output
    unwritable = runner.invoke(app, ["report", "--html", str(tmp_path / "no-such-folder" / "r.html")])
    assert unwritable.exit_code == 1 and "Cannot write" in unwritable.output
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "empty"))
    missing = runner.invoke(app, ["report"])
    assert missing.exit_code == 2 and "No question log" in missing.output
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / "questions.sqlite3").write_bytes(b"not a database, " * 512)
    monkeypatch.setenv("DATA_DIR", str(damaged))
    unreadable = runner.invoke(app, ["report"])
    assert unreadable.exit_code != 0 and "cannot be read" in unreadable.output and "Traceback" not in unreadable.output


def test_a_period_longer_than_the_log_reports_everything(report_env: Settings) -> None:
    everything = runner.invoke(app, ["report", "--json", "--since", "100000w"])  # before year 1: since the start
    assert everything.exit_code == 0, everything.output
    assert json.loads(everything.stdout)["asked"] == json.loads(runner.invoke(app, ["report", "--json"]).stdout)["asked"]
