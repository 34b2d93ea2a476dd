"""Process-wide request pacing for The Racing API (2 requests/second per credential).

The API counts requests per credential, not per connection, so every resource instance and every thread of
a process that uses the same credential must share one bucket: :func:`shared_bucket` keeps a registry keyed
by ``(base_url, username)``.

The default burst is 1: requests leave at least ``1/rate`` seconds apart, so any one-second window holds at
most ``rate`` of them, and a server whose own bucket allows a burst of 2 keeps a token spare to absorb
network jitter (two requests sent 0.5 s apart may arrive closer together). A burst of 2 would let three
requests through within one second (two at once, the third 0.5 s later), which a strict per-second
counter answers with 429.
"""

from __future__ import annotations

import threading
import time

__all__ = ["TokenBucket", "reset_shared_buckets", "shared_bucket"]


class TokenBucket:
    """Thread-safe token bucket, implemented as GCRA ("virtual scheduling").

    ``acquire()`` reserves the next free slot under a lock and sleeps outside it, so waiting threads are
    released in order, each as early as the rate allows.
    """

    def __init__(self, rate_per_s: float, burst: int = 1, clock=time.monotonic, sleep=time.sleep):
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep
        self._next_free = 0.0
        self.configure(rate_per_s, burst)

    def configure(self, rate_per_s: float, burst: int = 1) -> None:
        if rate_per_s <= 0:
            raise ValueError(f"rate_per_s must be > 0, got {rate_per_s}")
        if burst < 1:
            raise ValueError(f"burst must be >= 1, got {burst}")
        with self._lock:
            self.rate_per_s = float(rate_per_s)
            self.burst = int(burst)
            self._interval = 1.0 / self.rate_per_s

    def reserve(self) -> float:
        """Take the next slot and return how many seconds the caller must wait before using it."""
        with self._lock:
            now = self._clock()
            next_free = max(self._next_free, now)
            delay = max(0.0, next_free - (self.burst - 1) * self._interval - now)
            self._next_free = next_free + self._interval
            return delay

    def acquire(self) -> float:
        """Block until a request may be sent; return the seconds waited."""
        delay = self.reserve()
        if delay > 0:
            self._sleep(delay)
        return delay

    def pause(self, seconds: float) -> None:
        """Hold every caller back for ``seconds`` (e.g. after a 429 with ``Retry-After``)."""
        with self._lock:
            self._next_free = max(self._next_free, self._clock() + seconds)


_registry: dict[tuple[str, str], TokenBucket] = {}
_registry_lock = threading.Lock()


def shared_bucket(base_url: str, username: str, rate_per_s: float, burst: int = 1) -> TokenBucket:
    """The process-wide bucket for one credential on one API.

    A process should use one setting per credential; if a caller asks for a different rate or burst, the
    shared bucket is reconfigured to it (the latest configuration wins).
    """
    key = (base_url.rstrip("/"), username)
    with _registry_lock:
        bucket = _registry.get(key)
        if bucket is None:
            bucket = _registry[key] = TokenBucket(rate_per_s, burst)
        elif (bucket.rate_per_s, bucket.burst) != (float(rate_per_s), int(burst)):
            bucket.configure(rate_per_s, burst)
        return bucket


def reset_shared_buckets() -> None:
    """Forget every shared bucket (tests)."""
    with _registry_lock:
        _registry.clear()
