"""Domain objects: document → passage → scored evidence → answer with citations."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any, Literal

import numpy as np

AnswerMode = Literal["offline", "llm", "offline-fallback"]


@dataclass(frozen=True)
class Document:
    """One article from the corpus."""

    doc_id: str  # slug of the file name, stable across runs
    title: str
    date: str
    source: str
    text: str
    examples: tuple[str, ...] = ()  # example questions from the front matter, for /start

    @cached_property
    def version(self) -> str:
        """A short hash of the text: tells two versions of an article apart in the question log."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:16]


def recency(document: Document) -> tuple[bool, str]:
    """Sort key by front-matter date (ISO dates sort as text), undated articles counting as the oldest."""
    return (bool(document.date), document.date)


def newest(documents: list[Document]) -> Document:
    """The most recent article: the one /start takes its example questions from."""
    return max(documents, key=recency)


@dataclass(frozen=True)
class Passage:
    """One sentence of a document, the unit a citation points at."""

    passage_id: str  # "<doc_id>:<ordinal>", e.g. "prisoner-exchange:7"
    doc_id: str
    ordinal: int  # position among the document's unique sentences, from 1
    text: str
    paragraph: int  # which paragraph of the source it came from
    content_hash: str


@dataclass(frozen=True)
class Evidence:
    """A passage retrieved for a question, with the scores that ranked it."""

    passage: Passage
    score: float  # fused reciprocal-rank score, higher is better
    dense_similarity: float  # cosine similarity of question and passage, -1..1
    keyword_score: float  # BM25 score, 0 when no query term matched
    relevance: float = 0.0  # how likely the passage answers: the reader's probability (rag.reader)


@dataclass(frozen=True)
class Citation:
    """Marker ``[n]`` in an answer, pointing at one passage that exists."""

    n: int
    passage_id: str
    quote: str
    document_title: str


@dataclass(frozen=True)
class Answer:
    """What every caller gets back from ``Engine.answer``."""

    question: str
    text: str  # with [n] markers matching ``citations``
    citations: list[Citation]
    grounded: bool  # False: the article does not say, and nothing is cited
    mode: AnswerMode
    latency_ms: float
    note: str | None = None  # e.g. why the offline answerer stood in for the LLM
    read_as: str | None = None  # a follow-up as the engine read it, with its context; None when it stood alone
    evidence: list[Evidence] = field(default_factory=list, repr=False, compare=False)
    # The question's MiniLM vector as retrieval embedded it (the question log groups refused questions by it);
    # None when it was searched across languages, with another model.
    embedding: np.ndarray | None = field(default=None, repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        """The CLI's ``ask --json`` object."""
        return {
            "question": self.question,
            "answer": self.text,
            "citations": [{"n": c.n, "passage_id": c.passage_id, "quote": c.quote} for c in self.citations],
            "grounded": self.grounded,
            "mode": self.mode,
            "latency_ms": round(self.latency_ms, 2),
        }


@dataclass(frozen=True)
class EngineInfo:
    """What the engine serves, for /about, /start and logs."""

    mode: Literal["offline", "llm"]
    llm_model: str | None
    embedding_model: str
    index_location: str
    passages: int
    documents: list[Document]
    multilingual_model: str | None = None  # offline search of questions in other languages (rag.multilingual)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for doc in data["documents"]:
            doc.pop("text", None)
        return data
