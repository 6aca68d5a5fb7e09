"""The passage index in Chroma: embedded on disk by default, a Chroma server when configured."""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import chromadb
import httpx
import numpy as np
from chromadb.api.client import SharedSystemClient
from chromadb.api.fastapi import FastAPI
from chromadb.config import Settings as ChromaSettings

from .breaker import CircuitBreaker
from .corpus import ProgressCallback, slugify
from .embeddings import MODEL_NAME, CosineEmbeddingFunction
from .errors import IndexUnavailableError, IndexUnreachableError, StorageError
from .models import Passage
from .settings import Settings
from .storage import copy_to_scratch, sqlite_is_healthy, storage_problem, storage_problem_of

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class SyncReport:
    """What a sync of the index with the corpus did."""

    added: int
    updated: int
    removed: int
    unchanged: int
    embedded: int  # passages sent through the embedding model
    seconds: float


def server_breaker(settings: Settings) -> CircuitBreaker:
    """One breaker per Chroma server: after one call that timed out, answers fail at once for the cool-down."""
    return CircuitBreaker(f"chroma:{settings.chroma_host}:{settings.chroma_port}", 1, settings.chroma_cooldown)


def collection_name(prefix: str, model_name: str = MODEL_NAME) -> str:
    """Name carries the embedding model, so a model change can never mix vectors."""
    return f"{slugify(prefix)}-{slugify(model_name)}"[:512]


def make_client(settings: Settings, path: Path | None = None) -> chromadb.api.ClientAPI:
    """``HttpClient`` when ``CHROMA_HOST`` is set, else a ``PersistentClient`` at ``path`` (``DATA_DIR/chroma``)."""
    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_host:
        return _server_client(settings, chroma_settings)
    path = path or settings.data_dir / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


def _server_client(settings: Settings, chroma_settings: ChromaSettings) -> chromadb.api.ClientAPI:
    """An ``HttpClient`` whose every call gives up after ``CHROMA_TIMEOUT`` seconds.

    chromadb 1.5 builds its httpx session with ``timeout=None`` and offers no setting for it, so a frozen
    server would hold a caller forever. Its constructor already calls the server, so a bounded heartbeat
    goes first; the session's timeout is then set on the client's httpx session.
    """
    host, port, timeout = settings.chroma_host or "", settings.chroma_port, settings.chroma_timeout
    api_url = FastAPI.resolve_url(
        chroma_server_host=host, chroma_server_ssl_enabled=settings.chroma_ssl,
        default_api_path=chroma_settings.chroma_server_api_default_path, chroma_server_http_port=port,
    )
    httpx.get(f"{api_url}/heartbeat", timeout=timeout).raise_for_status()
    client = chromadb.HttpClient(host=host, port=port, ssl=settings.chroma_ssl, settings=chroma_settings)
    session = _http_session(client)
    if session is not None:
        session.timeout = httpx.Timeout(timeout)
    else:  # a chromadb upgrade moved it: calls are still bounded by the breaker, not by a timeout
        log.warning("index.timeout_not_set reason=chromadb_http_session_not_found")
    return client


def _http_session(client: chromadb.api.ClientAPI) -> httpx.Client | None:
    """The httpx session of a server client (chromadb 1.5 keeps it private); None for an embedded one."""
    session = getattr(getattr(client, "_server", None), "_session", None)
    return session if isinstance(session, httpx.Client) else None


class PassageIndex:
    """One Chroma collection of sentence passages, kept in step with the corpus by content hash.

    One per embedding model: the English model's collection answers every question,
    the multilingual model's (rag.multilingual) questions in other languages. Every call
    to a Chroma server is bounded by its timeout and guarded by ``breaker``.
    """

    def __init__(
        self,
        client: chromadb.api.ClientAPI,
        embedder: CosineEmbeddingFunction,
        name: str,
        location: str,
        breaker: CircuitBreaker | None = None,
        read_only_copy: tempfile.TemporaryDirectory[str] | None = None,
        disk_problem: str = "",
    ) -> None:
        self._embedder = embedder
        self._client = client
        # Chroma shares one System among the clients of a path in a process; remembered to tell, at close, whether
        # a cleared system cache has since replaced it (see ``close``).
        self._system = getattr(client, "_system", None)
        self._closed = False
        self.location = location
        self._size = 0
        self.name = name
        self._breaker = breaker
        # A read-only DATA_DIR is served from a temporary copy: kept alive with the index, never saved back.
        self._read_only_copy = read_only_copy
        self._disk_problem = disk_problem
        self._collection = self._call(
            "open",
            lambda: client.get_or_create_collection(
                name=name,
                embedding_function=embedder,
                metadata={
                    "hnsw:space": "cosine",
                    "embedding_model": embedder.model_name,
                    "embedding_dimension": embedder.dimension,
                },
            ),
        )

    @classmethod
    def open(
        cls, settings: Settings, embedder: CosineEmbeddingFunction, breaker: CircuitBreaker | None = None
    ) -> "PassageIndex":
        """Open (or create) the collection.

        A Chroma server that does not answer raises ``IndexUnreachableError``. An embedded index is moved
        aside and rebuilt only when its database is unreadable; a full or read-only DATA_DIR raises
        ``StorageError`` (or, read-only with a complete index, serves a temporary copy).
        """
        name = collection_name(settings.collection_prefix, embedder.model_name)
        if settings.chroma_host:
            location = f"chroma server {settings.chroma_host}:{settings.chroma_port}"
            try:
                client = make_client(settings)
            except Exception as exc:  # httpx errors, or chromadb's plain ValueError/ConnectionError
                raise IndexUnreachableError(f"cannot reach {location}: {type(exc).__name__}: {exc}") from exc
            return cls(client, embedder, name, location, breaker or server_breaker(settings))
        path = settings.data_dir / "chroma"
        if not path.exists():
            # Its files were deleted while this process ran: a cached system would write into the void.
            SharedSystemClient.clear_system_cache()
        try:
            return cls(make_client(settings), embedder, name, str(path))
        except Exception as exc:  # chromadb's own errors, or ours from its collection calls
            return cls._recover(settings, embedder, name, path, exc)

    @classmethod
    def _recover(
        cls, settings: Settings, embedder: CosineEmbeddingFunction, name: str, path: Path, error: Exception
    ) -> "PassageIndex":
        """The embedded index did not open: a bad disk, a healthy database that will not open, or corruption."""
        # Chroma caches one system per path in-process; without this a retry reuses the broken one.
        SharedSystemClient.clear_system_cache()
        database = path / "chroma.sqlite3"
        healthy = sqlite_is_healthy(database)
        problem = storage_problem_of(error) or storage_problem(path)
        if problem:
            if not healthy:
                raise StorageError(f"DATA_DIR {settings.data_dir} is {problem}: cannot build the index there")
            log.info("index.read_only path=%s disk=%s action=serve_temporary_copy", path, problem)
            try:
                scratch = copy_to_scratch(path)
                copy = Path(scratch.name) / path.name
                return cls(make_client(settings, copy), embedder, name, str(path), None, scratch, problem)
            except Exception as exc:
                raise StorageError(f"DATA_DIR {settings.data_dir} is {problem} and its index cannot be copied") from exc
        if healthy:
            raise IndexUnavailableError(f"the index at {path} is readable but will not open: {error}") from error
        # The embedded index is a cache of the corpus: losing it costs one rebuild, nothing else.
        aside = Path(f"{path}.corrupt-{int(time.time())}")
        log.error("index.corrupt path=%s error=%s moved_to=%s", path, type(error).__name__, aside)
        shutil.move(path, aside)
        SharedSystemClient.clear_system_cache()
        try:
            return cls(make_client(settings), embedder, name, str(path))
        except Exception as again:
            raise IndexUnavailableError(f"cannot open the index at {path}: {again}") from again

    def close(self) -> None:
        """Let go of the Chroma client, once (later calls do nothing).

        Embedded, Chroma counts the clients of one path in this process and closes its database (in the background,
        on its Rust side) when the last one closes: another engine open on the same DATA_DIR keeps it open. On a
        server, its connections are closed.
        A read-only DATA_DIR's temporary copy is removed. Calls after this raise ``IndexUnavailableError``.
        """
        if self._closed:
            return
        self._closed = True
        identifier = getattr(self._client, "_identifier", None)
        if SharedSystemClient._identifier_to_system.get(identifier or "") is self._system:
            self._client.close()
        else:
            # ``clear_system_cache`` dropped this client's system (the files were deleted, or the index recovered):
            # closing it would count down the clients of the system that replaced it. It goes with its last client.
            log.info("index.close_skipped location=%s reason=system_replaced", self.location)
        session = _http_session(self._client)
        if session is not None:  # chromadb 1.5's server client leaves its session open when it closes
            session.close()
        if self._read_only_copy is not None:
            self._read_only_copy.cleanup()
        log.debug("index.closed collection=%s", self.name)

    def _call(self, operation: str, call: Callable[[], T]) -> T:
        """One Chroma call, its failure turned into a typed error; a server that hangs opens the breaker."""
        if self._closed:
            raise IndexUnavailableError(f"the index at {self.location} was closed")
        if self._breaker is not None and not self._breaker.allow():
            raise IndexUnreachableError(f"{self.location} did not answer recently; waiting before asking again")
        try:
            result = call()
        except httpx.TransportError as exc:  # timed out, refused, reset: down or frozen, not our request
            if self._breaker is not None:
                self._breaker.record_failure()
            log.warning("index.unreachable location=%s operation=%s error=%s", self.location, operation, type(exc).__name__)
            raise IndexUnreachableError(f"{self.location}: {operation} failed: {type(exc).__name__}") from exc
        except Exception as exc:
            if self._breaker is not None:
                self._breaker.record_success()  # it answered, with an error: reachable
            problem = storage_problem_of(exc)
            if problem:
                raise StorageError(f"the index at {self.location} cannot be written: the disk is {problem}") from exc
            raise IndexUnavailableError(f"index {operation} failed: {type(exc).__name__}: {exc}") from exc
        if self._breaker is not None:
            self._breaker.record_success()
        return result

    def count(self) -> int:
        self._size = self._call("count", self._collection.count)
        return self._size

    def sync(self, passages: list[Passage], titles: dict[str, str], progress: ProgressCallback | None = None) -> SyncReport:
        """Make the collection hold exactly ``passages``: embed only new or changed ones, drop stale ones."""
        started = time.perf_counter()
        stored = self._call("get", lambda: self._collection.get(include=["metadatas"]))
        stored_hash = {
            pid: (meta or {}).get("content_hash") for pid, meta in zip(stored["ids"], stored["metadatas"] or [])
        }
        wanted = {p.passage_id: p for p in passages}
        stale = [pid for pid in stored_hash if pid not in wanted]
        changed = [p for p in passages if stored_hash.get(p.passage_id) != p.content_hash]
        updated = sum(1 for p in changed if p.passage_id in stored_hash)
        if (stale or changed) and self._read_only_copy is not None:
            raise StorageError(
                f"DATA_DIR is {self._disk_problem} and the index at {self.location} is not up to date with the corpus "
                f"({len(changed)} new or changed, {len(stale)} stale passages)"
            )
        if stale:
            self._call("delete", lambda: self._collection.delete(ids=stale))
        batch = 128
        for start in range(0, len(changed), batch):
            chunk = changed[start : start + batch]
            vectors = self._embedder.embed([p.text for p in chunk])
            self._call("upsert", lambda: self._collection.upsert(
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
            ))
            if progress:
                progress(f"Embedding passages ({self._embedder.model_name})", min(start + batch, len(changed)), len(changed))
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
        result = self._call(
            "query", lambda: self._collection.query(query_embeddings=[vector], n_results=k, include=["distances"])
        )
        ids = result["ids"][0]
        distances = (result["distances"] or [[]])[0]
        return [(pid, 1.0 - float(d)) for pid, d in zip(ids, distances)]

    def vectors(self, passage_ids: list[str]) -> dict[str, np.ndarray]:
        """Stored embeddings of the given passages (for similarity checks without re-embedding)."""
        if not passage_ids:
            return {}
        result = self._call("get", lambda: self._collection.get(ids=passage_ids, include=["embeddings"]))
        return {pid: np.asarray(vec, dtype=np.float32) for pid, vec in zip(result["ids"], result["embeddings"])}
