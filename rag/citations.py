"""The one citation checker, for every answerer.

A draft is a list of sentences, each naming the passage ids it relies on. The
checker keeps a sentence only when its ids were retrieved for this question and
the cited passages support it: every number, name and negation it states appears
in them (rag.claims), and its words overlap theirs or its meaning is close to
theirs. A sentence shown in the reader's language is checked as shown too, not
only through the English rendering the model gives with it: its numbers, Cyrillic
names and negations against the source, and, when the multilingual model is
loaded, its meaning against that rendering. Citations are renumbered in order of
first use, so ``[n]`` always names a passage that exists.
"""

from __future__ import annotations

import functools
import logging
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from .claims import claim_problem
from .embeddings import SentenceEmbedder
from .errors import MultilingualUnavailableError
from .models import Citation, Document, Evidence, Passage
from .names import article_names
from .text import terms

log = logging.getLogger(__name__)

LEXICAL_SUPPORT = 0.5  # share of a sentence's content terms found in what it cites
SEMANTIC_SUPPORT = 0.6  # cosine of sentence and cited passage, for paraphrases
# multilingual-e5 of a sentence and its faithful English rendering: 0.85-0.92 on the pairs measured
# (tests/test_citations.py); a sentence on the same topic that says something else: 0.74-0.83.
TRANSLATION_SIMILARITY = 0.8
_MARKER = re.compile(r"\s*\[(?:\d+|[\w:.-]+)\]")


@dataclass(frozen=True)
class DraftSentence:
    """One sentence an answerer wants to say, with the passage ids it says it relies on."""

    text: str
    passage_ids: list[str] = field(default_factory=list)
    # The same claim in the article's language, when ``text`` is in the reader's: what gets checked.
    check_text: str | None = None


@dataclass(frozen=True)
class CheckedAnswer:
    """The surviving sentences joined with ``[n]`` markers, and their citations."""

    text: str
    citations: list[Citation]
    dropped_sentences: int
    dropped_ids: int


class SentenceMeaning(Protocol):
    """A model that compares two sentences in any languages (rag.multilingual.E5Embedding)."""

    def similarity(self, first: str, second: str) -> float: ...


class CitationChecker:
    """Strips unknown ids and unsupported sentences from a draft."""

    def __init__(
        self,
        embedder: SentenceEmbedder,
        documents: dict[str, Document],
        names: frozenset[str] = frozenset(),
        meaning: SentenceMeaning | None = None,
    ) -> None:
        self._embedder = embedder
        self._documents = documents
        self._names = names  # every name the articles write (rag.claims.known_names)
        self._meaning = meaning

    def check(self, drafts: list[DraftSentence], evidence: list[Evidence]) -> CheckedAnswer:
        """Keep what the retrieved passages support; an empty text means nothing survived."""
        retrieved = {e.passage.passage_id: e.passage for e in evidence}
        kept: list[tuple[str, list[Passage]]] = []
        dropped_ids = 0
        dropped: Counter[str] = Counter()
        cleaned = [(_MARKER.sub("", d.text).strip(), _MARKER.sub("", d.check_text or d.text).strip(), d.passage_ids) for d in drafts]
        cleaned = [(text, check, ids) for text, check, ids in cleaned if text and check]

        @functools.cache
        def draft_vectors() -> np.ndarray:
            # Only a sentence that fails the lexical check needs its vector, and a quoted
            # sentence never does: embedding is most of the check's cost, so it waits until
            # asked. The whole draft is still embedded as one batch, as before: the vectors
            # of a quantized model depend slightly on what they are batched with.
            return self._embedder.embed([check for _, check, _ in cleaned])

        for row, (text, check, ids) in enumerate(cleaned):
            known = [retrieved[i] for i in dict.fromkeys(ids) if i in retrieved]
            dropped_ids += len(set(ids)) - len(known)
            problem = "no_known_id" if not known else self._problem(text, check, known, lambda row=row: draft_vectors()[row])
            if problem:
                dropped[problem] += 1
                continue
            kept.append((text, known))
        dropped_sentences = sum(dropped.values())
        if dropped_sentences or dropped_ids:
            reasons = ",".join(f"{reason}:{count}" for reason, count in sorted(dropped.items())) or "none"
            log.info("citations.dropped sentences=%d ids=%d reasons=%s", dropped_sentences, dropped_ids, reasons)
        numbering: dict[str, int] = {}
        citations: list[Citation] = []
        parts: list[str] = []
        for text, passages in kept:
            markers = []
            for passage in passages:
                if passage.passage_id not in numbering:
                    numbering[passage.passage_id] = len(numbering) + 1
                    document = self._documents.get(passage.doc_id)
                    citations.append(
                        Citation(
                            n=numbering[passage.passage_id],
                            passage_id=passage.passage_id,
                            quote=passage.text,
                            document_title=document.title if document else "",
                        )
                    )
                markers.append(f"[{numbering[passage.passage_id]}]")
            parts.append(f"{_with_end_punctuation(text)} {''.join(markers)}")
        return CheckedAnswer(
            text=" ".join(parts), citations=citations, dropped_sentences=dropped_sentences, dropped_ids=dropped_ids
        )

    def _problem(self, shown: str, check: str, cited: list[Passage], vector: Callable[[], np.ndarray]) -> str | None:
        """Why ``cited`` does not support the sentence, or None: ``shown`` is what readers see, ``check``
        its English rendering (the same text when the sentence is shown in English)."""
        source = " ".join(p.text for p in cited)
        names = article_names(cited)
        problem = claim_problem(check, source, names, self._names, in_english=True)
        if problem is None and check != shown:
            problem = claim_problem(shown, source, names, self._names, in_english=False)
            problem = problem or self._translation_problem(shown, check)
        if problem:
            return problem
        sentence_terms = set(terms(check))
        if sentence_terms and len(sentence_terms & set(terms(source))) / len(sentence_terms) >= LEXICAL_SUPPORT:
            return None
        cited_vectors = self._embedder.embed([p.text for p in cited])
        return None if float((cited_vectors @ vector()).max()) >= SEMANTIC_SUPPORT else "meaning"

    def _translation_problem(self, shown: str, english: str) -> str | None:
        """"translation" when the shown sentence and its English rendering do not say the same thing."""
        if self._meaning is None:
            return None
        try:
            similarity = self._meaning.similarity(shown, english)
        except MultilingualUnavailableError:
            return None  # numbers, names and negations were still checked on the shown sentence
        return None if similarity >= TRANSLATION_SIMILARITY else "translation"


def _with_end_punctuation(text: str) -> str:
    return text if text[-1:] in ".!?…\"'”»)" else f"{text}."
