"""The simulated Racing API: a real HTTP server on loopback that behaves like https://api.theracingapi.com.

HTTP Basic auth (401), FastAPI-style validation errors (422), a 2 req/s token bucket per credential (429 with
``Retry-After``), paging envelopes, fault injection and a replay mode serving recorded responses.

The simulator has a clock (:class:`SimulatorClock`, ``app.clock``): a UK time of day that can be fixed, run
faster than real time or moved by tests. Windows served (dates are UK race dates, relative to its today):

* ``/v1/racecards/pro``: ``racecard_history_from`` (default 2015-01-01, so the platform can backfill offline;
  the real API starts at 2023-01-23) to ``today + 7``; earlier dates give an empty page, later ones 422.
  Today's cards change during the day (non-runners, going, abandonments, prices; see ``timeline``).
* ``/v1/results``: dates up to today, each race once ``now`` reaches its off plus its result delay (today's
  ``total`` grows through the day; abandoned races never appear); ``end_date`` defaults to ``start_date`` and
  ``start_date`` to ``end_date`` (both default to yesterday). Pages list races newest first.

``GET /_simulator/stats`` (no auth) returns the request log of ``/v1`` requests so tests can count rates.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import math
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlsplit

from darkhorses_assets.racing_api.recording import describe_request

from . import timeline
from .clock import SimulatorClock, as_uk
from .faults import FaultInjector, Faults, corrupt, error_body
from .payloads import Payloads
from .replay import ReplayStore
from .world import World

log = logging.getLogger(__name__)

RESULTS_MAX_LIMIT, RESULTS_DEFAULT_LIMIT, RESULTS_MAX_SKIP = 50, 25, 20_000
RACECARDS_MAX_LIMIT, RACECARDS_DEFAULT_LIMIT, RACECARDS_MAX_SKIP = 500, 500, 500
RACECARD_DAYS_AHEAD = 7


@dataclass
class SimulatorConfig:
    """How the simulator behaves.

    The clock: ``now`` starts it at that instant (naive = UK local) and ``time_scale`` runs it that many
    times faster than real time (0 freezes it). ``today`` alone freezes it at 00:00 UK of that day, which is
    what ``today`` always meant: results for every earlier day and none for today, racecards as published
    by midnight (reproducible runs and tests). Neither: the real UK time, at ``time_scale``.
    """

    seed: int = 7
    username: str = "darkhorses"
    password: str = "simulator"
    rate_limit_per_s: float = 2.0
    """Requests per second per credential; 0 disables the limit."""
    rate_limit_burst: float | None = None
    """Bucket size; None means max(2, rate_limit_per_s)."""
    faults: Faults = field(default_factory=Faults)
    replay_dir: str | Path | None = None
    today: date | None = None
    racecard_history_from: date = date(2015, 1, 1)
    now: datetime | None = None
    time_scale: float = 1.0
    result_delay_minutes: float = 15.0
    """Minutes from a race's off to its result in ``/v1/results`` (about 10 % of races take 10–30 more)."""

    def __post_init__(self) -> None:
        if self.time_scale < 0:
            raise ValueError(f"time_scale must be >= 0 (0 freezes the clock), got {self.time_scale}")
        if self.now is not None and self.today is not None and as_uk(self.now).date() != self.today:
            raise ValueError(f"now ({self.now}) is not on today ({self.today}): give one of them")
        if self.now is None and self.today is not None and self.time_scale != 1.0:
            raise ValueError(
                "today freezes the clock at midnight; to run a day at a time_scale, give now instead "
                f"(e.g. now=datetime({self.today.year}, {self.today.month}, {self.today.day}, 0, 0))"
            )

    def make_clock(self) -> SimulatorClock:
        if self.now is not None:
            return SimulatorClock(self.now, self.time_scale)
        if self.today is not None:
            return SimulatorClock.start_of_day(self.today)
        return SimulatorClock(None, self.time_scale)


@lru_cache(maxsize=4)
def shared_world(seed: int) -> World:
    """Worlds are costly to warm up and immutable, so servers with one seed share one."""
    return World(seed)


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


class EncodedRace(NamedTuple):
    region: str
    course_id: str
    body: bytes
    published_ts: float = 0.0
    """Results only: POSIX time from which the race is listed."""


class ApiError(Exception):
    def __init__(self, status: int, detail: Any, headers: dict[str, str] | None = None):
        super().__init__(str(detail))
        self.status, self.detail, self.headers = status, detail, headers or {}


def encode(body: object) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def invalid(loc: str, msg: str, kind: str, value: str | None = None, **ctx) -> ApiError:
    error: dict[str, Any] = {"type": kind, "loc": ["query", loc], "msg": msg}
    if value is not None:
        error["input"] = value
    if ctx:
        error["ctx"] = ctx
    return ApiError(422, [error])


class TokenBuckets:
    """One token bucket per credential. ``take`` returns 0 when allowed, else seconds until a token."""

    def __init__(self, rate: float, burst: float):
        self.rate, self.burst = rate, burst
        self._state: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        if self.rate <= 0:
            return 0.0
        with self._lock:
            now = time.monotonic()
            tokens, last = self._state.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._state[key] = (tokens - 1.0, now)
                return 0.0
            self._state[key] = (tokens, now)
            return (1.0 - tokens) / self.rate


class SimulatorApp:
    """Request handling without the socket: ``handle(path_with_query, headers) -> Response``."""

    def __init__(self, config: SimulatorConfig):
        self.config = config
        self.clock = config.make_clock()
        self.world = shared_world(config.seed)
        self.payloads = Payloads(self.world, self.clock)
        self._encoded_racecards = lru_cache(maxsize=64)(
            lambda day, at: _encode_day(self.payloads.racecards(day, at))
        )
        self._encoded_results = lru_cache(maxsize=128)(self._encode_results)
        burst = config.rate_limit_burst or max(2.0, config.rate_limit_per_s)
        self.buckets = TokenBuckets(config.rate_limit_per_s, burst)
        self.injector = FaultInjector(config.faults)
        self.replay = ReplayStore(config.replay_dir) if config.replay_dir else None
        self._log: list[tuple[float, str, int]] = []
        self._log_lock = threading.Lock()

    @property
    def today(self) -> date:
        return self.clock.today()

    def warm_up(self) -> None:
        """Generate the world around today (the horse crops in training then, ≈ 0.5 s) before the first request,
        which would otherwise pay for it: the real API answers its first request as fast as the others."""
        self.world.races_on(self.today)

    # -- race-day timing -------------------------------------------------------------------------------

    def result_published_at(self, race_id: str) -> datetime | None:
        """When the race's result appears in ``/v1/results`` (UK time); None if it never does (abandoned).
        Raises KeyError for an id the world does not know."""
        race = self.world.race(race_id)
        if race is None:
            raise KeyError(f"no race {race_id} in the simulated world")
        return timeline.result_published_at(self.world.seed, race, self.config.result_delay_minutes)

    def race_day_timeline(self, day: date) -> list[tuple[str, datetime, datetime | None]]:
        """``(race_id, off_dt, result published_at)`` for every GB + IRE race of ``day``, by off time."""
        delay = self.config.result_delay_minutes
        rows = [
            (race.race_id, race.off_dt, timeline.result_published_at(self.world.seed, race, delay))
            for race in self.world.races_on(day)
        ]
        return sorted(rows, key=lambda row: (row[1], row[0]))

    def _encode_results(self, day: date) -> tuple[EncodedRace, ...]:
        """Every result of ``day`` (newest first) with its publication time; filtered per request."""
        return tuple(
            EncodedRace(r["region"], r["course_id"], encode(r), self.result_published_at(r["race_id"]).timestamp())
            for r in self.payloads.results(day)
        )

    # -- bookkeeping -----------------------------------------------------------------------------------

    def record(self, path: str, status: int) -> None:
        with self._log_lock:
            self._log.append((time.monotonic(), path, status))

    def stats(self) -> dict:
        with self._log_lock:
            entries = list(self._log)
        by_status: dict[str, int] = {}
        for _, _, status in entries:
            by_status[str(status)] = by_status.get(str(status), 0) + 1
        return {"requests": entries, "total": len(entries), "by_status": by_status}

    # -- entry point -----------------------------------------------------------------------------------

    def handle(self, target: str, headers: dict[str, str]) -> tuple[Response, float]:
        """The response and how long to stall before sending it (slow fault)."""
        parts = urlsplit(target)
        path = parts.path.rstrip("/") or "/"
        query = parse_qsl(parts.query, keep_blank_values=True)
        if path == "/_simulator/stats":
            return Response(200, encode(self.stats())), 0.0
        delay = 0.0
        try:
            self._authenticate(headers)
            self._rate_limit(headers)
            decision = self.injector.decide() if path.startswith("/v1") else None
            if decision and decision.status:
                body, content_type = error_body(decision.status)
                extra = {"Retry-After": "1"} if decision.status in (429, 503) else {}
                response = Response(decision.status, body, content_type, extra)
            else:
                response = self._route(path, query)
                if (
                    decision
                    and decision.body
                    and response.status == 200
                    and response.content_type == "application/json"
                ):
                    response.body = corrupt(json.loads(response.body), decision.body, encode)
            if decision and decision.slow:
                delay = self.config.faults.slow_seconds
        except ApiError as error:
            response = Response(error.status, encode({"detail": error.detail}), headers=error.headers)
        except Exception as error:  # noqa: BLE001 - a simulator bug must answer, not drop the connection
            log.exception("simulator failed on %s", path)
            response = Response(500, encode({"detail": f"simulator error: {type(error).__name__}: {error}"}))
        if path.startswith("/v1"):
            self.record(path, response.status)
        return response, delay

    def _authenticate(self, headers: dict[str, str]) -> None:
        value = headers.get("authorization", "")
        if not value.lower().startswith("basic "):
            raise ApiError(401, "Not authenticated", {"WWW-Authenticate": "Basic"})
        try:
            user, _, password = base64.b64decode(value[6:].strip()).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise ApiError(401, "Invalid authentication credentials", {"WWW-Authenticate": "Basic"}) from None
        if (user, password) != (self.config.username, self.config.password):
            raise ApiError(401, "Invalid username or password", {"WWW-Authenticate": "Basic"})

    def _rate_limit(self, headers: dict[str, str]) -> None:
        wait = self.buckets.take(headers.get("authorization", ""))
        if wait > 0:
            retry_after = str(max(1, math.ceil(wait)))
            raise ApiError(429, "Too Many Requests: 2 requests per second", {"Retry-After": retry_after})

    # -- routes ----------------------------------------------------------------------------------------

    def _route(self, path: str, query: list[tuple[str, str]]) -> Response:
        if self.replay is not None:
            return self._replayed(path, query)
        if path == "/v1/courses":
            return Response(200, encode(self.payloads.courses(_values(query, "region_codes") or None)))
        if path == "/v1/courses/regions":
            return Response(200, encode(self.payloads.regions()))
        if path == "/v1/racecards/pro":
            return Response(200, self._racecards(query))
        if path == "/v1/results":
            return Response(200, self._results(query))
        match = re.fullmatch(r"/v1/results/([^/]+)", path)
        if match:
            return Response(200, encode(self._result(match.group(1))))
        match = re.fullmatch(r"/v1/horses/([^/]+)/pro", path)
        if match:
            profile = self.payloads.horse_pro(match.group(1))
            if profile is None:
                raise ApiError(404, f"Horse {match.group(1)} not found")
            return Response(200, encode(profile))
        raise ApiError(404, "Not Found")

    def _replayed(self, path: str, query: list[tuple[str, str]]) -> Response:
        params: dict[str, list[str]] = {}
        for key, value in query:
            params.setdefault(key, []).append(value)
        recording = self.replay.find(path, params)
        if recording is None:
            unreadable = "".join(f"; unreadable: {reason}" for reason in self.replay.problems.values())
            raise ApiError(
                404, f"No recording for GET {describe_request(path, params)} in {self.replay.directory}{unreadable}"
            )
        content_type = "application/json" if recording.is_json else "text/plain"
        return Response(recording.status, recording.payload(), content_type)

    def _racecards(self, query: list[tuple[str, str]]) -> bytes:
        limit = _int_param(query, "limit", RACECARDS_DEFAULT_LIMIT, 1, RACECARDS_MAX_LIMIT)
        skip = _int_param(query, "skip", 0, 0, RACECARDS_MAX_SKIP)
        now = self.clock.now()
        day = _date_param(query, "date") or now.date()
        latest = now.date() + timedelta(days=RACECARD_DAYS_AHEAD)
        if day > latest:
            message = f"Racecards are available up to {RACECARD_DAYS_AHEAD} days in advance (latest {latest})"
            raise invalid("date", message, "value_error", str(day))
        if day < self.config.racecard_history_from:
            races = ()
        else:
            races = self._encoded_racecards(day, timeline.racecard_instant(day, now))
        races = _filtered(races, _values(query, "region_codes"), _values(query, "course_ids"))
        return _page("racecards", races, limit, skip, query)

    def _results(self, query: list[tuple[str, str]]) -> bytes:
        limit = _int_param(query, "limit", RESULTS_DEFAULT_LIMIT, 1, RESULTS_MAX_LIMIT)
        skip = _int_param(query, "skip", 0, 0, RESULTS_MAX_SKIP)
        now = self.clock.now()
        now_ts = now.timestamp()
        start = _date_param(query, "start_date")
        end = _date_param(query, "end_date")
        start = start or end or now.date() - timedelta(days=1)
        end = end or start
        if end < start:
            raise invalid("end_date", "end_date must not be before start_date", "value_error", str(end))
        races: list[EncodedRace] = []
        day = min(end, now.date())
        while day >= start:
            races.extend(race for race in self._encoded_results(day) if race.published_ts <= now_ts)
            day -= timedelta(days=1)
        races = _filtered(races, _values(query, "region"), _values(query, "course"))
        return _page("results", races, limit, skip, query)

    def _result(self, race_id: str) -> dict:
        race = self.world.race(race_id)
        published = None if race is None else self.result_published_at(race_id)
        if published is None or self.clock.now() < published:
            raise ApiError(404, f"Result {race_id} not found")
        return self.payloads.result(race)


def _values(query: list[tuple[str, str]], key: str) -> list[str]:
    return [v for k, v in query if k == key and v != ""]


def _encode_day(races) -> tuple[EncodedRace, ...]:
    return tuple(EncodedRace(race["region"], race["course_id"], encode(race)) for race in races)


def _filtered(races, regions: list[str], course_ids: list[str]) -> list[EncodedRace]:
    wanted_regions = {r.upper() for r in regions}
    wanted_courses = set(course_ids)
    return [
        race
        for race in races
        if (not wanted_regions or race.region in wanted_regions)
        and (not wanted_courses or race.course_id in wanted_courses)
    ]


def _page(key: str, races: list[EncodedRace], limit: int, skip: int, query: list[tuple[str, str]]) -> bytes:
    """The paging envelope, byte for byte what ``encode`` would give for the whole dict."""
    items = b",".join(race.body for race in races[skip : skip + limit])
    tail = encode({"total": len(races), "limit": limit, "skip": skip, "query": [[k, v] for k, v in query]})
    return b'{"' + key.encode() + b'":[' + items + b"]," + tail[1:]


def _int_param(query: list[tuple[str, str]], key: str, default: int, low: int, high: int) -> int:
    values = _values(query, key)
    if not values:
        return default
    raw = values[-1]
    try:
        value = int(raw)
    except ValueError:
        raise invalid(
            key, "Input should be a valid integer, unable to parse string as an integer", "int_parsing", raw
        ) from None
    if value < low:
        raise invalid(
            key, f"Input should be greater than or equal to {low}", "greater_than_equal", raw, ge=low
        )
    if value > high:
        raise invalid(key, f"Input should be less than or equal to {high}", "less_than_equal", raw, le=high)
    return value


def _date_param(query: list[tuple[str, str]], key: str) -> date | None:
    values = _values(query, key)
    if not values:
        return None
    try:
        return date.fromisoformat(values[-1])
    except ValueError:
        raise invalid(key, "Invalid date format, expected YYYY-MM-DD", "value_error", values[-1]) from None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "RacingApiSimulator/1.0"

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        app: SimulatorApp = self.server.app  # type: ignore[attr-defined]
        headers = {k.lower(): v for k, v in self.headers.items()}
        response, delay = app.handle(self.path, headers)
        if delay:
            time.sleep(delay)
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(response.body)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - signature of the base class
        log.debug("%s - %s", self.address_string(), format % args)


class SimulatorServer:
    """Serves a :class:`SimulatorApp` on ``host:port`` (0 = any free port) from a daemon thread.

    Use as a context manager, or call :meth:`start` / :meth:`stop`. ``url`` is the base URL for the client.
    """

    def __init__(self, config: SimulatorConfig | None = None, host: str = "127.0.0.1", port: int = 0):
        self.config = config or SimulatorConfig()
        self.app = SimulatorApp(self.config)
        self._httpd = ThreadingHTTPServer((host, port), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.app = self.app  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return self._httpd.server_address[0]

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> SimulatorServer:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever, args=(0.05,), name="racing-api-simulator", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    @property
    def clock(self) -> SimulatorClock:
        """The simulated clock; tests move it in-process (``set``, ``advance``) while the server answers."""
        return self.app.clock

    def stats(self) -> dict:
        """``{"requests": [(t_monotonic, path, status), ...], "total": n, "by_status": {...}}`` for /v1."""
        return self.app.stats()

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
