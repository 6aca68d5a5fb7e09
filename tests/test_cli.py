"""The CLI over the same engine: ask (pretty and --json), index, eval, chat, bad settings."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from exchange_bot.cli import app
from tests.conftest import CORPUS, EUROVISION, QA_FILE, OpenEngine, load_questions, make_settings

runner = CliRunner()


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = {"CORPUS_DIR": str(CORPUS), "DATA_DIR": str(tmp_path / "data")}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture(scope="module")
def built_data_dir(tmp_path_factory: pytest.TempPathFactory, open_engine: OpenEngine) -> Path:
    """A data directory indexed once with the CLI's defaults (both collections), for tests not about building it."""
    base = tmp_path_factory.mktemp("cli-index")
    open_engine(make_settings(base, multilingual_search=True)).close()
    return base / "data"


@pytest.fixture
def indexed_cli_env(cli_env: dict[str, str], built_data_dir: Path) -> dict[str, str]:
    """``cli_env`` over a private copy of the built index: the command finds nothing to embed."""
    shutil.copytree(built_data_dir, cli_env["DATA_DIR"])
    return cli_env


def test_ask_json_prints_exactly_one_object(indexed_cli_env: dict[str, str]) -> None:
    result = runner.invoke(app, ["ask", "--json", "How many civilians did each country exchange?"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert set(payload) == {"question", "answer", "citations", "grounded", "mode", "latency_ms"}
    assert payload["grounded"] is True and payload["mode"] == "offline"
    assert "120" in payload["answer"]
    assert payload["citations"][0]["n"] == 1 and payload["citations"][0]["passage_id"].startswith("prisoner-exchange:")


def test_index_names_the_example_questions_the_engine_does_not_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "eurovision.md").write_text(EUROVISION, encoding="utf-8")
    monkeypatch.setenv("CORPUS_DIR", str(corpus))
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    result = runner.invoke(app, ["index"])
    assert result.exit_code == 0, result.output
    assert (
        "“Basel Hosts the Eurovision Final”: the offline reader does not answer 1 of its example question(s), "
        "so the bot will not suggest them: Who won the 2022 World Cup?"
    ) in " ".join(result.stdout.split())


def test_ask_builds_the_index_on_first_use_then_index_reports_nothing_to_embed(cli_env: dict[str, str]) -> None:
    first = runner.invoke(app, ["ask", "Where did the negotiators meet?"])
    assert first.exit_code == 0 and "Istanbul" in first.stdout
    assert "Source sentence" in first.stdout
    again = runner.invoke(app, ["index"])
    assert again.exit_code == 0
    assert "0 embedded" in again.stdout and "21 unchanged" in again.stdout


def test_ask_empty_question_is_a_polite_error(cli_env: dict[str, str]) -> None:
    result = runner.invoke(app, ["ask", "   "])
    assert result.exit_code == 1
    assert "Please send a question" in result.output
    assert not Path(cli_env["DATA_DIR"]).exists()  # refused before any index was built for it


def test_eval_json_reports_the_metrics(indexed_cli_env: dict[str, str]) -> None:
    if not QA_FILE.exists():
        pytest.skip("shared eval questions not present")
    result = runner.invoke(app, ["eval", "--questions", str(QA_FILE), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert {"citation_precision", "citation_recall", "hit_at_3", "mrr"} <= set(report)
    results = report["results"]
    assert [r["qid"] for r in results] == [q["id"] for q in load_questions()]  # every question, once, in order
    # The figures are those of the answers printed with them: a fact missing from an answer counts as wrong.
    facts = {q["id"]: q["facts"] for q in load_questions()}
    answerable = [r for r in results if r["answerable"]]
    for result in answerable:
        options = [[fact] if isinstance(fact, str) else fact for fact in facts[result["qid"]]]
        stated = all(any(o.casefold() in result["answer"].casefold() for o in fact) for fact in options)
        assert result["correct"] == (stated and "[1]" in result["answer"]), result
    assert report["answer_accuracy"] == pytest.approx(sum(r["correct"] for r in answerable) / len(answerable))
    refused = [r for r in results if not r["answerable"]]
    assert report["refusal_accuracy"] == pytest.approx(sum(r["correct"] for r in refused) / len(refused))


def test_chat_answers_until_an_empty_line(indexed_cli_env: dict[str, str]) -> None:
    result = runner.invoke(app, ["chat"], input="Who announced the return of the personnel?\n\n")
    assert result.exit_code == 0, result.output
    assert "Zelensky" in result.stdout


def test_chat_reads_a_follow_up_with_the_previous_question_until_reset(indexed_cli_env: dict[str, str]) -> None:
    def chat(*turns: str) -> str:
        result = runner.invoke(app, ["chat"], input="\n".join(turns) + "\n\n")
        assert result.exit_code == 0, result.output
        return result.stdout

    followed = chat("Who is Natalia waiting for?", "Where was he captured?")
    reset = chat("Who is Natalia waiting for?", "/reset", "Where was he captured?")
    # Both start with Natalia's sentence; only the follow-up read with its context quotes it again.
    assert followed.count("Severodonetsk") == 2 * reset.count("Severodonetsk") > 0
    assert "Forgotten" in reset


def test_eval_conversations_reports_follow_ups_and_self_contained_turns(indexed_cli_env: dict[str, str]) -> None:
    conversations = Path(__file__).parent / "data" / "conversations.jsonl"
    result = runner.invoke(app, ["eval", "--questions", str(conversations), "--json"])  # recognised by its turns
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["follow_ups"]["questions"] > 0 and report["standalone"]["questions"] > 0
    assert report["follow_ups"]["answer_accuracy"] > report["follow_ups_alone"]["answer_accuracy"]


def test_bad_setting_fails_at_start_with_one_clear_line(cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOP_K", "lots")
    result = runner.invoke(app, ["ask", "anything"])
    assert result.exit_code == 2
    assert "TOP_K" in result.output and "Traceback" not in result.output


def test_missing_corpus_is_one_line_not_a_traceback(cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CORPUS_DIR", str(tmp_path / "nowhere"))
    result = runner.invoke(app, ["ask", "anything"])
    assert result.exit_code == 1
    assert "does not exist" in result.output


def test_installed_console_script_answers_offline(tmp_path: Path) -> None:
    """The README's first command, as a user runs it: a fresh process, no key, no network."""
    script = Path(sys.executable).with_name("exchange-bot")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "CHROMA_", "TELEGRAM_"))}
    env |= {"CORPUS_DIR": str(CORPUS), "DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run(
        [str(script), "ask", "--json", "How many people were exchanged?"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["grounded"] and "390" in payload["answer"]


def test_python_m_exchange_bot_serves_the_bot_and_without_a_token_says_so_in_one_line(tmp_path: Path) -> None:
    """`python -m exchange_bot serve` is `exchange-bot serve`, which is `python bot.py`: installed, from any folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "CHROMA_", "TELEGRAM_"))}
    env |= {"CORPUS_DIR": str(CORPUS), "DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run([sys.executable, "-m", "exchange_bot", "serve"], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=120)
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()  # one line, so no traceback
    assert "TELEGRAM_BOT_TOKEN" in line and "@BotFather" in line


def test_bench_command_prints_one_json_object_for_the_named_sections(indexed_cli_env: dict[str, str]) -> None:
    result = runner.invoke(app, ["bench", "--quick", "--json", "-s", "latency", "-s", "floor"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert set(report["sections"]) == {"latency", "floor"}
    assert report["sections"]["latency"]["p50_ms"]["median"] > 0
    assert report["sections"]["floor"]["overhead_ratio"]["median"] > 0


def test_serve_without_a_token_says_how_to_get_one(cli_env: dict[str, str]) -> None:
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 2
    assert "BotFather" in result.output and "TELEGRAM_BOT_TOKEN" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("package", ["psutil", "langchain_chroma"])
def test_bench_without_the_bench_extra_names_the_install_command(
    cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, package: str
) -> None:
    monkeypatch.setitem(sys.modules, package, None)  # what `import` sees when the package is not installed
    result = runner.invoke(app, ["bench", "--quick"])
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0 and "Traceback" not in result.output
    assert 'pip install -e ".[bench]"' in result.output and package in result.output
