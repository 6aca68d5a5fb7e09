"""The one citation checker, for every answerer.

A draft is a list of sentences, each naming the passage ids it relies on. The
checker keeps a sentence only when its ids were retrieved for this question and
the cited passages support it: every number, name and negation it states appears
in them (rag.claims), and its words overlap theirs or its meaning is close to
theirs. A sentence shown in another language is checked as shown, against the
English sentences it cites: its numbers (digits or words), names (any script)
and negations, then its meaning, by the multilingual model (rag.meaning). Any English the model gives with it decides nothing; without
the multilingual model such a sentence cannot be checked and is dropped.
Citations are renumbered in order of first use, so ``[n]`` always names a passage
that exists.
"""

from __future__ import annotations

import functools
import logging
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .claims import claim_problem
from .embeddings import SentenceEmbedder
from .errors import MultilingualUnavailableError
from .meaning import MeaningCheck
from .models import Citation, Document, Evidence, Passage
from .names import article_names
from .text import terms

log = logging.getLogger(__name__)

LEXICAL_SUPPORT = 0.5  # share of a sentence's content terms found in what it cites
SEMANTIC_SUPPORT = 0.6  # cosine of sentence and cited passage, for paraphrases
_MARKER = re.compile(r"\s*\[(?:\d+|[\w:.-]+)\]")


@dataclass(frozen=True)
class DraftSentence:
    """One sentence an answerer wants to say, with the passage ids it says it relies on."""

    text: str
    passage_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CheckedAnswer:
    """The surviving sentences joined with ``[n]`` markers, and their citations."""

    text: str
    citations: list[Citation]
    dropped_sentences: int
    dropped_ids: int


class CitationChecker:
    """Strips unknown ids and unsupported sentences from a draft."""

    def __init__(
        self,
        embedder: SentenceEmbedder,
        documents: dict[str, Document],
        in_article_language: Callable[[str], bool],
        names: frozenset[str] = frozenset(),
        meaning: MeaningCheck | None = None,
    ) -> None:
        """``meaning``: the multilingual comparison, without which a sentence in another language is dropped;
        ``in_article_language``: whether a sentence is in the articles' language (rag.language.LanguageGuard)."""
        self._embedder = embedder
        self._documents = documents
        self._names = names  # every name the articles write (rag.claims.known_names)
        self._meaning = meaning
        self._in_article_language = in_article_language

    def check(self, drafts: list[DraftSentence], evidence: list[Evidence]) -> CheckedAnswer:
        """Keep what the retrieved passages support; an empty text means nothing survived."""
        retrieved = {e.passage.passage_id: e.passage for e in evidence}
        kept: list[tuple[str, list[Passage]]] = []
        dropped_ids = 0
        dropped: Counter[str] = Counter()
        stripped = [(_MARKER.sub("", d.text).strip(), d.passage_ids) for d in drafts]
        # Which language a sentence is in is read from the sentence itself, never from the answerer; a quoted
        # passage is in the article's.
        quotes = {p.text for p in retrieved.values()}
        cleaned = [(text, ids, text in quotes or self._in_article_language(text)) for text, ids in stripped if text]
        english_rows = {row: n for n, row in enumerate(r for r, (_, _, english) in enumerate(cleaned) if english)}

        @functools.cache
        def draft_vectors() -> np.ndarray:
            # Only an English sentence that fails the lexical check needs its vector, and a quoted
            # sentence never does: embedding is most of the check's cost, so it waits until
            # asked. The English sentences are still embedded as one batch, as before: the vectors
            # of a quantized model depend slightly on what they are batched with.
            return self._embedder.embed([text for text, _, english in cleaned if english])

        for row, (text, ids, in_english) in enumerate(cleaned):
            known = [retrieved[i] for i in dict.fromkeys(ids) if i in retrieved]
            dropped_ids += len(set(ids)) - len(known)
            if not known:
                problem: str | None = "no_known_id"
            elif in_english:
                problem = self._problem(text, known, lambda row=row: draft_vectors()[english_rows[row]])
            else:
                problem = self._crosslingual_problem(text, known)
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

    def _problem(self, sentence: str, cited: list[Passage], vector: Callable[[], np.ndarray]) -> str | None:
        """Why ``cited`` does not support the English ``sentence``, or None."""
        source = " ".join(p.text for p in cited)
        problem = claim_problem(sentence, source, article_names(cited), self._names, in_english=True)
        if problem:
            return problem
        sentence_terms = set(terms(sentence))
        if sentence_terms and len(sentence_terms & set(terms(source))) / len(sentence_terms) >= LEXICAL_SUPPORT:
            return None
        cited_vectors = self._embedder.embed([p.text for p in cited])
        return None if float((cited_vectors @ vector()).max()) >= SEMANTIC_SUPPORT else "meaning"

    def _crosslingual_problem(self, shown: str, cited: list[Passage]) -> str | None:
        """Why ``cited`` does not support ``shown``, a sentence in another language, or None: "unchecked" when
        the multilingual model is missing, as an English sentence nothing could compare would not be kept."""
        source = " ".join(p.text for p in cited)
        problem = claim_problem(shown, source, article_names(cited), self._names, in_english=False)
        if problem or self._meaning is None:
            return problem or "unchecked"
        try:
            return self._meaning.problem(shown, [p.text for p in cited])
        except MultilingualUnavailableError as exc:
            log.warning("citations.unchecked reason=%s", exc)
            return "unchecked"


def _with_end_punctuation(text: str) -> str:
    return text if text[-1:] in ".!?…\"'”»)" else f"{text}."
