"""Prometheus metrics, scraped over HTTP on loopback: polling mode on METRICS_PORT, webhook mode under /metrics on
the webhook's port, and an LLM that fails counted as a fallback with its breaker open.  Never a question's text.
"""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from rag import Engine, Settings
from tests.conftest import OpenEngine, free_port, make_settings
from tests.openai_fake import FakeOpenAI
from tests.telegram_loopback import QUESTION, cited, running_bot
from tests.test_bot_feedback import NOT_IN_ARTICLE
from tests.test_bot_startup import post_update

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(url: str) -> tuple[str, Samples]:
    """The page and its samples by (name, labels); retried while the server is still starting."""
    deadline = time.monotonic() + 10
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                assert response.headers["Content-Type"].startswith("text/plain")
                page = response.read().decode()
                break
        except urllib.error.URLError:
            assert time.monotonic() < deadline, f"nothing serves {url}"
            time.sleep(0.05)
    samples = {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(page) for sample in family.samples
    }
    return page, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def test_polling_serves_metrics_on_its_port_without_question_text(settings: Settings, engine: Engine) -> None:
    port = free_port()
    with running_bot(settings, engine, metrics_port=port) as h:
        h.send(h.fake.private_message(QUESTION))
        h.send(h.fake.private_message(NOT_IN_ARTICLE))
        h.send(h.fake.private_message("why? " * 400))  # too long: an error
        h.replies(3)
        h.fake.quiet_for(0.3)  # the last handler returns, and the journal marks its update answered
        page, samples = scrape(f"http://127.0.0.1:{port}/metrics")
    assert value(samples, "exchange_bot_questions_total", outcome="answered") == 1
    assert value(samples, "exchange_bot_questions_total", outcome="refused") == 1
    assert value(samples, "exchange_bot_questions_total", outcome="error") == 1
    assert value(samples, "exchange_bot_questions_total", outcome="fallback") == 0
    assert value(samples, "exchange_bot_answer_latency_seconds_count") == 3
    assert value(samples, "exchange_bot_llm_fallbacks_total") == 0
    assert value(samples, "exchange_bot_journal_backlog") == 0
    assert value(samples, "exchange_bot_corpus_reloads_total") == 0
    assert QUESTION not in page and "lunch" not in page and "why?" not in page


def test_webhook_serves_metrics_on_the_webhooks_port(settings: Settings, engine: Engine) -> None:
    port = free_port()
    overrides = {"webhook_url": f"http://127.0.0.1:{port}/telegram", "webhook_listen": "127.0.0.1",
                 "webhook_port": port, "webhook_secret": SecretStr("s3cret")}
    with running_bot(settings, engine, **overrides, metrics_port=free_port()) as h:
        scrape(f"http://127.0.0.1:{port}/metrics")  # waits for the server
        assert post_update(overrides["webhook_url"], {"update_id": 1, **h.fake.private_message(QUESTION)}, "s3cret") == 200
        h.replies(1)
        h.fake.quiet_for(0.3)
        _, samples = scrape(f"http://127.0.0.1:{port}/metrics")
    assert value(samples, "exchange_bot_questions_total", outcome="answered") == 1
    assert value(samples, "exchange_bot_journal_backlog") == 0


def test_a_failing_llm_counts_a_fallback_and_shows_its_breaker_open(tmp_path: Path, open_engine: OpenEngine) -> None:
    llm_server = FakeOpenAI(hang_seconds=1.0).start()
    llm_settings = make_settings(
        tmp_path, openai_base_url=llm_server.base_url, openai_api_key="sk-test-not-a-key", openai_model="fake-model",
        llm_timeout=3.0, llm_max_retries=0, llm_breaker_failures=1, llm_breaker_cooldown=600,
    )
    llm_engine = open_engine(llm_settings)
    port = free_port()
    try:
        with running_bot(llm_settings, llm_engine, metrics_port=port) as h:
            _, before = scrape(f"http://127.0.0.1:{port}/metrics")
            llm_server.push("status", (500, "the model is down"))
            h.send(h.fake.private_message(QUESTION))
            h.replies(1)
            _, after = scrape(f"http://127.0.0.1:{port}/metrics")
    finally:
        llm_engine.close()
        llm_server.stop()
    assert value(before, "exchange_bot_breaker_state", dependency="llm", state="closed") == 1
    assert value(after, "exchange_bot_breaker_state", dependency="llm", state="open") == 1
    assert value(after, "exchange_bot_breaker_state", dependency="llm", state="closed") == 0
    assert value(after, "exchange_bot_questions_total", outcome="fallback") == 1
    assert value(after, "exchange_bot_llm_fallbacks_total") == 1


def test_a_metrics_port_in_use_is_one_line_and_the_bot_still_answers(
    settings: Settings, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with running_bot(settings, engine, metrics_port=taken.getsockname()[1]) as h:
            h.send(h.fake.private_message(QUESTION))
            [reply] = h.replies()
    assert cited(reply)
    assert caplog.text.count("metrics.unavailable") == 1 and "Traceback" not in caplog.text
