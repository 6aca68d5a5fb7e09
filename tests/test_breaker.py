"""The circuit breaker on its own, with a clock the test moves: closed, open, one half-open probe."""

from __future__ import annotations

from rag.breaker import CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_opens_after_consecutive_failures_and_lets_one_probe_through_after_the_cool_down() -> None:
    clock = Clock()
    breaker = CircuitBreaker("dependency", failures=2, cooldown=30.0, clock=clock)
    breaker.record_failure()
    breaker.record_success()  # not consecutive: the count starts again
    breaker.record_failure()
    assert breaker.allow()
    breaker.record_failure()
    assert not breaker.allow()  # open
    clock.now += 29.9
    assert not breaker.allow()
    clock.now += 0.2
    assert breaker.allow() and not breaker.allow()  # half-open: the first caller probes, the others wait
    breaker.record_failure()  # the probe failed: open for another cool-down
    clock.now += 29.9
    assert not breaker.allow()
    clock.now += 0.2
    assert breaker.allow()
    breaker.record_success()
    assert breaker.allow() and breaker.allow()  # closed again
