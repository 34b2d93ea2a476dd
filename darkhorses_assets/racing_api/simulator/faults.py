"""Fault injection for the simulator: rate-driven (seeded) or scripted ("fail the first N requests").

Status faults (429, 5xx) replace the answer; ``slow`` delays it; body faults (truncated, malformed, extra
fields, missing fields) corrupt a 200 JSON answer. Only authenticated ``/v1`` requests are subject to faults.
"""

from __future__ import annotations

import copy
import json
import random
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

STATUS_KINDS = ("429", "500", "502", "503", "5xx")
BODY_KINDS = ("truncated", "malformed", "extra_fields", "missing_fields")
KINDS = (*STATUS_KINDS, "slow", *BODY_KINDS)
EXTRA_FIELD = "sim_unknown_field"
OPTIONAL_RACE_FIELDS = (
    "going_detailed",
    "rail_movements",
    "weather",
    "tip",
    "verdict",
    "betting_forecast",
    "winning_time_detail",
    "comments",
    "tote_trifecta",
    "tote_tricast",
)
OPTIONAL_RUNNER_FIELDS = (
    "silk_url",
    "trainer_14_days",
    "prev_trainers",
    "prev_owners",
    "quotes",
    "stable_tour",
    "medical",
    "wind_surgery_run",
    "spotlight",
    "jockey_claim_lbs",
    "trainer_location",
)


@dataclass
class Faults:
    """Fault rates (each 0..1) and the scripted ``fail_first`` mode.

    ``fail_first={"429": 2, "503": 1}`` answers the first two ``/v1`` requests with 429, the next with 503,
    then behaves normally (rates still apply). Keys are any of :data:`KINDS`.
    """

    rate_429: float = 0.0
    rate_5xx: float = 0.0
    rate_slow: float = 0.0
    slow_seconds: float = 25.0
    """Longer than the client's default 20 s timeout, so a slow answer is a timeout unless told otherwise."""
    rate_truncated: float = 0.0
    rate_malformed: float = 0.0
    rate_extra_fields: float = 0.0
    rate_missing_fields: float = 0.0
    seed: int = 0
    fail_first: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = set(self.fail_first) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; use any of {list(KINDS)}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> Faults:
        """Read ``DARKHORSES_SIM_FAULT_{429,5XX,SLOW,SLOW_SECONDS,TRUNCATED,MALFORMED,EXTRA_FIELDS,
        MISSING_FIELDS,SEED}``; ``overrides`` (e.g. CLI flags) win when not None."""
        from darkhorses_assets.settings import sim_faults  # the one place environment variables are parsed

        values: dict = sim_faults(environ)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


@dataclass(frozen=True)
class Decision:
    status: int | None = None
    slow: bool = False
    body: tuple[str, ...] = ()


class FaultInjector:
    """Decides, request by request, which faults apply. Thread-safe; seeded so a run is reproducible."""

    def __init__(self, faults: Faults):
        self.faults = faults
        self._rng = random.Random(faults.seed)
        self._script = [kind for kind, n in faults.fail_first.items() for _ in range(n)]
        self._lock = threading.Lock()

    def decide(self) -> Decision:
        f = self.faults
        with self._lock:
            if self._script:
                return _scripted(self._script.pop(0), self._rng)
            draw = self._rng.random
            status = None
            if draw() < f.rate_429:
                status = 429
            if draw() < f.rate_5xx and status is None:
                status = self._rng.choice((500, 502, 503))
            slow = draw() < f.rate_slow
            body = tuple(kind for kind in BODY_KINDS if draw() < getattr(f, f"rate_{kind}"))
        return Decision(status, slow, body)


def _scripted(kind: str, rng: random.Random) -> Decision:
    if kind == "5xx":
        return Decision(status=rng.choice((500, 502, 503)))
    if kind in STATUS_KINDS:
        return Decision(status=int(kind))
    if kind == "slow":
        return Decision(slow=True)
    return Decision(body=(kind,))


def error_body(status: int) -> tuple[bytes, str]:
    """What an upstream failure looks like: JSON from the app, an HTML page from the proxy for 502."""
    if status == 502:
        html = b"<html><head><title>502 Bad Gateway</title></head><body>502 Bad Gateway</body></html>"
        return html, "text/html"
    detail = {429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}[status]
    return json.dumps({"detail": detail}).encode(), "application/json"


def corrupt(body: object, kinds: tuple[str, ...], encode: Callable[[object], bytes]) -> bytes:
    """Apply body faults to a JSON-able ``body``; ``encode`` turns an object into the server's bytes."""
    if "extra_fields" in kinds or "missing_fields" in kinds:
        body = copy.deepcopy(body)
        for item in _records(body):
            if "extra_fields" in kinds:
                item[EXTRA_FIELD] = "added by the simulator"
            if "missing_fields" in kinds:
                for name in (*OPTIONAL_RACE_FIELDS, *OPTIONAL_RUNNER_FIELDS):
                    item.pop(name, None)
    data = encode(body)
    if "malformed" in kinds:
        data = data.replace(b'"', b"'", 1) + b"}"
    if "truncated" in kinds:
        data = data[: max(1, len(data) // 2)]
    return data


def _records(body: object) -> Iterator[dict]:
    """Races/runners/courses inside an envelope, or the object itself for single-record answers."""
    if not isinstance(body, dict):
        return
    lists = [v for k, v in body.items() if k in ("racecards", "results", "courses") and isinstance(v, list)]
    for items in lists or [[body]]:
        for item in items:
            if isinstance(item, dict):
                yield item
                for runner in item.get("runners", ()):
                    if isinstance(runner, dict):
                        yield runner
