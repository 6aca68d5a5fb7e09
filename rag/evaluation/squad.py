"""SQuAD-style evaluation: articles nobody here wrote, each indexed alone, questions with gold answer spans.

Reads a sample directory as in ``../shared/eval/squad2`` — ``corpus/<article>.md`` and ``questions.jsonl``
(``id``, ``article``, ``question``, ``answerable``, ``answers``) — and scores as its README says:
an answerable question is correct when the answer contains a gold answer after SQuAD normalisation and cites
a passage; an unanswerable one when the answer is the fixed refusal with no citation.
"""

from __future__ import annotations

import json
import re
import shutil
import string
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..embeddings import SentenceEmbedder
from ..engine import Engine, models_for
from ..reader import AnswerabilityReader
from ..settings import Settings
from .questions import share


@dataclass(frozen=True)
class SquadQuestion:
    qid: str
    article: str
    question: str
    answerable: bool
    answers: list[str]


@dataclass(frozen=True)
class SquadResult:
    qid: str
    article: str
    question: str
    answerable: bool
    correct: bool
    answer: str
    top1_has_answer: bool  # the reader's best sentence holds a gold answer (answerable questions only)


@dataclass(frozen=True)
class SquadReport:
    answer_accuracy: float
    refusal_accuracy: float
    overall: float
    top1_accuracy: float  # the best sentence, never refusing: what the ranking alone gets right
    questions: int
    articles: dict[str, float]  # overall accuracy per article
    results: list[SquadResult] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("results")
        return data


_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)


def normalise(text: str) -> str:
    """SQuAD's answer normalisation: lower case, no punctuation, no articles, single spaces."""
    return " ".join(_ARTICLES.sub(" ", text.lower().translate(_PUNCTUATION)).split())


def contains_answer(text: str, answers: list[str]) -> bool:
    normalised = normalise(text)
    return any(gold and gold in normalised for gold in map(normalise, answers))


def load_sample(directory: Path) -> tuple[dict[str, Path], list[SquadQuestion]]:
    """The articles (slug → file) and the questions of a SQuAD-style sample directory."""
    articles = {p.stem: p for p in sorted((directory / "corpus").glob("*.md"))}
    questions = []
    for line in (directory / "questions.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            questions.append(
                SquadQuestion(str(row["id"]), row["article"], row["question"], bool(row["answerable"]),
                              list(row.get("answers", [])))
            )
    return articles, questions


@contextmanager
def article_engine(
    settings: Settings, article: Path, embedder: SentenceEmbedder, reader: AnswerabilityReader
) -> Iterator[Engine]:
    """An offline engine over one article alone, with its own corpus and data directories (removed after)."""
    with tempfile.TemporaryDirectory(prefix="squad-eval-") as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        shutil.copy(article, corpus / article.name)
        alone = settings.model_copy(
            update={"corpus_dir": corpus, "data_dir": Path(tmp) / "data", "chroma_host": None,
                    "multilingual_search": False, "openai_api_key": None, "openai_base_url": None}
        )
        engine = Engine.open(alone, embedder=embedder, reader=reader)
        try:
            yield engine
        finally:
            engine.close()


def evaluate_squad(
    settings: Settings,
    directory: Path,
    embedder: SentenceEmbedder | None = None,
    reader: AnswerabilityReader | None = None,
) -> SquadReport:
    """Index each article alone, ask each of its questions, and score as the sample's README says.

    Every article's engine shares one embedder and one reader: pass loaded ones to share them with the caller too.
    """
    articles, questions = load_sample(directory)
    embedder, reader = models_for(settings, embedder, reader)
    results: list[SquadResult] = []
    for slug, path in articles.items():
        asked = [q for q in questions if q.article == slug]
        if not asked:
            continue
        with article_engine(settings, path, embedder, reader) as engine:
            for q in asked:
                answer = engine.answer(q.question)
                if q.answerable:
                    correct = answer.grounded and contains_answer(answer.text, q.answers)
                else:
                    correct = not answer.grounded and not answer.citations
                best = answer.evidence[0].passage.text if answer.evidence else ""
                results.append(SquadResult(q.qid, slug, q.question, q.answerable, correct, answer.text,
                                           q.answerable and contains_answer(best, q.answers)))
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    per_article = {
        slug: share(sum(r.correct for r in results if r.article == slug), sum(r.article == slug for r in results))
        for slug in articles
        if any(r.article == slug for r in results)
    }
    return SquadReport(
        answer_accuracy=share(sum(r.correct for r in answerable), len(answerable)),
        refusal_accuracy=share(sum(r.correct for r in unanswerable), len(unanswerable)),
        overall=share(sum(r.correct for r in results), len(results)),
        top1_accuracy=share(sum(r.top1_has_answer for r in answerable), len(answerable)),
        questions=len(results),
        articles=per_article,
        results=results,
    )
