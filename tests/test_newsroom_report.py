"""The newsroom's report: paraphrases grouped together by the engine's model, per-article figures, voted-down
answers with the sentences they cited, and the short summary /stats shows."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from newsroom.groups import group_questions
from newsroom.log import LoggedQuestion, QuestionLog
from newsroom.report import NO_ARTICLE, Corpus, build_report, render_summary, summarize
from rag.embeddings import MiniLMEmbedding
from tests.conftest import CORPUS

# Two questions an article about a football final would not answer, each asked in several wordings.
TICKETS = ["How much did tickets for the final cost?", "What was the price of a ticket to the final?",
           "how expensive were the final's tickets", "Ticket prices for the final?"]
WEATHER = ["What was the weather like during the match?", "How was the weather during the game?",
           "what weather did the match have"]


def test_paraphrases_of_one_question_share_a_group_and_two_questions_do_not(embedder: MiniLMEmbedding) -> None:
    questions = TICKETS + WEATHER + [TICKETS[0]]  # the first wording asked twice
    groups = group_questions(questions, embedder.embed(questions))
    assert [g.count for g in groups] == [5, 3]
    assert set(groups[0].examples) <= set(TICKETS) and set(groups[1].examples) <= set(WEATHER)
    assert groups[0].examples[0] == TICKETS[0]  # the most asked wording leads


def test_grouping_counts_every_asking_once() -> None:
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(600, 32)).astype(np.float32)
    groups = group_questions([f"q{n % 450}" for n in range(600)], vectors, threshold=0.99)
    assert sum(g.count for g in groups) == 600 and len(groups) == 450


@pytest.fixture
def corpus() -> Corpus:
    return Corpus.load(CORPUS)


def logged(answer_id: str, question: str, outcome: str, article: str | None, passage_ids: tuple[str, ...] = (),
           latency_ms: float = 50.0, embedding: np.ndarray | None = None, version: str | None = None,
           asked_at: float | None = None) -> LoggedQuestion:
    return LoggedQuestion(answer_id, question, outcome, "offline", latency_ms, "group", article,  # type: ignore[arg-type]
                          version, passage_ids, time.time() if asked_at is None else asked_at, embedding)


def test_the_report_shows_each_article_its_gaps_and_its_voted_down_answers(
    tmp_path: Path, corpus: Corpus, embedder: MiniLMEmbedding
) -> None:
    [document] = corpus.documents.values()
    cited = next(p for p in corpus.passages.values() if p.doc_id == document.doc_id)
    log = QuestionLog.open(tmp_path / "questions.sqlite3")
    for n, question in enumerate(TICKETS + WEATHER):  # refused; half logged with the engine's vector, half without
        vector = embedder.embed([question])[0] if n % 2 else None
        log.record(logged(f"r{n}", question, "refused", document.doc_id, latency_ms=10.0 * (n + 1), embedding=vector))
    log.record(logged("a1", "An answered question", "answered", document.doc_id, (cited.passage_id,),
                      version=document.version))
    log.record(logged("a2", "Another answered question", "answered", document.doc_id, (cited.passage_id,),
                      version="an-older-version"))
    log.record(logged("e1", "A question that failed", "error", None))
    for voter, value in (("1", -1), ("2", -1), ("3", 1)):
        log.vote("a1", voter, value)
    log.vote("a2", "1", 1)
    report = build_report(log.entries(), corpus, embedder, since=0.0)

    assert report.asked == 10 and report.outcomes == {"answered": 2, "refused": 7, "fallback": 0, "error": 1}
    article, nothing = report.articles
    assert (article.article, article.title, article.asked) == (document.doc_id, document.title, 9)
    assert article.refused_share == pytest.approx(7 / 9) and article.answered_share == pytest.approx(2 / 9)
    assert (article.up, article.down) == (2, 2)
    assert [g.count for g in article.unanswered] == [4, 3]
    assert set(article.unanswered[0].examples) <= set(TICKETS)
    [down] = article.voted_down
    assert down.question == "An answered question" and (down.up, down.down) == (1, 2)
    assert [(c.passage_id, c.text) for c in down.cited] == [(cited.passage_id, cited.text)]
    assert not down.article_changed
    assert nothing.article == NO_ARTICLE and nothing.asked == 1
    assert [d.asked for d in report.days] == [10] and report.days[0].refused == 7
    assert report.to_json()["articles"][0]["unanswered"][0]["count"] == 4
    log.close()


def test_the_summary_is_a_few_lines_with_the_largest_gap_first(tmp_path: Path, embedder: MiniLMEmbedding) -> None:
    log = QuestionLog.open(tmp_path / "questions.sqlite3")
    now = time.time()
    log.record(logged("old", "Asked before the period", "refused", "a", asked_at=now - 10 * 86400))
    for n, question in enumerate(WEATHER + TICKETS[:2]):
        log.record(logged(f"r{n}", question, "refused", "a", embedding=embedder.embed([question])[0]))
    log.record(logged("a1", "Answered", "answered", "a", ("a:1",), latency_ms=30.0))
    log.vote("a1", "7", 1)
    summary = summarize(log, since=now - 86400)
    assert summary.asked == 6 and summary.outcomes["refused"] == 5 and (summary.up, summary.down) == (1, 0)
    assert [g.count for g in summary.top_unanswered] == [3, 2]
    text = render_summary(summary)
    assert "6 questions" in text and f"3× {summary.top_unanswered[0].examples[0]}" in text
    assert "Asked before the period" not in text
    log.close()
    assert render_summary(summarize(QuestionLog.open(tmp_path / "off", retention_days=0), 0.0)).startswith("No ")
