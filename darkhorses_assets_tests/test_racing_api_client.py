"""RacingApiResource against the real simulator over HTTP: paging, retries, errors, pacing, recording."""

from __future__ import annotations

import base64
import json
import logging
import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, timedelta

import dagster as dg
import pytest
import requests

from darkhorses_assets.racing_api import (
    RacingApiAuthError,
    RacingApiIncomplete,
    RacingApiNotFound,
    RacingApiRequestError,
    RacingApiResource,
    RacingApiUnavailable,
)
from darkhorses_assets.racing_api.client import fetch_in_order
from darkhorses_assets.racing_api.errors import RacingApiUnreachable
from darkhorses_assets.racing_api.simulator import Faults, SimulatorConfig, SimulatorServer

USER = "darkhorses"
SECRET = "s3cret-Pa55-for-tests"
SECRET_B64 = base64.b64encode(f"{USER}:{SECRET}".encode()).decode()
TODAY = date(2025, 11, 1)


@contextmanager
def simulator(rate_limit_per_s: float = 0.0, faults: Faults | None = None, **config):
    """A simulator with our test credential; rate limit off unless a test is about pacing."""
    cfg = SimulatorConfig(seed=7, username=USER, password=SECRET, rate_limit_per_s=rate_limit_per_s,
                          faults=faults or Faults(), today=TODAY, **config)
    with SimulatorServer(cfg, host="127.0.0.1", port=0) as sim:
        yield sim


def client(sim, **overrides) -> RacingApiResource:
    """A fast client: no pacing to speak of, short backoff, a small retry budget."""
    settings = dict(base_url=sim.url, username=USER, password=SECRET, requests_per_second=1000.0,
                    retry_initial_wait_s=0.01, retry_max_wait_s=0.1, max_attempts=5, max_retry_seconds=15.0,
                    timeout_s=5.0)
    return RacingApiResource(**{**settings, **overrides})


def server_log(sim) -> list[tuple[float, str, int]]:
    """The simulator's own request log, read over HTTP: (monotonic time, path, status) per /v1 request."""
    stats = requests.get(f"{sim.url}/_simulator/stats", timeout=5).json()
    return [tuple(entry) for entry in stats["requests"]]


@dataclass(frozen=True)
class Days:
    busy: date  # more than 50 GB+IRE races: results need a second page
    quiet: date  # 26..50 races: one page of 50, two pages of 25


@pytest.fixture(scope="module")
def days() -> Days:
    """Pick the days from the simulated world rather than hard-coding volumes it may change."""
    busy = quiet = None
    with simulator() as sim:
        api = client(sim)
        for back in range(1, 90):
            day = TODAY - timedelta(days=back)
            total = api.get_json("/v1/results", {"start_date": day, "end_date": day, "region": ["gb", "ire"],
                                                 "limit": 1}).body["total"]
            if total > 50:
                busy = busy or day
            elif total > 25:
                quiet = quiet or day
            if busy and quiet:
                return Days(busy, quiet)
    pytest.fail(f"the seed-7 world has no day with more than 50 races in the 90 days before {TODAY}")


def rows(pages, key="results") -> list[dict]:
    return [row for page in pages if page.body is not None for row in page.body[key]]


def assert_complete(pages, key="results"):
    total = pages[0].body["total"]
    assert all(page.ok and page.status == 200 for page in pages)
    assert len(rows(pages, key)) == total
    assert len({row["race_id"] for row in rows(pages, key)}) == total
    return total


# -- happy paths ---------------------------------------------------------------------------------------------


def test_busy_day_is_paged_until_total(days):
    with simulator() as sim:
        pages = client(sim).fetch_results_day(days.busy)
        assert assert_complete(pages) > 50
        assert [page.params["skip"] for page in pages] == ["0", "50"]
        assert pages[0].params == {"start_date": days.busy.isoformat(), "end_date": days.busy.isoformat(),
                                   "region": ["gb", "ire"], "limit": "50", "skip": "0"}
        assert pages[0].request == {"path": "/v1/results", "params": pages[0].params}
        assert pages[0].fetched_at.tzinfo is UTC
        assert {row["region"] for row in rows(pages)} <= {"GB", "IRE"}
        assert len(server_log(sim)) == 2


@pytest.mark.parametrize("page_size", [7, 25, 50])
def test_paging_math_for_any_page_size(days, page_size):
    with simulator() as sim:
        pages = client(sim).fetch_results_day(days.quiet, page_size=page_size)
        total = assert_complete(pages)
        assert len(pages) == len(server_log(sim)) == -(-total // page_size)
        assert [int(page.params["skip"]) for page in pages] == list(range(0, total, page_size))


def test_a_full_single_page_needs_no_second_request(days):
    with simulator() as sim:
        api = client(sim)
        total = api.fetch_results_day(days.quiet)[0].body["total"]
        pages = api.fetch_results_day(days.quiet, page_size=total)
        assert assert_complete(pages) == total
        assert len(server_log(sim)) == 2


def test_racecards_courses_and_horse_profiles():
    with simulator() as sim:
        api = client(sim)
        cards = api.fetch_racecards_day(TODAY)
        assert assert_complete(cards, "racecards") > 0
        assert cards[0].params["region_codes"] == ["gb", "ire"]
        assert cards[0].params["limit"] == "500"

        courses = api.fetch_courses()
        assert courses.body["total"] == len(courses.body["courses"]) > 0
        assert {c["region_code"] for c in courses.body["courses"]} <= {"gb", "ire"}

        horse_id = rows(cards, "racecards")[0]["runners"][0]["horse_id"]
        profile = api.fetch_horse_pro(horse_id)
        assert profile.body["id"] == horse_id
        assert api.fetch_horse_pro("hrs_999999999") is None


def test_fetch_many_from_threads_matches_sequential_fetches():
    dates = [TODAY - timedelta(days=back) for back in range(1, 8)]
    with simulator() as sim:
        api = client(sim)
        parallel = api.fetch_many(dates, api.fetch_results_day, max_workers=3)
        sequential = [api.fetch_results_day(day) for day in dates]
    bodies = [[page.body for page in pages] for pages in parallel]
    assert bodies == [[page.body for page in pages] for pages in sequential]


def test_fetch_in_order_has_two_requests_in_flight_and_yields_in_order():
    """Each fetch waits until a second one is running: one at a time, the barrier breaks and the test fails."""
    both_running = threading.Barrier(2, timeout=5)
    finish_order = []

    def fetch(item: int) -> int:
        both_running.wait()
        time.sleep(0.05 * (item % 2 == 0))  # the even item of each pair finishes last
        finish_order.append(item)
        return item * 10

    assert list(fetch_in_order(range(6), fetch)) == [0, 10, 20, 30, 40, 50]
    assert finish_order != sorted(finish_order)


def test_fetch_until_error_keeps_what_came_before_the_failure():
    with simulator() as sim:
        api = client(sim)
        horse_ids = [race["runners"][0]["horse_id"] for race in rows(api.fetch_racecards_day(TODAY), "racecards")][:4]

        def fetch(horse_id: str):
            if horse_id == "bad":
                return api.get_json("/v1/results", {"limit": 9999})
            return api.fetch_horse_pro(horse_id)

        pages, error = api.fetch_until_error([*horse_ids[:2], "bad", *horse_ids[2:]], fetch)
        assert [page.body["id"] for page in pages] == horse_ids[:2]
        assert isinstance(error, RacingApiRequestError)
        assert api.fetch_until_error(horse_ids, api.fetch_horse_pro)[1] is None


# -- transient faults are retried until every row is in ------------------------------------------------------


@pytest.mark.parametrize(
    "kind, expected_status",
    [("429", 429), ("500", 500), ("502", 502), ("503", 503), ("5xx", None), ("slow", None),
     ("truncated", 200), ("malformed", 200)],
)
def test_transient_faults_are_retried_and_no_row_is_lost(days, kind, expected_status):
    faults = Faults(fail_first={kind: 2}, slow_seconds=3.0)
    with simulator(faults=faults) as sim:
        # A timeout well above a loaded machine's answer time (tests run two at a time), under the slow answers'.
        pages = client(sim, timeout_s=1.5).fetch_results_day(days.quiet, page_size=25)
        assert len(pages) == 2
        assert_complete(pages)
        log = server_log(sim)
    assert len(log) == 2 + 2  # two faulty answers, then both pages
    if expected_status:
        assert [status for _, _, status in log[:2]] == [expected_status] * 2


def test_low_rate_of_every_fault_still_yields_complete_days(days):
    faults = Faults(rate_429=0.05, rate_5xx=0.1, rate_truncated=0.1, rate_malformed=0.1, seed=3)
    with simulator(faults=faults) as sim:
        api = client(sim, max_attempts=8)
        for day in (days.busy, days.quiet):
            assert_complete(api.fetch_results_day(day, page_size=10))
        statuses = {status for _, _, status in server_log(sim)}
    assert statuses - {200}, "the seed should have injected at least one status fault"


def test_extra_and_missing_fields_are_passed_through_untouched(days):
    with simulator(faults=Faults(rate_extra_fields=1.0, rate_missing_fields=1.0)) as sim:
        pages = client(sim).fetch_results_day(days.quiet)
    assert_complete(pages)
    assert all("sim_unknown_field" in race for race in rows(pages))


# -- persistent faults fail fast and clearly -----------------------------------------------------------------


@pytest.mark.parametrize("faults", [Faults(rate_5xx=1.0), Faults(rate_429=1.0)], ids=["5xx", "429"])
def test_persistent_failures_raise_unavailable_within_the_budget(days, faults):
    with simulator(faults=faults) as sim:
        api = client(sim, max_attempts=3)
        started = time.monotonic()
        with pytest.raises(RacingApiUnavailable) as raised:
            api.fetch_results_day(days.quiet)
        elapsed = time.monotonic() - started
        assert len(server_log(sim)) == 3
    message = str(raised.value)
    assert f"/v1/results?start_date={days.quiet}" in message and "after 3 attempts" in message
    assert "HTTP 5" in message or "HTTP 429" in message
    assert elapsed < 5  # Retry-After is 1 s for 429/503; two waits at most


@pytest.mark.parametrize(("error", "retryable"), [
    (RacingApiAuthError, False), (RacingApiRequestError, False), (RacingApiNotFound, False),
    (RacingApiIncomplete, False), (RacingApiUnreachable, False), (RacingApiUnavailable, True),
])
def test_each_error_says_whether_a_later_retry_can_help(error, retryable):
    assert error("x").retryable is retryable


def closed_port_url(userinfo: str = "") -> str:
    """A loopback URL nobody listens on (the port is bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://{userinfo}127.0.0.1:{port}"


@contextmanager
def hanging_up_server():
    """A real TCP server that accepts each connection and closes it at once: a connection dropped mid-request."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve():
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        server.close()


def unreachable_client(base_url: str, **overrides) -> RacingApiResource:
    settings = dict(base_url=base_url, username=USER, password=SECRET, requests_per_second=1000.0,
                    retry_initial_wait_s=0.01, retry_max_wait_s=0.05, max_attempts=3, timeout_s=5.0)
    return RacingApiResource(**{**settings, **overrides})


def test_connection_refused_after_the_retries_names_racing_api_base_url_and_hides_userinfo():
    base_url = closed_port_url("someone:" + SECRET + "@")
    with pytest.raises(RacingApiUnreachable) as raised:
        unreachable_client(base_url).fetch_courses()
    message = str(raised.value)
    shown = base_url.replace("someone:" + SECRET + "@", "")
    assert message.startswith(f"Cannot reach the Racing API at {shown} (RACING_API_BASE_URL): the connection was "
                              "refused (3 attempt(s)")
    assert "Check RACING_API_BASE_URL" in message and "https://api.theracingapi.com" in message
    assert SECRET not in message and raised.value.retryable is False


def test_an_unknown_host_and_a_malformed_base_url_name_racing_api_base_url():
    with pytest.raises(RacingApiUnreachable, match=r"nonexistent\.invalid \(RACING_API_BASE_URL\): its host name "
                       r"does not resolve \(3 attempt"):
        unreachable_client("http://nonexistent.invalid").fetch_courses()
    with pytest.raises(RacingApiUnreachable, match=r"at 127\.0\.0\.1:9 \(RACING_API_BASE_URL\): it is not a usable "
                       r"URL \(InvalidSchema\) \(1 attempt"):
        unreachable_client("127.0.0.1:9").fetch_courses()


def test_results_total_names_racing_api_base_url_after_its_one_attempt():
    with pytest.raises(RacingApiUnreachable, match=r"BASE_URL\): the connection was refused \(1 attempt"):
        unreachable_client(closed_port_url()).results_total(TODAY)


def test_a_dropped_connection_stays_transient():
    with hanging_up_server() as base_url:
        with pytest.raises(RacingApiUnavailable) as raised:
            unreachable_client(base_url).fetch_courses()
    assert not isinstance(raised.value, RacingApiUnreachable) and raised.value.retryable
    assert "after 3 attempts" in str(raised.value) and "Connection aborted" in str(raised.value)


def test_retry_budget_in_seconds_stops_before_sleeping_past_it():
    with simulator(faults=Faults(rate_429=1.0)) as sim:
        api = client(sim, max_attempts=100, max_retry_seconds=1.5)
        started = time.monotonic()
        with pytest.raises(RacingApiUnavailable):
            api.get_json("/v1/courses", {"region_codes": ["gb"]})
        assert time.monotonic() - started < 2.5
        assert len(server_log(sim)) == 2  # Retry-After: 1 fits once in 1.5 s, not twice


def test_persistently_unparseable_body_is_returned_verbatim_not_raised():
    with simulator(faults=Faults(rate_truncated=1.0)) as sim:
        page = client(sim, max_attempts=2).get_json("/v1/courses", {"region_codes": ["gb", "ire"]})
    assert page.status == 200 and page.body is None and not page.ok
    assert page.error.startswith("invalid JSON")
    assert page.text.startswith('{"courses":')


def test_unparseable_page_is_kept_and_paging_continues(days):
    with simulator(faults=Faults(fail_first={"malformed": 2})) as sim:
        pages = client(sim, max_attempts=2).fetch_results_day(days.quiet, page_size=25)
    first, second = pages
    assert first.body is None and first.params["skip"] == "0" and "invalid JSON" in first.error
    assert first.text.startswith("{'results\":[")  # verbatim, corruption included
    total = second.body["total"]
    assert second.ok and len(second.body["results"]) == total - 25


def test_short_page_raises_incomplete(days, tmp_path):
    """Replay a recording with one race removed: the client must notice the page is short of ``total``."""
    with simulator() as sim:
        total = client(sim, record_dir=str(tmp_path)).fetch_results_day(days.busy)[0].body["total"]
    first = next(f for f in tmp_path.glob("*.json") if "skip-0" in f.name)
    record = json.loads(first.read_text())
    record["body"]["results"].pop()
    first.write_text(json.dumps(record))
    with simulator(replay_dir=str(tmp_path)) as replay:
        with pytest.raises(RacingApiIncomplete, match=f"got 49 results where total={total} implies 50"):
            client(replay).fetch_results_day(days.busy)


# -- non-retryable answers -----------------------------------------------------------------------------------


def test_bad_credentials_raise_an_actionable_auth_error_without_the_secret(caplog):
    caplog.set_level(logging.DEBUG)
    with simulator() as sim:
        api = client(sim, password="wrong-" + SECRET)
        with pytest.raises(RacingApiAuthError) as raised:
            api.fetch_courses()
        assert [status for _, _, status in server_log(sim)] == [401]
    message = str(raised.value)
    assert "RACING_API_USERNAME / RACING_API_PASSWORD" in message and "/v1/courses" in message
    for text in (message, repr(raised.value), repr(api), str(api), caplog.text):
        assert SECRET not in text and SECRET_B64 not in text
    assert api.username not in repr(api) and api.username not in str(api)


def test_invalid_parameters_raise_request_error_without_retrying():
    with simulator() as sim:
        with pytest.raises(RacingApiRequestError) as raised:
            client(sim).get_json("/v1/results", {"start_date": "2025-10-07", "limit": 51})
        assert [status for _, _, status in server_log(sim)] == [422]
    message = str(raised.value)
    assert "/v1/results?start_date=2025-10-07&limit=51" in message
    assert "less than or equal to 50" in message


# -- pacing --------------------------------------------------------------------------------------------------


def test_limiter_keeps_three_threads_within_two_requests_per_second():
    """12 requests from 3 threads (3 resource instances) at 2/s, counted by the simulator itself."""
    with simulator(rate_limit_per_s=2.0) as sim:
        resources = [client(sim, requests_per_second=2.0) for _ in range(3)]

        def work(api):
            for _ in range(4):
                api.get_json("/v1/courses", {"region_codes": ["gb"]})

        threads = [threading.Thread(target=work, args=(api,)) for api in resources]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        log = server_log(sim)

    times = sorted(t for t, _, _ in log)
    assert len(times) == 12
    assert all(status == 200 for _, _, status in log), "our own pacing must never earn a 429"
    jitter = 0.1  # arrival times wobble with scheduling; the slots handed out are exactly 0.5 s apart
    for i, start in enumerate(times):
        assert sum(1 for t in times[i:] if t - start < 1.0 - jitter) <= 2
    assert times[-1] - times[0] < 11 * 0.5 + 1.0, "acquire() should not wait longer than needed"


# -- recording and replay ------------------------------------------------------------------------------------


def test_record_mode_writes_one_file_per_request_and_replay_serves_them_back(days, tmp_path):
    with simulator() as sim:
        api = client(sim, record_dir=str(tmp_path))
        pages = api.fetch_results_day(days.busy)
        courses = api.fetch_courses()
        assert api.fetch_horse_pro("hrs_999999999") is None
        requests_made = len(server_log(sim))

    files = sorted(tmp_path.glob("*.json"))
    assert len(files) == requests_made == 4
    for file in files:
        text = file.read_text()
        assert SECRET not in text and SECRET_B64 not in text
        record = json.loads(text)
        assert set(record) == {"path", "params", "status", "body"}
    first = json.loads(next(f for f in files if "skip-0" in f.name).read_text())
    assert first["path"] == "/v1/results" and first["status"] == 200
    assert first["params"] == pages[0].params and first["body"] == pages[0].body

    with simulator(replay_dir=str(tmp_path)) as replay:
        again = client(replay)
        assert [p.body for p in again.fetch_results_day(days.busy)] == [p.body for p in pages]
        assert again.fetch_courses().body == courses.body
        assert again.fetch_horse_pro("hrs_999999999") is None


def test_unparseable_body_is_recorded_as_text(tmp_path):
    with simulator(faults=Faults(rate_truncated=1.0)) as sim:
        page = client(sim, max_attempts=1, record_dir=str(tmp_path)).fetch_courses()
    (file,) = tmp_path.glob("*.json")
    record = json.loads(file.read_text())
    assert record["status"] == 200 and record["body_text"] == page.text and "body" not in record


# -- inside Dagster ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("password", [SECRET, "wrong-" + SECRET], ids=["success", "auth-failure"])
def test_secret_stays_out_of_dagster_events_and_logs(monkeypatch, caplog, password):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("RACING_API_USERNAME", USER)
    monkeypatch.setenv("RACING_API_PASSWORD", password)

    @dg.asset
    def courses(racing_api: RacingApiResource) -> dg.MaterializeResult:
        page = racing_api.fetch_courses()
        return dg.MaterializeResult(metadata={"request": page.request, "rows": len(page.body["courses"])})

    with simulator() as sim:
        api = RacingApiResource(base_url=sim.url, username=dg.EnvVar("RACING_API_USERNAME"),
                                password=dg.EnvVar("RACING_API_PASSWORD"))
        result = dg.materialize([courses], resources={"racing_api": api}, raise_on_error=False)

    assert result.success is (password == SECRET)
    events = "\n".join(repr(event) for event in result.all_events)
    if not result.success:
        assert "RACING_API_USERNAME / RACING_API_PASSWORD" in events
    for text in (events, caplog.text, repr(api)):
        assert SECRET not in text and SECRET_B64 not in text
