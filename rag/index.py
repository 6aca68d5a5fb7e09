"""The passage index in Chroma: embedded on disk by default, a Chroma server when configured."""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import chromadb
import numpy as np
from chromadb.api.client import SharedSystemClient
from chromadb.config import Settings as ChromaSettings

from .corpus import slugify
from .embeddings import MODEL_NAME, CosineEmbeddingFunction
from .errors import IndexUnavailableError
from .models import Passage
from .settings import Settings

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class SyncReport:
    """What a sync of the index with the corpus did."""

    added: int
    updated: int
    removed: int
    unchanged: int
    embedded: int  # passages sent through the embedding model
    seconds: float


def collection_name(prefix: str, model_name: str = MODEL_NAME) -> str:
    """Name carries the embedding model, so a model change can never mix vectors."""
    return f"{slugify(prefix)}-{slugify(model_name)}"[:512]


def make_client(settings: Settings) -> chromadb.api.ClientAPI:
    """``HttpClient`` when ``CHROMA_HOST`` is set, else a ``PersistentClient`` under ``DATA_DIR``."""
    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_host:
        return chromadb.HttpClient(
            host=settings.chroma_host, port=settings.chroma_port, ssl=settings.chroma_ssl, settings=chroma_settings
        )
    path = settings.data_dir / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


class PassageIndex:
    """One Chroma collection of sentence passages, kept in step with the corpus by content hash.

    One per embedding model: the English model's collection answers every question,
    the multilingual model's (rag.multilingual) questions in other languages.
    """

    def __init__(self, client: chromadb.api.ClientAPI, embedder: CosineEmbeddingFunction, name: str, location: str) -> None:
        self._embedder = embedder
        self.location = location
        self._size = 0
        self.name = name
        self._collection = client.get_or_create_collection(
            name=name,
            embedding_function=embedder,
            metadata={
                "hnsw:space": "cosine",
                "embedding_model": embedder.model_name,
                "embedding_dimension": embedder.dimension,
            },
        )

    @classmethod
    def open(cls, settings: Settings, embedder: CosineEmbeddingFunction) -> "PassageIndex":
        """Open (or create) the collection; a corrupt embedded index is moved aside and rebuilt.

        Raises ``IndexUnavailableError`` when a Chroma server cannot be reached.
        """
        name = collection_name(settings.collection_prefix, embedder.model_name)
        if settings.chroma_host:
            location = f"chroma server {settings.chroma_host}:{settings.chroma_port}"
            try:
                return cls(make_client(settings), embedder, name, location)
            except Exception as exc:  # chromadb raises plain ValueError/ConnectionError here
                raise IndexUnavailableError(f"cannot reach {location}: {exc}") from exc
        location = str(settings.data_dir / "chroma")
        if not Path(location).exists():
            # Its files were deleted while this process ran: a cached system would write into the void.
            SharedSystemClient.clear_system_cache()
        try:
            return cls(make_client(settings), embedder, name, location)
        except Exception as exc:
            # The embedded index is a cache of the corpus: losing it costs one rebuild, nothing else.
            aside = Path(f"{location}.corrupt-{int(time.time())}")
            log.error("index.corrupt path=%s error=%s moved_to=%s", location, type(exc).__name__, aside)
            shutil.move(location, aside)
            # Chroma caches one system per path in-process; without this the retry reuses the broken one.
            SharedSystemClient.clear_system_cache()
            try:
                return cls(make_client(settings), embedder, name, location)
            except Exception as again:
                raise IndexUnavailableError(f"cannot open the index at {location}: {again}") from again

    def count(self) -> int:
        self._size = self._collection.count()
        return self._size

    def sync(self, passages: list[Passage], titles: dict[str, str], progress: ProgressCallback | None = None) -> SyncReport:
        """Make the collection hold exactly ``passages``: embed only new or changed ones, drop stale ones."""
        started = time.perf_counter()
        stored = self._collection.get(include=["metadatas"])
        stored_hash = {
            pid: (meta or {}).get("content_hash") for pid, meta in zip(stored["ids"], stored["metadatas"] or [])
        }
        wanted = {p.passage_id: p for p in passages}
        stale = [pid for pid in stored_hash if pid not in wanted]
        changed = [p for p in passages if stored_hash.get(p.passage_id) != p.content_hash]
        updated = sum(1 for p in changed if p.passage_id in stored_hash)
        if stale:
            self._collection.delete(ids=stale)
        batch = 128
        for start in range(0, len(changed), batch):
            chunk = changed[start : start + batch]
            vectors = self._embedder.embed([p.text for p in chunk])
            self._collection.upsert(
                ids=[p.passage_id for p in chunk],
                documents=[p.text for p in chunk],
                embeddings=vectors,
                metadatas=[
                    {
                        "doc_id": p.doc_id,
                        "ordinal": p.ordinal,
                        "paragraph": p.paragraph,
                        "content_hash": p.content_hash,
                        "title": titles.get(p.doc_id, ""),
                    }
                    for p in chunk
                ],
            )
            if progress:
                progress(min(start + batch, len(changed)), len(changed))
        self.count()
        report = SyncReport(
            added=len(changed) - updated,
            updated=updated,
            removed=len(stale),
            unchanged=len(passages) - len(changed),
            embedded=len(changed),
            seconds=time.perf_counter() - started,
        )
        log.info(
            "index.sync collection=%s added=%d updated=%d removed=%d unchanged=%d seconds=%.2f",
            self.name, report.added, report.updated, report.removed, report.unchanged, report.seconds,
        )
        return report

    def query(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """Top ``k`` ``(passage_id, cosine similarity)`` for one query vector, best first."""
        k = min(k, self._size or self.count()) or 1
        try:
            result = self._collection.query(query_embeddings=[vector], n_results=k, include=["distances"])
        except Exception as exc:
            raise IndexUnavailableError(f"index query failed: {exc}") from exc
        ids = result["ids"][0]
        distances = (result["distances"] or [[]])[0]
        return [(pid, 1.0 - float(d)) for pid, d in zip(ids, distances)]

    def vectors(self, passage_ids: list[str]) -> dict[str, np.ndarray]:
        """Stored embeddings of the given passages (for similarity checks without re-embedding)."""
        if not passage_ids:
            return {}
        result = self._collection.get(ids=passage_ids, include=["embeddings"])
        return {pid: np.asarray(vec, dtype=np.float32) for pid, vec in zip(result["ids"], result["embeddings"])}
