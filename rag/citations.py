"""The one citation checker, for every answerer.

A draft is a list of sentences, each naming the passage ids it relies on. The
checker keeps a sentence only when its ids were retrieved for this question and
the cited passages support it: every number it states appears in them, and its
words overlap theirs or its meaning is close to theirs. Citations are renumbered
in order of first use, so ``[n]`` always names a passage that exists.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .embeddings import MiniLMEmbedding
from .models import Citation, Document, Evidence, Passage
from .text import numbers, terms

log = logging.getLogger(__name__)

LEXICAL_SUPPORT = 0.5  # share of a sentence's content terms found in what it cites
SEMANTIC_SUPPORT = 0.6  # cosine of sentence and cited passage, for paraphrases
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


class CitationChecker:
    """Strips unknown ids and unsupported sentences from a draft."""

    def __init__(self, embedder: MiniLMEmbedding, documents: dict[str, Document]) -> None:
        self._embedder = embedder
        self._documents = documents

    def check(self, drafts: list[DraftSentence], evidence: list[Evidence]) -> CheckedAnswer:
        """Keep what the retrieved passages support; an empty text means nothing survived."""
        retrieved = {e.passage.passage_id: e.passage for e in evidence}
        kept: list[tuple[str, list[Passage]]] = []
        dropped_sentences = dropped_ids = 0
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
            if not known or not self._supported(text, check, known, lambda row=row: draft_vectors()[row]):
                dropped_sentences += 1
                continue
            kept.append((text, known))
        if dropped_sentences or dropped_ids:
            log.info("citations.dropped sentences=%d ids=%d", dropped_sentences, dropped_ids)
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

    def _supported(self, shown: str, check: str, cited: list[Passage], vector: Callable[[], np.ndarray]) -> bool:
        """Whether ``cited`` supports the sentence: ``shown`` is what readers see, ``check`` its English rendering."""
        source = " ".join(p.text for p in cited)
        stated = numbers(source)
        if not numbers(shown) <= stated or (check != shown and not numbers(check) <= stated):
            return False  # a number the cited passages never state is invented
        sentence_terms = set(terms(check))
        if sentence_terms and len(sentence_terms & set(terms(source))) / len(sentence_terms) >= LEXICAL_SUPPORT:
            return True
        cited_vectors = self._embedder.embed([p.text for p in cited])
        return float((cited_vectors @ vector()).max()) >= SEMANTIC_SUPPORT


def _with_end_punctuation(text: str) -> str:
    return text if text[-1:] in ".!?…\"'”»)" else f"{text}."
