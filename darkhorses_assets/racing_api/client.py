"""Dagster resource for The Racing API: paced, retried, paged GETs that return raw pages verbatim.

Every attempt first takes a slot from the process-wide limiter for the credential (see ``limiter.py``).
Transient failures — 429, 5xx, timeouts, connection errors and bodies that are not the expected JSON — are
retried with exponential backoff and jitter (never sooner than ``Retry-After``), bounded by ``max_attempts``
and ``max_retry_seconds``. Other 4xx answers raise at once. A server that could not be reached at all on any
attempt (connection refused, unknown host) raises RacingApiUnreachable naming RACING_API_BASE_URL. A body that
still cannot be parsed after the retries is returned as an :class:`ApiPage` carrying the raw text and the error,
so the raw layer can store it and fail a check instead of dropping data.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import quote, urlencode, urlsplit
from zoneinfo import ZoneInfo

import dagster as dg
import requests
from pydantic import Field, PrivateAttr
from tenacity import (
    RetryCallState,
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_before_delay,
    wait_exponential,
    wait_random,
)
from urllib3.exceptions import NameResolutionError, NewConnectionError

from .errors import (
    MISSING_CREDENTIALS,
    RacingApiAuthError,
    RacingApiCredentialsMissing,
    RacingApiError,
    RacingApiIncomplete,
    RacingApiNotFound,
    RacingApiRequestError,
    RacingApiUnavailable,
    RacingApiUnreachable,
)
from .limiter import TokenBucket, shared_bucket
from .recording import write_recording

__all__ = ["ApiPage", "RacingApiResource"]

log = dg.get_dagster_logger("darkhorses.racing_api")

Params = dict[str, str | list[str]]
T = TypeVar("T")
R = TypeVar("R")

BASE_URL_ENV = "RACING_API_BASE_URL"
DEFAULT_BASE_URL = "https://api.theracingapi.com"
RESULTS_PAGE_LIMIT = 50
RESULTS_MAX_SKIP = 20000
RACECARDS_PAGE_LIMIT = 500
RACECARDS_MAX_SKIP = 500
STANDARD_PLAN_RESULTS_MONTHS = 12
"""How far back `/v1/results` reaches on the Standard plan; older dates need the paid history add-on."""
RESULTS_HISTORY_FROM_ENV = "DARKHORSES_RESULTS_HISTORY_FROM"
_UK = ZoneInfo("Europe/London")

_TRANSIENT_EXCEPTIONS = (
    requests.exceptions.Timeout,
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


@dataclass(frozen=True)
class ApiPage:
    """One API response as received.

    ``body`` is the parsed JSON; when the body could not be parsed (or lacked the expected envelope keys)
    after every retry, ``body`` is None, ``text`` holds the raw text and ``error`` says what was wrong.
    """

    path: str
    params: Params
    status: int
    fetched_at: datetime
    body: dict | list | None
    text: str | None = None
    error: str | None = None

    @property
    def request(self) -> dict[str, Any]:
        """Path and params, for the raw tables' ``request`` column (never credentials)."""
        return {"path": self.path, "params": self.params}

    @property
    def ok(self) -> bool:
        return self.error is None


class _Transient(Exception):
    """A failed attempt worth retrying; ``page`` is set when a 2xx body was unusable, ``unreachable`` says why
    no connection could be made at all (refused, unknown host)."""

    def __init__(self, reason: str, status: int | None = None, retry_after: float | None = None,
                 page: ApiPage | None = None, unreachable: str | None = None):
        super().__init__(reason)
        self.status = status
        self.retry_after = retry_after
        self.page = page
        self.unreachable = unreachable


def _unreachable(exc: Exception) -> str | None:
    """Why no connection could be made, for errors that never reached a server; None for timeouts and drops."""
    if not isinstance(exc, requests.exceptions.ConnectionError) or isinstance(exc, requests.exceptions.Timeout):
        return None
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    if isinstance(reason, NameResolutionError):
        return "its host name does not resolve"
    if isinstance(reason, NewConnectionError):
        return "the connection was refused" if "refused" in str(reason).lower() else "no connection could be made"
    return None


def _without_userinfo(url: str) -> str:
    """The URL without any `user:password@` (the base URL is shown in errors; credentials go in headers)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.rpartition("@")[2]
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()


class _BackoffOrRetryAfter:
    """Exponential backoff with jitter, but never shorter than the server's ``Retry-After``."""

    def __init__(self, initial: float, maximum: float):
        self._backoff = wait_exponential(multiplier=initial, max=maximum) + wait_random(0, initial)

    def __call__(self, retry_state: RetryCallState) -> float:
        failure = retry_state.outcome.exception() if retry_state.outcome else None
        retry_after = getattr(failure, "retry_after", None) or 0.0
        return max(self._backoff(retry_state), retry_after)


def describe(path: str, params: Mapping[str, Any]) -> str:
    """``/v1/results?start_date=…&region=gb&region=ire`` — how requests are named in logs and errors."""
    return f"{path}?{urlencode(params, doseq=True)}" if params else path


def _normalise(params: Mapping[str, Any] | None) -> Params:
    out: Params = {}
    for key, value in (params or {}).items():
        if value is None:
            continue
        if isinstance(value, list | tuple | set | frozenset):
            out[key] = [str(v) for v in value]
        else:
            out[key] = str(value)
    return out


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


def _http_error(status: int, path: str, name: str, body: Any, text: str | None) -> RacingApiError:
    """The exception for a non-retryable answer; ``detail`` is the API's own explanation."""
    error = _http_error_for(status, path, name, body, text)
    error.status = status
    return error


def _http_error_for(status: int, path: str, name: str, body: Any, text: str | None) -> RacingApiError:
    if status in (401, 403):
        return RacingApiAuthError(
            f"The Racing API rejected the credentials ({status}): set RACING_API_USERNAME / "
            f"RACING_API_PASSWORD, or check your plan covers {path}."
        )
    detail = body.get("detail", body) if isinstance(body, dict) else body if body is not None else text
    detail = (detail if isinstance(detail, str) else json.dumps(detail))[:500]
    if status == 404:
        return RacingApiNotFound(f"GET {name}: not found (404): {detail}")
    return RacingApiRequestError(
        f"The Racing API refused GET {name} ({status}): {detail}. Fix the request; it is not retried."
    )


def standard_plan_results_from(today: date) -> date:
    """The oldest result date the Standard plan covers on `today` (UK): the same day 12 months earlier."""
    try:
        return today.replace(year=today.year - STANDARD_PLAN_RESULTS_MONTHS // 12)
    except ValueError:  # 29 February
        return today.replace(year=today.year - STANDARD_PLAN_RESULTS_MONTHS // 12, day=28)


def _envelope_problem(body: Any, expect_keys: Sequence[str]) -> str | None:
    if not expect_keys:
        return None
    if not isinstance(body, dict):
        return f"expected a JSON object with {list(expect_keys)}, got {type(body).__name__}"
    missing = [key for key in expect_keys if key not in body]
    return f"response lacks {missing}" if missing else None


def fetch_in_order(items: Iterable[T], fetch_fn: Callable[[T], R], max_workers: int = 2) -> Iterator[R]:
    """``fetch_fn(item)`` for each item, yielded in order as soon as it (and every item before it) is done.

    ``max_workers`` requests are in flight at once, so the shared limiter's next slot is taken while the
    previous answer is still on its way or being read: a server that takes longer to answer than the
    limiter's interval does not leave slots unused. The first error is raised in order, after unstarted
    items are cancelled.
    """
    pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="racing-api")
    try:
        yield from pool.map(fetch_fn, items)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


class RacingApiResource(dg.ConfigurableResource):
    """HTTP Basic client for https://api.theracingapi.com (GB + IRE).

    Pass credentials as ``EnvVar("RACING_API_USERNAME")`` / ``EnvVar("RACING_API_PASSWORD")``; the password
    is excluded from repr/str, logs, recordings and error messages. Safe to share between threads.
    """

    base_url: str = Field(default=DEFAULT_BASE_URL, description=f"API root; from {BASE_URL_ENV} in the definitions.")
    username: str = Field(repr=False, description="API username; pass EnvVar('RACING_API_USERNAME').")
    password: str = Field(repr=False, description="API password; pass EnvVar('RACING_API_PASSWORD').")
    requests_per_second: float = 2.0
    burst: int = Field(default=1, description="Requests allowed back to back; 1 keeps any 1 s window ≤ rate.")
    timeout_s: float = 20.0
    max_attempts: int = 8
    max_retry_seconds: float = Field(
        default=180.0, description="No new attempt starts later than this many seconds after the first."
    )
    retry_initial_wait_s: float = 0.5
    retry_max_wait_s: float = 30.0
    record_dir: str | None = Field(
        default=None, description="If set, each final response is written here in the replay format."
    )
    regions: list[str] = ["gb", "ire"]

    _session: requests.Session | None = PrivateAttr(default=None)
    _session_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    # -- plumbing -------------------------------------------------------------------------------------------

    @property
    def _bucket(self) -> TokenBucket:
        return shared_bucket(self.base_url, self.username, self.requests_per_second, self.burst)

    def _get_session(self) -> requests.Session:
        with self._session_lock:
            if self._session is None:
                session = requests.Session()
                session.auth = (self.username, self.password)
                session.headers.update({"Accept": "application/json", "User-Agent": "darkhorses/0.1"})
                self._session = session
            return self._session

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        with self._session_lock:
            if self._session is not None:
                self._session.close()
                self._session = None

    def _record(self, page: ApiPage) -> None:
        if not self.record_dir:
            return
        body = page.body if page.error is None else None
        write_recording(self.record_dir, page.path, page.params, page.status, body, body_text=page.text)

    def _send(self, path: str, params: Params, attempt: int, expect_keys: Sequence[str]) -> ApiPage:
        """One attempt: returns a usable page, raises ``_Transient`` to retry, or a RacingApiError to stop."""
        if not (self.username and self.password):
            raise RacingApiCredentialsMissing(MISSING_CREDENTIALS)
        name = describe(path, params)
        bucket = self._bucket
        bucket.acquire()
        started = time.monotonic()
        try:
            response = self._get_session().get(self.base_url.rstrip("/") + path, params=params,
                                               timeout=self.timeout_s)
            content = response.content
        except _TRANSIENT_EXCEPTIONS as exc:
            log.info("GET %s -> %s (attempt %d, %.2fs)", name, type(exc).__name__, attempt,
                     time.monotonic() - started)
            raise _Transient(f"{type(exc).__name__}: {exc}", unreachable=_unreachable(exc)) from exc
        except requests.exceptions.RequestException as exc:  # InvalidURL, MissingSchema, InvalidSchema, ...
            raise self._unreachable_error(f"it is not a usable URL ({type(exc).__name__})", 1, 0.0) from None
        status = response.status_code
        log.info("GET %s -> %d (attempt %d, %.2fs)", name, status, attempt, time.monotonic() - started)
        fetched_at = datetime.now(UTC)

        if status == 429 or status >= 500:
            retry_after = _retry_after_seconds(response.headers.get("Retry-After"))
            if status == 429 and retry_after:
                bucket.pause(retry_after)
            raise _Transient(f"HTTP {status}", status=status, retry_after=retry_after)

        try:
            body, problem = json.loads(content), None
        except ValueError as exc:
            body, problem = None, f"invalid JSON: {exc}"
        text = None if body is not None else content.decode("utf-8", errors="replace")
        if not 200 <= status < 300:
            self._record(ApiPage(path, params, status, fetched_at, body, text))
            raise _http_error(status, path, name, body, text)
        problem = problem or _envelope_problem(body, expect_keys)
        if problem:
            text = text or content.decode("utf-8", errors="replace")
            page = ApiPage(path, params, status, fetched_at, None, text, problem)
            raise _Transient(f"HTTP {status} with unusable body ({problem})", status=status, page=page)
        return ApiPage(path, params, status, fetched_at, body)

    # -- public API -----------------------------------------------------------------------------------------

    def get_json(self, path: str, params: Mapping[str, Any] | None = None, *,
                 expect_keys: Sequence[str] = ()) -> ApiPage:
        """GET ``path`` with retries.

        ``params`` values may be lists (sent as repeated keys). ``expect_keys`` names top-level keys a usable
        body must have; a body without them is treated like unparseable JSON.
        Raises RacingApiAuthError (401/403), RacingApiNotFound (404), RacingApiRequestError (other 4xx) or
        RacingApiUnavailable (retries exhausted). An unusable body after every retry is returned, not raised.
        """
        params = _normalise(params)
        name = describe(path, params)
        retrying = Retrying(
            retry=retry_if_exception_type(_Transient),
            stop=stop_after_attempt(self.max_attempts) | stop_before_delay(self.max_retry_seconds),
            wait=_BackoffOrRetryAfter(self.retry_initial_wait_s, self.retry_max_wait_s),
            before_sleep=lambda state: log.info(
                "GET %s: retrying in %.2fs after %s", name, state.upcoming_sleep, state.outcome.exception()
            ),
        )
        started = time.monotonic()
        try:
            for attempt in retrying:
                with attempt:
                    page = self._send(path, params, attempt.retry_state.attempt_number, expect_keys)
        except RetryError as exc:
            failure = exc.last_attempt.exception()
            attempts = exc.last_attempt.attempt_number
            if isinstance(failure, _Transient) and failure.page is not None:
                log.warning("GET %s: keeping an unusable body after %d attempts: %s",
                            name, attempts, failure.page.error)
                self._record(failure.page)
                return failure.page
            if isinstance(failure, _Transient) and failure.unreachable:
                raise self._unreachable_error(failure.unreachable, attempts, time.monotonic() - started) from failure
            raise RacingApiUnavailable(
                f"The Racing API did not answer GET {name} after {attempts} attempts over "
                f"{time.monotonic() - started:.0f}s (last: {failure}). Retry later, or raise max_attempts / "
                "max_retry_seconds if the API is rate-limiting or degraded."
            ) from failure
        self._record(page)
        return page

    def _unreachable_error(self, why: str, attempts: int, seconds: float) -> RacingApiUnreachable:
        return RacingApiUnreachable(
            f"Cannot reach the Racing API at {_without_userinfo(self.base_url)} ({BASE_URL_ENV}): {why} "
            f"({attempts} attempt(s) over {seconds:.0f}s). Check {BASE_URL_ENV} — unset, it is {DEFAULT_BASE_URL}; "
            "`darkhorses dev` points it at the simulator it starts — and that the server there is running."
        )

    def _results_day_params(self, day: date) -> dict[str, Any]:
        """One race date of GB/IRE results, as the API docs advise asking for them."""
        return {"start_date": day.isoformat(), "end_date": day.isoformat(), "region": self.regions}

    def fetch_results_day(self, day: date, page_size: int = RESULTS_PAGE_LIMIT) -> list[ApiPage]:
        """Every GB/IRE result for one race date, paging ``/v1/results`` until the API's ``total``.

        A 401/403/422 for a date older than the Standard plan's 12 months (the API answers both for a date outside
        the plan and, 401, for bad credentials) says so in its message and names DARKHORSES_RESULTS_HISTORY_FROM.
        """
        params = self._results_day_params(day)
        try:
            return self._fetch_all_pages("/v1/results", params, "results", page_size, RESULTS_MAX_SKIP)
        except (RacingApiAuthError, RacingApiRequestError) as error:
            plan_from = standard_plan_results_from(datetime.now(_UK).date())
            if day >= plan_from:
                raise
            plan_error = type(error)(
                f"{error} {day} is older than the {STANDARD_PLAN_RESULTS_MONTHS} months of results the Standard "
                f"plan covers (from {plan_from}): if these credentials fetch recent results, this is the plan's "
                f"limit — set {RESULTS_HISTORY_FROM_ENV}={plan_from} to skip earlier days without a request, or "
                "add the results history add-on to your plan (theracingapi.com, My Account)."
            )
            plan_error.status = error.status
            raise plan_error from error

    def results_total(self, day: date) -> int:
        """How many GB/IRE results the API holds for ``day``: one request (``limit=1``), never retried.

        For sensors that poll: a 429, 5xx, timeout or unusable body raises RacingApiUnavailable at once, so the
        tick is skipped instead of waiting out the retry budget.
        """
        params = _normalise({**self._results_day_params(day), "limit": 1, "skip": 0})
        try:
            page = self._send("/v1/results", params, 1, ("results", "total"))
        except _Transient as exc:
            if exc.unreachable:
                raise self._unreachable_error(exc.unreachable, 1, 0.0) from None
            raise RacingApiUnavailable(f"GET {describe('/v1/results', params)}: {exc}") from None
        return int(page.body["total"])

    def fetch_racecards_day(self, day: date, page_size: int = RACECARDS_PAGE_LIMIT) -> list[ApiPage]:
        """Every GB/IRE pro racecard for one date, paging ``/v1/racecards/pro`` until the API's ``total``."""
        params = {"date": day.isoformat(), "region_codes": self.regions}
        return self._fetch_all_pages("/v1/racecards/pro", params, "racecards", page_size, RACECARDS_MAX_SKIP)

    def fetch_courses(self) -> ApiPage:
        return self.get_json("/v1/courses", {"region_codes": self.regions}, expect_keys=("courses",))

    def fetch_horse_pro(self, horse_id: str) -> ApiPage | None:
        """The pro profile of one horse, or None when the API does not know the id (404)."""
        try:
            return self.get_json(f"/v1/horses/{quote(horse_id, safe='')}/pro")
        except RacingApiNotFound:
            return None

    def fetch_many(self, items: Iterable[T], fetch_fn: Callable[[T], R], max_workers: int = 2) -> list[R]:
        """``[fetch_fn(item) for item in items]`` on a small thread pool, in order.

        Two workers keep the shared limiter busy while one page is being parsed; more do not go faster.
        The first error is raised after unstarted items are cancelled.
        """
        results, error = self.fetch_until_error(items, fetch_fn, max_workers)
        if error is not None:
            raise error
        return results

    def fetch_until_error(
        self, items: Iterable[T], fetch_fn: Callable[[T], R], max_workers: int = 2
    ) -> tuple[list[R], RacingApiError | None]:
        """``fetch_many`` that returns, rather than raises, an API error: it ends the fetching without discarding it.

        Returns the results of the items before the first failed one (in order) and that error, or every
        result and None. What was fetched before an outage is kept, so no request is wasted.
        """
        results: list[R] = []
        try:
            for result in fetch_in_order(items, fetch_fn, max_workers):
                results.append(result)
        except RacingApiError as error:
            return results, error
        return results, None

    def _fetch_all_pages(self, path: str, params: Mapping[str, Any], rows_key: str, limit: int,
                         max_skip: int) -> list[ApiPage]:
        """Page with ``skip`` until the API's ``total`` and check every usable page is full.

        Unusable pages are kept and paging moves on. If the first page is unusable the total is unknown:
        the next page is fetched to learn it, and paging stops if that one is unusable too.
        """
        pages: list[ApiPage] = []
        skip, total = 0, None
        while True:
            page_params = {**params, "limit": limit, "skip": skip}
            page = self.get_json(path, page_params, expect_keys=(rows_key, "total"))
            pages.append(page)
            if page.body is not None:
                total = self._check_page(page, rows_key, limit, skip, total)
            elif total is None and len(pages) > 1:
                log.warning("GET %s: total unknown after %d unusable pages; stopping", path, len(pages))
                return pages
            skip += limit
            if total is not None and skip >= total:
                return pages
            if skip > max_skip:
                raise RacingApiIncomplete(
                    f"GET {describe(path, params)} reports {total} rows but skip may not exceed {max_skip}: "
                    "split the request (e.g. by region or course)."
                )

    @staticmethod
    def _check_page(page: ApiPage, rows_key: str, limit: int, skip: int, total: int | None) -> int:
        name = describe(page.path, page.params)
        page_total = int(page.body["total"])
        if total is not None and page_total != total:
            raise RacingApiIncomplete(
                f"GET {name}: total changed from {total} to {page_total} while paging; refetch the day."
            )
        expected = min(limit, max(page_total - skip, 0))
        received = len(page.body[rows_key])
        if received != expected:
            raise RacingApiIncomplete(
                f"GET {name}: got {received} {rows_key} where total={page_total} implies {expected}; "
                "refetch the day."
            )
        return page_total
