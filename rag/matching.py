"""Soft matching of question words against passage words.

A question says "swapped" or "POWs" where the article says "exchanged" or
"prisoners": exact stems miss those, so each question word is also compared
with the passage's words through the embedding model (words are embedded once
and cached). This is what lets the offline answerer tell "the article says" from
"the article only mentions the same names".
"""

from __future__ import annotations

import difflib
import hashlib
import logging
import math
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from cachetools import LRUCache

from .embeddings import MODEL_NAME, MiniLMEmbedding
from .models import Passage
from .storage import load_array, save_array
from .text import CHAT_SHORTHAND, STOPWORDS, stem, synonym_stems, words

log = logging.getLogger(__name__)

OTHER_WORDS_KEPT = 20_000  # vectors of question words the corpus lacks: about 30 MB at most
SOFT_MATCH_FLOOR = 0.55  # word cosine below this is not a paraphrase, just the same topic
TYPO_CUTOFF = 0.75  # difflib ratio: one wrong letter in a four-letter word still matches
_IDIOMS = re.compile(r"\b(take|takes|took|taken|taking) place\b", re.I)  # "take place" means "happen"
_PROPER = re.compile(r"(?<!^)(?<![.!?]\s)\b[A-Z][a-zA-Z'\u2019-]+")
_SHORTHAND = re.compile(r"\b(" + "|".join(map(re.escape, CHAT_SHORTHAND)) + r")\b", re.I)
NAME_WEIGHT = 2.0  # a passage about another person or place does not answer
MIN_SPECIFICITY = 0.25  # a word in every passage still says what the question is about
SYNONYM_MATCH = 0.8  # a listed news synonym (text.NEWS_SYNONYMS): as good as a close paraphrase


@dataclass(frozen=True)
class QuestionTerm:
    """A content word of the question, with how much it matters for coverage."""

    word: str
    stem: str
    weight: float  # how much it matters: names and words rare in the corpus weigh more
    is_name: bool = False


def same_name(a: str, b: str) -> bool:
    """"Italian" and "Italy", "Ukrainian" and "Ukraine": one name when they share most of a long prefix."""
    if a[:4] != b[:4]:  # most pairs differ at once; this is the hot path of ranking
        return False
    shared = len(os.path.commonprefix([a, b]))
    return shared >= max(4, round(0.6 * min(len(a), len(b))))


class TermMatcher:
    """Word vectors of the corpus vocabulary, cached on disk, and coverage of a question by a passage."""

    def __init__(self, embedder: MiniLMEmbedding, passages: list[Passage], cache_dir: Path | None) -> None:
        self._embedder = embedder
        self._passage_words: dict[str, list[str]] = {}
        vocabulary: set[str] = set()
        for p in passages:
            content = sorted({w for w in words(p.text) if w not in STOPWORDS and len(w) > 1})
            self._passage_words[p.passage_id] = content
            vocabulary.update(content)
        self._vocab = sorted(vocabulary)
        self._row = {w: i for i, w in enumerate(self._vocab)}
        self._vectors = self._load_or_embed(cache_dir)
        self._other_words: LRUCache[str, np.ndarray] = LRUCache(maxsize=OTHER_WORDS_KEPT)
        self._lock = threading.Lock()  # answers run on several threads
        self._passage_stems = {pid: {stem(w) for w in ws} for pid, ws in self._passage_words.items()}
        self._document_frequency: dict[str, int] = {}
        for stems in self._passage_stems.values():
            for root in stems:
                self._document_frequency[root] = self._document_frequency.get(root, 0) + 1
        self.common_words = self._common(passages)
        self._dictionary = embedder.known_words() | vocabulary | STOPWORDS
        self._targets = frozenset(vocabulary | STOPWORDS)
        self._spelling_targets = sorted(self._targets)
        self._corpus_stems = {stem(w) for w in vocabulary}
        self._synonyms = synonym_stems()

    @staticmethod
    def _common(passages: list[Passage]) -> frozenset[str]:
        """Words in more than a fifth of the passages ("Ukraine" in an article on Ukraine): no answer by themselves."""
        if len(passages) < 10:
            return frozenset()
        counts: dict[str, int] = {}
        for p in passages:
            for w in set(words(p.text)):
                counts[w] = counts.get(w, 0) + 1
        return frozenset(w for w, n in counts.items() if n > len(passages) / 5)

    def synonyms(self, root: str) -> frozenset[str]:
        """Stems of the listed news synonyms of a stem (text.NEWS_SYNONYMS): "swap" → "exchang", "trade"."""
        return self._synonyms.get(root, frozenset())

    @property
    def known_words(self) -> frozenset[str]:
        """Words of the English tokenizer, the corpus and the stopword list, lower-cased."""
        return frozenset(self._dictionary)

    def specificity(self, root: str) -> float:
        """IDF scaled to 0..1: a stem in one passage says much, one in every passage little.

        A stem the corpus never uses scores 1: if no passage speaks to it, the
        question is probably about something the article does not cover.
        """
        total = len(self._passage_stems)
        if total < 2:
            return 1.0
        frequency = self._document_frequency.get(root, 0)
        return max(MIN_SPECIFICITY, math.log((total + 1) / (frequency + 1)) / math.log(total + 1))

    def question_terms(self, question: str) -> list[QuestionTerm]:
        """Content words of a question, deduplicated by stem, weighted by name-ness and specificity."""
        question = _IDIOMS.sub(" ", question)
        shouted = sum(w.isupper() for w in question.split()) > len(question.split()) / 2
        found_proper = [] if shouted else _PROPER.findall(question.strip())  # ALL CAPS says nothing of names
        proper = {w.casefold().removesuffix("'s").removesuffix("\u2019s") for w in found_proper}
        seen: set[str] = set()
        found: list[QuestionTerm] = []
        for word in words(question):
            if word in STOPWORDS or len(word) < 2:
                continue
            root = stem(word)
            if root in seen:
                continue
            seen.add(root)
            name = word in proper
            weight = (NAME_WEIGHT if name else 1.0) * self.specificity(root)
            found.append(QuestionTerm(word=word, stem=root, weight=weight, is_name=name))
        return found

    def correct_spelling(self, question: str) -> str:
        """Spell out chat shorthand, then replace words that are neither English nor in the corpus
        by the closest corpus word, if close.

        "wher did teh prisoner swop take place" → "where did the prisoner swap take place";
        "how many POWs" → "how many prisoners".
        """
        question = _SHORTHAND.sub(lambda m: CHAT_SHORTHAND[m.group(0).casefold()], question)

        def fix(match: re.Match[str]) -> str:
            word = match.group(0)
            lower = word.casefold()
            if len(lower) < 3 or not lower.isalpha() or lower in self._dictionary or stem(lower) in self._corpus_stems:
                return word  # "mediate" is no typo of "media" when the article says "mediating"
            # Two swapped letters ("teh") are the commonest typo, and too short for a similarity cutoff.
            swapped = (lower[:i] + lower[i + 1] + lower[i] + lower[i + 2 :] for i in range(len(lower) - 1))
            fixed = next((w for w in swapped if w in self._targets), None)
            if fixed:
                return fixed
            close = difflib.get_close_matches(lower, self._spelling_targets, n=1, cutoff=TYPO_CUTOFF)
            return close[0] if close else word

        return re.sub(r"[^\W\d_]+", fix, question)

    def _load_or_embed(self, cache_dir: Path | None) -> np.ndarray:
        digest = hashlib.sha256(("\n".join([MODEL_NAME, *self._vocab])).encode()).hexdigest()[:16]
        path = cache_dir / f"word-vectors-{digest}.npy" if cache_dir else None
        cached = load_array(path, len(self._vocab)) if path else None
        if cached is not None:
            return cached
        vectors = self._embedder.embed(self._vocab)
        if path:
            save_array(path, vectors)
        return vectors

    def word_vectors(self, terms: list[QuestionTerm]) -> np.ndarray:
        """Vectors of the question's words: the corpus's own, else remembered from earlier questions.

        Embedding the words a question adds was a fifth of an answer's time; people
        reuse their words, so the vectors are kept (bounded, least recently used out).
        """
        with self._lock:
            remembered = {t.word: self._other_words[t.word] for t in terms if t.word in self._other_words}
        unknown = list(dict.fromkeys(t.word for t in terms if t.word not in self._row and t.word not in remembered))
        # One word per call: with dynamic int8 the vector of a text shifts slightly with what it is
        # batched with, and a remembered vector must not depend on the question that brought it.
        fresh = {word: self._embedder.embed([word])[0] for word in unknown}
        if fresh:
            with self._lock:
                self._other_words.update(fresh)
        known = remembered | fresh
        rows = [self._vectors[self._row[t.word]] if t.word in self._row else known[t.word] for t in terms]
        return np.vstack(rows) if rows else np.zeros((0, self._vectors.shape[1]), dtype=np.float32)

    def similarity(self, vector: np.ndarray, word: str) -> float:
        """Cosine of a question word's vector with a corpus word, 0 below the paraphrase floor or outside the corpus."""
        row = self._row.get(word)
        similarity = float(self._vectors[row] @ vector) if row is not None else 0.0
        return similarity if similarity >= SOFT_MATCH_FLOOR else 0.0

    def term_matches(self, terms: list[QuestionTerm], vectors: np.ndarray, passage_id: str) -> list[float]:
        """For each question term, 1.0 for the same stem, else its best word similarity (0 below the floor)."""
        stems = self._passage_stems.get(passage_id, set())
        content = self._passage_words.get(passage_id, [])
        if content:
            passage_vectors = self._vectors[[self._row[w] for w in content]]
            best = (vectors @ passage_vectors.T).max(axis=1) if len(vectors) else np.zeros(0)
        else:
            best = np.zeros(len(terms))
        matches = []
        for term, similarity in zip(terms, best):
            if term.stem in stems:
                matches.append(1.0)
            elif self.synonyms(term.stem) & stems:
                matches.append(max(SYNONYM_MATCH, float(similarity)))
            elif term.is_name:
                # names match only by name ("France" is not "Italy", however close), in any of its forms
                matches.append(1.0 if any(same_name(term.word, w) for w in content) else 0.0)
            else:
                matches.append(float(similarity) if similarity >= SOFT_MATCH_FLOOR else 0.0)
        return matches


def coverage(terms: list[QuestionTerm], matches: list[float], optional: frozenset[str] = frozenset()) -> float:
    """Weighted share of the question's content the passage speaks to (0..1).

    ``optional`` stems count only when the passage has them: words that frame
    the question ("what city") rather than say what it is about.
    """
    counted = [(t, m) for t, m in zip(terms, matches) if m > 0 or t.stem not in optional]
    total = sum(t.weight for t, _ in counted)
    if not total:
        return 0.0
    return sum(t.weight * m for t, m in counted) / total
