"""The simulator's clock: a UK time of day that can be fixed, run faster than real time, or moved by tests.

Simulated time is ``start + (monotonic seconds since start) × time_scale``: a scale of 1 follows the wall
clock from ``start``, 60 runs a race day in 24 minutes, 0 freezes it. ``set`` and ``advance`` re-anchor the
clock (keeping its scale), so a test can walk through a race day in-process while the server answers.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta

from .model import UK


def as_uk(when: datetime) -> datetime:
    """``when`` as an aware Europe/London datetime; a naive one is read as UK local time."""
    return when.replace(tzinfo=UK) if when.tzinfo is None else when.astimezone(UK)


class SimulatorClock:
    """Thread-safe simulated UK time. ``start=None`` starts from the real time now."""

    def __init__(self, start: datetime | None = None, time_scale: float = 1.0):
        if time_scale < 0:
            raise ValueError(f"time_scale must be >= 0 (0 freezes the clock), got {time_scale}")
        self._scale = float(time_scale)
        self._lock = threading.Lock()
        self._anchor_utc = as_uk(start).astimezone(UTC) if start is not None else datetime.now(UTC)
        self._anchor_monotonic = time.monotonic()

    @classmethod
    def start_of_day(cls, day: date) -> SimulatorClock:
        """Frozen at 00:00 UK on ``day``: what ``SimulatorConfig(today=day)`` means."""
        return cls(datetime.combine(day, datetime.min.time()), time_scale=0.0)

    @property
    def time_scale(self) -> float:
        return self._scale

    def _now_utc(self) -> datetime:
        elapsed = (time.monotonic() - self._anchor_monotonic) * self._scale
        return self._anchor_utc + timedelta(seconds=elapsed)

    def now(self) -> datetime:
        """Simulated time, aware, in Europe/London (arithmetic in UTC, so DST changes are crossed right)."""
        with self._lock:
            return self._now_utc().astimezone(UK)

    def today(self) -> date:
        """The UK date of :meth:`now`."""
        return self.now().date()

    def set(self, when: datetime) -> None:
        """Jump to ``when`` (naive = UK local); the clock runs on from there at its scale."""
        anchor = as_uk(when).astimezone(UTC)
        with self._lock:
            self._anchor_utc, self._anchor_monotonic = anchor, time.monotonic()

    def advance(self, delta: timedelta) -> None:
        """Move simulated time by ``delta`` (may be negative)."""
        with self._lock:
            self._anchor_utc, self._anchor_monotonic = self._now_utc() + delta, time.monotonic()

    def __repr__(self) -> str:
        return f"SimulatorClock(now={self.now().isoformat(timespec='seconds')}, time_scale={self._scale:g})"
