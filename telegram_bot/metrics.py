"""Prometheus metrics for the operator: questions by outcome, answer latency, LLM fallbacks, breakers, journal, reloads.

One registry per Application (``BotMetrics.create``), never prometheus_client's global one: two bots in one
process (the tests) keep their counts apart.  Counters are counted as questions are answered; the breaker states,
the journal's backlog and the corpus reloads are read from the bot's parts when Prometheus scrapes.  No metric
carries a question, a user or a chat: labels are outcomes, states and dependency names only.

Served under ``/metrics`` on the webhook server's port, or in polling mode on METRICS_PORT (``serve_metrics``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from threading import Thread
from typing import get_args
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from newsroom.log import Outcome
from rag.breaker import State

logger = logging.getLogger("bot.metrics")

# Offline answers take tens of milliseconds, LLM answers seconds, a stuck index the answer timeout (25 s).
LATENCY_BUCKETS_S = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 60.0)


@dataclass(frozen=True)
class BotReadings:
    """What the scrape reads from the running bot; each callable is cheap and thread-safe."""

    breaker_states: Callable[[], dict[str, State]]  # dependency name -> state
    journal_backlog: Callable[[], int]  # updates received but not yet answered
    corpus_reloads: Callable[[], int]  # engines swapped in since start


class ReadingsCollector(Collector):
    """The metrics that are read, not counted: filled in by ``BotMetrics.watch`` once the engine is open."""

    def __init__(self) -> None:
        self.readings: BotReadings | None = None

    def collect(self) -> Iterator[Metric]:
        readings = self.readings
        if readings is None:  # scraped before post_init: nothing to read yet
            return
        breakers = GaugeMetricFamily(
            "exchange_bot_breaker_state", "1 for the state each dependency's circuit breaker is in",
            labels=["dependency", "state"],
        )
        for name, current in readings.breaker_states().items():
            for state in get_args(State):
                breakers.add_metric([name, state], 1.0 if state == current else 0.0)
        yield breakers
        yield GaugeMetricFamily(
            "exchange_bot_journal_backlog", "Updates received but not yet answered", value=readings.journal_backlog()
        )
        yield CounterMetricFamily(
            "exchange_bot_corpus_reloads", "Engines rebuilt and swapped in after a corpus change",
            value=readings.corpus_reloads(),
        )


@dataclass(frozen=True)
class BotMetrics:
    """The registry and the bot's counters; make one per Application with :meth:`create`."""

    registry: CollectorRegistry
    questions: Counter
    latency: Histogram
    fallbacks: Counter
    readings: ReadingsCollector

    @classmethod
    def create(cls) -> BotMetrics:
        registry = CollectorRegistry(auto_describe=True)
        questions = Counter(
            "exchange_bot_questions", "Questions the bot replied to, by outcome", ["outcome"], registry=registry
        )
        for outcome in get_args(Outcome):  # every outcome shows from the start, at 0
            questions.labels(outcome)
        latency = Histogram(
            "exchange_bot_answer_latency_seconds", "From a question reaching its handler to its answer being ready",
            buckets=LATENCY_BUCKETS_S, registry=registry,
        )
        fallbacks = Counter(
            "exchange_bot_llm_fallbacks", "Answers the offline answerer gave because the LLM could not",
            registry=registry,
        )
        readings = ReadingsCollector()
        registry.register(readings)
        return cls(registry, questions, latency, fallbacks, readings)

    def count_question(self, outcome: Outcome, seconds: float) -> None:
        """One question replied to: its outcome and how long its answer took."""
        self.questions.labels(outcome).inc()
        self.latency.observe(seconds)
        if outcome == "fallback":
            self.fallbacks.inc()

    def watch(self, readings: BotReadings) -> None:
        """Read these from now on, at every scrape."""
        self.readings.readings = readings


@dataclass
class MetricsServer:
    """The polling mode's own ``/metrics`` HTTP server, in a thread of its own."""

    server: WSGIServer
    thread: Thread

    @classmethod
    def start(cls, metrics: BotMetrics, listen: str, port: int) -> MetricsServer | None:
        """Serve ``/metrics``; None, with one line, when the port cannot be had: the bot answers without them."""
        try:
            server, thread = start_http_server(port, addr=listen, registry=metrics.registry)
        except OSError as err:
            logger.error("metrics.unavailable listen=%s port=%d error=%s: answering without /metrics", listen, port, err)
            return None
        logger.info("metrics.serving listen=%s port=%d path=/metrics", listen, server.server_port)
        return cls(server, thread)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
