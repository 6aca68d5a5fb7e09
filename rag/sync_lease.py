"""One writer at a time for a collection on a shared Chroma server.

Several bot replicas on one Chroma server all see a corpus change. If each synced the index,
they would embed and upsert the same sentences at once. The lease is one record in a small
collection next to the passages: the replica that holds it syncs; the others wait, and then
find the index already in step, so their own sync writes nothing — they only reload. A lease
expires, so a replica that dies mid-sync cannot block the others for ever. Chroma has no
compare-and-set, so taking the lease is write-then-read-back: two replicas racing in the same
few milliseconds are told apart by the read-back, which only one of them wins.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from types import TracebackType

import chromadb
import httpx

from .corpus import slugify
from .errors import IndexUnavailableError, IndexUnreachableError
from .index import make_client
from .settings import Settings

log = logging.getLogger(__name__)

LEASE_ID = "sync"
LEASE_SECONDS = 300.0  # longer than any sync of a real corpus; a dead holder blocks the others at most this long
SETTLE_SECONDS = 0.1  # between writing the lease and reading it back: a racing writer lands in between
POLL_SECONDS = 0.2


class SyncLease:
    """``with SyncLease(...):`` holds the right to write the collections with this prefix."""

    def __init__(self, client: chromadb.api.ClientAPI, prefix: str, owner: str | None = None) -> None:
        self._collection = client.get_or_create_collection(f"{slugify(prefix)}-sync-lease", embedding_function=None)
        self.owner = owner or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"

    @classmethod
    def for_settings(cls, settings: Settings) -> "SyncLease":
        try:
            return cls(make_client(settings), settings.collection_prefix)
        except Exception as exc:  # httpx errors (down, or frozen past CHROMA_TIMEOUT), or chromadb's plain ValueError
            raise IndexUnreachableError(f"cannot reach the Chroma server for the sync lease: {exc}") from exc

    def holder(self) -> tuple[str, float]:
        """``(owner, expires_at)`` of the current lease; ``("", 0)`` when free."""
        record = self._collection.get(ids=[LEASE_ID], include=["metadatas"])
        meta = (record["metadatas"] or [None])[0] if record["ids"] else None
        if not meta:
            return "", 0.0
        return str(meta.get("owner") or ""), float(meta.get("expires_at") or 0.0)

    def _write(self, owner: str, expires_at: float) -> None:
        self._collection.upsert(ids=[LEASE_ID], embeddings=[[1.0]], metadatas=[{"owner": owner, "expires_at": expires_at}])

    def acquire(self, timeout: float = LEASE_SECONDS) -> None:
        """Wait until this replica holds the lease; raises ``IndexUnavailableError`` after ``timeout``."""
        deadline = time.monotonic() + timeout
        waited = False
        while True:
            owner, expires_at = self.holder()
            if not owner or owner == self.owner or expires_at < time.time():
                self._write(self.owner, time.time() + LEASE_SECONDS)
                time.sleep(SETTLE_SECONDS)
                if self.holder()[0] == self.owner:
                    log.info("index.lease_taken owner=%s waited=%s", self.owner, waited)
                    return
            elif not waited:
                log.info("index.lease_wait holder=%s", owner)
            waited = True
            if time.monotonic() > deadline:
                raise IndexUnavailableError(f"another replica ({owner}) has been syncing the index for too long")
            time.sleep(POLL_SECONDS)

    def release(self) -> None:
        if self.holder()[0] == self.owner:
            self._write("", 0.0)

    def __enter__(self) -> "SyncLease":
        try:
            self.acquire()
        except httpx.TransportError as exc:  # the server froze or went away while the lease was being taken
            raise IndexUnreachableError(f"the Chroma server stopped answering during the sync lease: {exc!r}") from exc
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.release()
