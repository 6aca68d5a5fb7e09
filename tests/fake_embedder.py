"""A stand-in for the embedding model, for tests where the model is not what is tested.

MiniLM costs a model load and a forward pass per text; on a shared two-core machine that is most of
opening an engine. ``HashedWordsEmbedding`` gives each text a signed, hashed bag of its content-word stems,
normalised: instant and deterministic, and texts sharing words are close, so retrieval still finds the
sentence that repeats a question's words. It goes through the real Chroma collection and every real
engine path (index sync, dense search, citation check); only the numbers differ from the model's.
Its collection is named after it, so its vectors never mix with MiniLM's. Tests about answer quality,
retrieval, the reader or the model itself use the real one (the ``embedder`` fixture).
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

import numpy as np
from chromadb.utils.embedding_functions import register_embedding_function
from tokenizers import Tokenizer

from rag.embeddings import SentenceEmbedder, _tokenizer_path, load_in_background
from rag.text import terms


@register_embedding_function  # Chroma rebuilds a collection's embedding function by this name when it reopens it
class HashedWordsEmbedding(SentenceEmbedder):
    """The embedding interface the engine takes (``embed``, ``load_in_background``, ``known_words``)."""

    model_name = "hashed-words-test"
    dimension = 256

    def __init__(self) -> None:
        self._english: frozenset[str] | None = None
        self._lock = threading.Lock()

    def embed(self, texts: list[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in zip(vectors, texts):
            for term in terms(text):  # stems of the content words: "the" or "did" says nothing of meaning
                digest = int.from_bytes(hashlib.blake2b(term.encode(), digest_size=4).digest(), "big")
                row[digest % self.dimension] += 1.0 if digest >> 31 else -1.0  # signed: collisions cancel out
            if not row.any():
                row[0] = 1.0  # a text of function words only still gets a unit vector: cosine is undefined for zeros
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def load_in_background(self) -> threading.Thread:
        """Nothing to load: the real helper runs the (cheap) dictionary read, as the engine expects a thread."""
        return load_in_background(self.known_words, "hashed-words")

    def known_words(self) -> frozenset[str]:
        """The same English dictionary as the real model's (its tokenizer's vocabulary, read without the model),
        so typo correction behaves as in production."""
        with self._lock:
            if self._english is None:
                vocabulary = Tokenizer.from_file(_tokenizer_path()).get_vocab()
                self._english = frozenset(w for w in vocabulary if w.isalpha())
            return self._english

    @staticmethod
    def name() -> str:
        return "exchange-bot-hashed-words-test"

    def get_config(self) -> dict[str, Any]:
        return {}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> "HashedWordsEmbedding":
        return HashedWordsEmbedding()
