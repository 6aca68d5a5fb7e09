"""What ``exchange-bot report`` does, apart from the command line itself: the period, the report, its text form."""

from __future__ import annotations

import re
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from rag.embeddings import MiniLMEmbedding
from rag.settings import Settings

from .log import LogEntry, QuestionLog, question_log_path
from .report import Corpus, Report, build_report

_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([mhdw])")


class ReportError(ValueError):
    """A report that cannot be made, with what to do about it (the command prints it)."""


def parse_since(text: str, now: float | None = None) -> float:
    """``7d``, ``24h``, ``90m``, ``2w`` back from now, or an ISO date/time (UTC unless it says otherwise)."""
    now = time.time() if now is None else now
    duration = _DURATION.fullmatch(text.strip().lower())
    if duration:
        return max(0.0, now - float(duration.group(1)) * _UNITS[duration.group(2)])  # "100000w": since the start
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ReportError(
            f"--since {text!r}: give a duration such as 7d, 24h, 90m, or a date such as 2026-12-01"
        ) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


@dataclass(frozen=True)
class LoadedReport:
    report: Report
    entries: list[LogEntry]  # what the report was made from (the export takes its questions from them)


def load_report(settings: Settings, since: float) -> LoadedReport:
    """The report on the log in DATA_DIR since ``since``; questions logged without a vector are embedded here."""
    path = question_log_path(settings.data_dir)
    try:
        log = QuestionLog.open_for_reading(path)
        if log is None:
            raise ReportError(f"No question log at {path}: the bot writes it while it runs (QUESTION_LOG_DAYS > 0).")
        try:
            entries = log.entries(since)
        finally:
            log.close()
    except sqlite3.Error as err:  # damaged or unreadable: one line, as for every other report error
        raise ReportError(f"The question log at {path} cannot be read: {err}") from None
    embedder = MiniLMEmbedding(threads=settings.embedding_threads, model_dir=settings.model_dir)  # loads on first use
    return LoadedReport(build_report(entries, Corpus.load(settings.corpus_dir), embedder, since), entries)


def render_text(report: Report, groups: int = 10) -> str:
    """The report for a terminal: per article, its figures, its largest unanswered groups and voted-down answers."""
    lines = [f"{report.asked} questions: " + ", ".join(f"{k} {v}" for k, v in report.outcomes.items())]
    for article in report.articles:
        lines += [
            "",
            f"{article.title}",
            f"  {article.asked} asked, {article.answered_share:.0%} answered, {article.refused_share:.0%} not; "
            f"votes {article.up} up, {article.down} down; latency p50 {article.latency_p50_ms:.0f} ms, "
            f"p95 {article.latency_p95_ms:.0f} ms",
        ]
        if article.unanswered:
            lines.append("  Not in the article (grouped by meaning):")
            lines += [f"    {g.count:>4}×  {' | '.join(g.examples)}" for g in article.unanswered[:groups]]
            if len(article.unanswered) > groups:
                lines.append(f"    … and {len(article.unanswered) - groups} more groups (--json)")
        for answer in article.voted_down:
            lines.append(f"  Voted down ({answer.down} down, {answer.up} up): {answer.question}")
            lines += [f"      “{c.text or c.passage_id + ' (no longer in the article)'}”" for c in answer.cited]
    return "\n".join(lines)
