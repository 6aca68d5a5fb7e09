"""A circuit breaker for a dependency that can hang: after repeated failures, stop waiting on it for a while.

Closed: calls go through and consecutive failures are counted. Open (after
``failures`` in a row): calls are refused at once until ``cooldown`` seconds have
passed. Half-open: exactly one call probes the dependency; its success closes the
breaker, its failure opens it for another cool-down. Shared by the LLM drafter and
the Chroma server index, from the bot's worker threads.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

log = logging.getLogger(__name__)

State = Literal["closed", "open", "half-open"]


@dataclass
class CircuitBreaker:
    """Counts consecutive failures of one dependency (``name`` appears in its log lines)."""

    name: str
    failures: int
    cooldown: float
    clock: Callable[[], float] = time.monotonic
    _consecutive: int = field(default=0, init=False)
    _opened_at: float | None = field(default=None, init=False)
    _probing: bool = field(default=False, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def _state(self) -> State:
        if self._opened_at is None:
            return "closed"
        if self.clock() - self._opened_at < self.cooldown:
            return "open"
        return "half-open"

    @property
    def state(self) -> State:
        """Closed, open or half-open now (for the operator's metrics)."""
        with self._lock:
            return self._state()

    def allow(self) -> bool:
        """Whether a call may go out now; in half-open, only the first caller gets to probe."""
        with self._lock:
            state = self._state()
            if state == "closed":
                return True
            if state == "half-open" and not self._probing:
                self._probing = True
                log.info("breaker.probe dependency=%s", self.name)
                return True
            return False

    def record_success(self) -> None:
        with self._lock:
            if self._opened_at is not None:
                log.info("breaker.closed dependency=%s", self.name)
            self._consecutive, self._opened_at, self._probing = 0, None, False

    def record_failure(self) -> None:
        with self._lock:
            self._consecutive += 1
            if self._probing or (self._opened_at is None and self._consecutive >= self.failures):
                self._opened_at = self.clock()
                log.warning(
                    "breaker.open dependency=%s consecutive_failures=%d cooldown_s=%.1f",
                    self.name, self._consecutive, self.cooldown,
                )
            self._probing = False
