"""The newsroom's report from the question log: per article, what was asked, answered, refused and voted on,
and what readers wanted to know that the article does not say, grouped by meaning.

It reads the log and the corpus (for titles and the sentences a voted-down answer cited), never the running bot:
``exchange-bot report`` works on the DATA_DIR the bot writes. ``summarize`` is the short form the bot's /stats
shows.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from rag.corpus import SentenceSplitter, load_documents
from rag.embeddings import CosineEmbeddingFunction
from rag.models import Document, Passage

from .groups import PARAPHRASE_THRESHOLD, QuestionGroup, group_questions, groups_by_wording, same_wording
from .log import LogEntry, QuestionLog

NO_ARTICLE = "(no article)"  # questions nothing was found for: the engine had no passage to point at
_GROUP_EXAMPLES = 3
_VOTED_DOWN_SHOWN = 20
_DAY_S = 86400


@dataclass(frozen=True)
class Corpus:
    """The articles as the engine splits them: titles, versions and the text of each passage id."""

    documents: dict[str, Document]
    passages: dict[str, Passage]

    @classmethod
    def load(cls, corpus_dir: Path) -> Corpus:
        documents = load_documents(corpus_dir)
        passages = SentenceSplitter().split(documents)
        return cls({d.doc_id: d for d in documents}, {p.passage_id: p for p in passages})

    def title(self, doc_id: str | None) -> str:
        document = self.documents.get(doc_id) if doc_id else None
        return document.title if document else (doc_id or NO_ARTICLE)


@dataclass(frozen=True)
class CitedSentence:
    passage_id: str
    text: str | None  # None when the article no longer has this passage


@dataclass(frozen=True)
class VotedDown:
    """An answer readers voted down, with the sentences it cited (its askings in the same words, together)."""

    question: str
    asked_at: float  # the last time
    up: int
    down: int
    cited: list[CitedSentence]
    article_changed: bool  # the article was edited since: the sentences shown may not be the ones the reader saw


@dataclass(frozen=True)
class ArticleReport:
    article: str  # document id, or NO_ARTICLE
    title: str
    asked: int
    answered_share: float
    refused_share: float
    up: int
    down: int
    latency_p50_ms: float
    latency_p95_ms: float
    unanswered: list[QuestionGroup] = field(default_factory=list)  # what the article does not say, largest first
    voted_down: list[VotedDown] = field(default_factory=list)


@dataclass(frozen=True)
class DayCount:
    day: str  # ISO date, UTC
    asked: int
    refused: int


@dataclass(frozen=True)
class Report:
    since: float
    until: float
    asked: int
    outcomes: dict[str, int]
    articles: list[ArticleReport]
    days: list[DayCount]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["since"], data["until"] = iso(self.since), iso(self.until)
        return data


@dataclass(frozen=True)
class ReportSummary:
    """The report in a few lines, for /stats."""

    since: float
    asked: int
    outcomes: dict[str, int]
    up: int
    down: int
    latency_p50_ms: float
    latency_p95_ms: float
    top_unanswered: list[QuestionGroup]


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat(timespec="seconds")


def is_unanswered(entry: LogEntry) -> bool:
    """The article did not answer: refused, or the fallback after a failed model call cited nothing."""
    logged = entry.question
    return logged.outcome == "refused" or (logged.outcome == "fallback" and not logged.passage_ids)


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else 0.0


def unanswered_groups(
    entries: list[LogEntry], embedder: CosineEmbeddingFunction | None, threshold: float = PARAPHRASE_THRESHOLD,
    examples: int = _GROUP_EXAMPLES,
) -> list[QuestionGroup]:
    """The unanswered questions among ``entries`` grouped by meaning, with the vectors the engine logged; those
    logged without one are embedded with ``embedder`` (the engine's model) or, without it, grouped by wording."""
    questions = [e.question for e in entries if is_unanswered(e)]
    missing = [q.question for q in questions if q.embedding is None]
    # By the vectors' size: a log that spans a change of model holds two kinds, each grouped on its own.
    by_model: dict[int, tuple[list[str], list[np.ndarray]]] = defaultdict(lambda: ([], []))
    for logged in questions:
        if logged.embedding is not None:
            texts, vectors = by_model[logged.embedding.shape[0]]
            texts.append(logged.question)
            vectors.append(logged.embedding)
    if missing and embedder is not None:
        for text, vector in zip(missing, embedder.embed(missing)):
            texts, vectors = by_model[vector.shape[0]]
            texts.append(text)
            vectors.append(vector)
        missing = []
    groups = [
        group for texts, vectors in by_model.values()
        for group in group_questions(texts, np.stack(vectors), threshold, examples)
    ]
    if missing:  # no model at hand (/stats): grouped by their words, in linear memory (an identity matrix of
        # 20,000 questions took 1.6 GB)
        groups += groups_by_wording(missing, examples)
    return sorted(groups, key=lambda g: -g.count)


def _voted_down(entries: Iterable[LogEntry], corpus: Corpus) -> list[VotedDown]:
    """Answers with a 👎, the same question answered with the same sentences counted once, most disliked first."""
    merged: dict[tuple[str, tuple[str, ...]], list[LogEntry]] = defaultdict(list)
    for entry in entries:
        if entry.down > 0:
            merged[(same_wording(entry.question.question), entry.question.passage_ids)].append(entry)
    shown = []
    for askings in merged.values():
        last = max(askings, key=lambda e: e.question.asked_at).question
        document = corpus.documents.get(last.article) if last.article else None
        shown.append(VotedDown(
            question=last.question, asked_at=last.asked_at, up=sum(e.up for e in askings),
            down=sum(e.down for e in askings),
            cited=[
                CitedSentence(pid, passage.text if (passage := corpus.passages.get(pid)) else None)
                for pid in last.passage_ids
            ],
            article_changed=document is not None and last.article_version not in (None, document.version),
        ))
    shown.sort(key=lambda v: (-(v.down - v.up), -v.down, -v.asked_at))
    return shown[:_VOTED_DOWN_SHOWN]


def _article_report(
    article: str, entries: list[LogEntry], corpus: Corpus, embedder: CosineEmbeddingFunction | None
) -> ArticleReport:
    outcomes = [e.question.outcome for e in entries]
    latencies = [e.question.latency_ms for e in entries]
    unanswered = sum(is_unanswered(e) for e in entries)
    return ArticleReport(
        article=article, title=corpus.title(None if article == NO_ARTICLE else article), asked=len(entries),
        answered_share=outcomes.count("answered") / len(entries), refused_share=unanswered / len(entries),
        up=sum(e.up for e in entries), down=sum(e.down for e in entries),
        latency_p50_ms=percentile(latencies, 50), latency_p95_ms=percentile(latencies, 95),
        unanswered=unanswered_groups(entries, embedder), voted_down=_voted_down(entries, corpus),
    )


def _days(entries: list[LogEntry]) -> list[DayCount]:
    """Questions and unanswered ones per UTC day, days without questions left out."""
    if not entries:
        return []
    day = (np.array([e.question.asked_at for e in entries]) // _DAY_S).astype(np.int64)
    unanswered = np.array([is_unanswered(e) for e in entries])
    days, index = np.unique(day, return_inverse=True)
    asked = np.bincount(index)
    refused = np.bincount(index, weights=unanswered)
    return [
        DayCount(datetime.fromtimestamp(int(d) * _DAY_S, timezone.utc).date().isoformat(), int(a), int(r))
        for d, a, r in zip(days, asked, refused)
    ]


def _outcomes(entries: list[LogEntry]) -> dict[str, int]:
    counts = dict.fromkeys(("answered", "refused", "fallback", "error"), 0)
    for entry in entries:
        counts[entry.question.outcome] = counts.get(entry.question.outcome, 0) + 1
    return counts


def build_report(
    entries: list[LogEntry], corpus: Corpus, embedder: CosineEmbeddingFunction | None, since: float,
    until: float | None = None,
) -> Report:
    """The report over ``entries`` (``QuestionLog.entries(since)``): articles with the most questions first."""
    by_article: dict[str, list[LogEntry]] = defaultdict(list)
    for entry in entries:
        by_article[entry.question.article or NO_ARTICLE].append(entry)
    articles = [_article_report(a, items, corpus, embedder) for a, items in by_article.items()]
    return Report(
        since=since, until=time.time() if until is None else until, asked=len(entries), outcomes=_outcomes(entries),
        articles=sorted(articles, key=lambda a: (-a.asked, a.article)), days=_days(entries),
    )


def summarize(
    log: QuestionLog, since: float, embedder: CosineEmbeddingFunction | None = None, top: int = 3
) -> ReportSummary:
    """The report's headline figures since ``since`` (unix seconds) and its largest unanswered groups."""
    entries = log.entries(since)
    latencies = [e.question.latency_ms for e in entries]
    return ReportSummary(
        since=since, asked=len(entries), outcomes=_outcomes(entries), up=sum(e.up for e in entries),
        down=sum(e.down for e in entries), latency_p50_ms=percentile(latencies, 50),
        latency_p95_ms=percentile(latencies, 95), top_unanswered=unanswered_groups(entries, embedder, examples=1)[:top],
    )


def render_summary(summary: ReportSummary) -> str:
    """The summary as a few plain-text lines (what /stats sends)."""
    if not summary.asked:
        return f"No questions since {iso(summary.since)}."
    asked = summary.asked
    answered, refused = summary.outcomes["answered"], summary.outcomes["refused"]
    lines = [
        f"Since {iso(summary.since)}: {asked} question{'s' if asked != 1 else ''}.",
        f"Answered {answered} ({answered / asked:.0%}), refused {refused} ({refused / asked:.0%}), "
        f"fallbacks {summary.outcomes['fallback']}, errors {summary.outcomes['error']}.",
        f"Votes: {summary.up} 👍, {summary.down} 👎. Latency p50 {summary.latency_p50_ms:.0f} ms, "
        f"p95 {summary.latency_p95_ms:.0f} ms.",
    ]
    if summary.top_unanswered:
        lines.append("Most asked, not in the article:")
        lines += [f"{g.count}× {g.examples[0]}" for g in summary.top_unanswered]
    return "\n".join(lines)
