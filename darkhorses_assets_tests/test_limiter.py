"""The process-wide token bucket: exact pacing on a fake clock, real threads on a real one."""

from __future__ import annotations

import threading
import time

import pytest

from darkhorses_assets.racing_api.limiter import TokenBucket, reset_shared_buckets, shared_bucket


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_burst_one_spaces_every_request_by_the_interval():
    clock = FakeClock()
    bucket = TokenBucket(2.0, burst=1, clock=clock, sleep=clock.sleep)
    times = []
    for _ in range(5):
        bucket.acquire()
        times.append(clock.now)
    assert times == [0.0, 0.5, 1.0, 1.5, 2.0]


def test_burst_two_allows_two_back_to_back_then_the_rate():
    clock = FakeClock()
    bucket = TokenBucket(2.0, burst=2, clock=clock, sleep=clock.sleep)
    times = []
    for _ in range(4):
        bucket.acquire()
        times.append(clock.now)
    assert times == [0.0, 0.0, 0.5, 1.0]


def test_idle_time_does_not_accumulate_beyond_the_burst():
    clock = FakeClock()
    bucket = TokenBucket(2.0, burst=1, clock=clock, sleep=clock.sleep)
    bucket.acquire()
    clock.now = 100.0
    assert bucket.acquire() == 0.0
    assert bucket.acquire() == pytest.approx(0.5)


def test_pause_holds_back_the_next_caller():
    clock = FakeClock()
    bucket = TokenBucket(2.0, clock=clock, sleep=clock.sleep)
    bucket.acquire()
    bucket.pause(3.0)
    assert bucket.acquire() == pytest.approx(3.0)


@pytest.mark.parametrize("bad", [dict(rate_per_s=0), dict(rate_per_s=2, burst=0)])
def test_rejects_nonsense_configuration(bad):
    with pytest.raises(ValueError):
        TokenBucket(**bad)


class RecordingBucket(TokenBucket):
    """Notes each slot handed out, so the schedule can be checked exactly whatever the machine's load."""

    def __init__(self, *args, **kwargs):
        self._seen = threading.local()
        super().__init__(*args, clock=self._clock_seen, **kwargs)
        self.slots: list[float] = []
        self._slots_lock = threading.Lock()

    def _clock_seen(self) -> float:
        self._seen.now = time.monotonic()
        return self._seen.now

    def reserve(self) -> float:
        delay = super().reserve()
        with self._slots_lock:
            self.slots.append(self._seen.now + delay)
        return delay


def test_threads_sharing_a_bucket_never_exceed_the_rate():
    rate, threads, per_thread = 20.0, 6, 5
    bucket = RecordingBucket(rate, burst=1)
    returned: list[tuple[float, float]] = []  # (slot, when acquire() returned)
    lock = threading.Lock()

    def worker():
        for _ in range(per_thread):
            bucket.acquire()
            now = time.monotonic()
            with lock:
                returned.append(now)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()

    n = threads * per_thread
    slots = sorted(bucket.slots)
    assert len(slots) == len(returned) == n
    gaps = [b - a for a, b in zip(slots, slots[1:], strict=False)]
    assert min(gaps) >= 1 / rate - 1e-9, "slots handed to concurrent threads must be one interval apart"
    assert max(gaps) < 1 / rate + 0.05, "acquire() should block only as long as needed"
    assert all(r >= s for r, s in zip(sorted(returned), slots, strict=True)), "nobody may go before its slot"
    observed = (n - 1) / (max(returned) - slots[0])
    assert observed <= rate


def test_shared_bucket_is_one_per_credential_and_api():
    reset_shared_buckets()
    a = shared_bucket("http://x/", "alice", 2.0)
    assert shared_bucket("http://x", "alice", 2.0) is a
    assert shared_bucket("http://x", "bob", 2.0) is not a
    assert shared_bucket("http://y", "alice", 2.0) is not a
    assert shared_bucket("http://x", "alice", 5.0) is a
    assert a.rate_per_s == 5.0
    reset_shared_buckets()
