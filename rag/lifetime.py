"""What an engine keeps for its lifetime: the answers it gave, and the count of calls still using it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from cachetools import LRUCache

from .errors import EngineClosedError
from .models import Answer


class AnswerCache:
    """A bounded LRU of answers by question: in a group, the same question comes many times."""

    def __init__(self, size: int) -> None:
        self._answers: LRUCache[str, Answer] | None = LRUCache(maxsize=size) if size else None
        self._lock = threading.Lock()  # the bot answers from several threads; cachetools' caches are not thread-safe

    @staticmethod
    def _key(question: str) -> str:
        return " ".join(question.casefold().split())

    def get(self, question: str) -> Answer | None:
        if self._answers is None:
            return None
        with self._lock:
            return self._answers.get(self._key(question))

    def put(self, question: str, answer: Answer) -> None:
        if self._answers is None:
            return
        with self._lock:
            self._answers[self._key(question)] = answer


class ReleaseWhenIdle:
    """Counts the calls using what an engine owns; once closed, no call starts and the last one out releases it.

    A corpus change closes the engine it replaces while questions may still be answered with it: closing
    must neither pull the index from under them nor wait for them (a hung model would hold up the reload).
    """

    def __init__(self, release: Callable[[], None]) -> None:
        self._release = release
        self._lock = threading.Lock()
        self._users = 0
        self._closed = False

    @contextmanager
    def in_use(self) -> Iterator[None]:
        """Hold the resources for one call; ``EngineClosedError`` once closed."""
        with self._lock:
            if self._closed:
                raise EngineClosedError("the engine was closed")
            self._users += 1
        try:
            yield
        finally:
            with self._lock:
                self._users -= 1
                last_out = self._closed and self._users == 0
            if last_out:
                self._release()

    def close(self) -> None:
        """No new call; release now, or when the last call in progress ends. Later calls do nothing."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            idle = self._users == 0
        if idle:
            self._release()
