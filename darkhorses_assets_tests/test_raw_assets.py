"""Raw assets through Dagster, the simulator over HTTP and a real Postgres: a write never makes stored data worse.

Each case stores a partition from a healthy simulator, then asks again of a simulator whose answer is worse —
unreadable pages, or a real `200 {"results": [], "total": 0}` (a simulator whose clock says the day has not
been raced yet, or whose racecard history starts after it) — and looks at what the table holds afterwards.
"""

import threading
import time
from datetime import date, timedelta

import polars as pl
import psycopg
import pytest
from dagster import DagsterEventType, materialize

from darkhorses_assets.assets.raw import raw_courses, raw_racecards, raw_results
from darkhorses_assets.io import PostgresClient, PostgresPolarsIOManager, TableRef
from darkhorses_assets.io.warehouse import UNREADABLE_PAGES, WarehouseResource
from darkhorses_assets.partitions import today_in_uk
from darkhorses_assets.racing_api.client import RacingApiResource
from darkhorses_assets.racing_api.limiter import reset_shared_buckets
from darkhorses_assets.racing_api.simulator import Faults, SimulatorConfig, SimulatorServer

TODAY = date(2025, 10, 10)
DAY = date(2025, 10, 7)
RESULTS = TableRef("raw", "raw_results")


def _simulator(today: date = TODAY, faults: Faults | None = None, **config) -> SimulatorServer:
    return SimulatorServer(
        SimulatorConfig(today=today, rate_limit_per_s=0, faults=faults or Faults(), **config), port=0
    )


def _run(asset, sim: SimulatorServer, url: str, day: date | None = DAY, config: dict | None = None,
         regions: tuple[str, ...] = ("gb", "ire")):
    """One materialization of `asset` with a fast-retrying client (2 attempts per page)."""
    resources = {
        "io_manager": PostgresPolarsIOManager(database_url=url),
        "warehouse": WarehouseResource(database_url=url),
        "racing_api": RacingApiResource(base_url=sim.url, username=sim.config.username,
                                        password=sim.config.password, requests_per_second=1000,
                                        max_attempts=2, retry_initial_wait_s=0.01, retry_max_wait_s=0.05,
                                        regions=list(regions)),
    }
    run_config = {"ops": {asset.op.name: {"config": config}}} if config else None
    return materialize([asset], partition_key=day.isoformat() if day else None, resources=resources,
                       run_config=run_config, raise_on_error=False)


def _run_range(sim: SimulatorServer, url: str):
    """One run of `raw_results` over 2025-10-03 … 2025-10-08 (six days), with the client's default retries."""
    resources = {
        "io_manager": PostgresPolarsIOManager(database_url=url),
        "warehouse": WarehouseResource(database_url=url),
        "racing_api": RacingApiResource(base_url=sim.url, username=sim.config.username,
                                        password=sim.config.password, requests_per_second=1000),
    }
    return materialize([raw_results], resources=resources, raise_on_error=False,
                       tags={"dagster/asset_partition_range_start": "2025-10-03",
                             "dagster/asset_partition_range_end": "2025-10-08"})


def _stored(url: str, table: TableRef = RESULTS, day: date = DAY) -> pl.DataFrame:
    frame = PostgresClient(url).read_frame(table, ["race_id", "race_date", "payload", "parse_error"])
    return frame.filter(pl.col("race_date") == day).sort("race_id")


def _failure(result) -> str:
    failures = result.get_step_failure_events()
    assert len(failures) == 1
    return failures[0].step_failure_data.error.message


def _retried(result) -> bool:
    return any(e.event_type == DagsterEventType.STEP_UP_FOR_RETRY for e in result.all_events)


def _archive(url: str) -> pl.DataFrame:
    return PostgresClient(url).read_frame(UNREADABLE_PAGES)


@pytest.mark.parametrize("fault", ["truncated", "malformed"])
def test_unreadable_pages_fail_the_run_keep_the_stored_races_and_are_archived(postgres_url, fault):
    with _simulator() as sim:
        assert _run(raw_results, sim, postgres_url).success
    before = _stored(postgres_url)
    assert before.height > 4 and before["parse_error"].null_count() == before.height

    runs = []
    for _ in range(2):
        reset_shared_buckets()
        with _simulator(faults=Faults(**{f"rate_{fault}": 1.0})) as sim:
            runs.append(_run(raw_results, sim, postgres_url))
    for failed in runs:
        assert not failed.success and not _retried(failed)
    message = _failure(runs[0])
    assert "2 of 2 API page(s) could not be read (2025-10-07: 2;" in message
    assert "Nothing was written: the stored rows are kept" in message
    assert f"archived in raw.unreadable_pages (run_id '{runs[0].run_id}')" in message
    assert _stored(postgres_url).equals(before)

    archive = _archive(postgres_url)
    assert archive.group_by("run_id").len().sort("run_id").rows() == sorted((r.run_id, 2) for r in runs)
    assert set(archive["asset"]) == {"raw/raw_results"} and set(archive["race_date"]) == {DAY}
    assert archive["raw_text"].str.len_chars().min() > 0 and archive["parse_error"].null_count() == 0
    assert archive["request"].str.contains('"path":"/v1/results"').all()


def test_one_unreadable_page_among_readable_ones_fails_even_a_first_write(postgres_url):
    with _simulator(faults=Faults(fail_first={"malformed": 2})) as sim:
        failed = _run(raw_results, sim, postgres_url)
    assert not failed.success
    assert "1 of 2 API page(s) could not be read (2025-10-07: 1;" in _failure(failed)
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT to_regclass('raw.raw_results')").fetchone()[0] is None
    assert _archive(postgres_url)["run_id"].to_list() == [failed.run_id]


def test_fewer_races_for_a_past_day_fail_naming_both_counts_unless_forced(postgres_url):
    with _simulator() as sim:
        assert _run(raw_results, sim, postgres_url).success
    before = _stored(postgres_url)

    with _simulator(today=DAY) as sim:  # the API's clock says DAY has no results yet: 200, total 0
        failed = _run(raw_results, sim, postgres_url)
        message = _failure(failed)
        assert not failed.success and not _retried(failed)
        assert f"2025-10-07 ({before.height} stored, 0 now)" in message
        assert "Nothing was written: the stored races are kept" in message
        assert "ops: {raw__raw_results: {config: {allow_fewer_races: true}}}" in message
        assert _stored(postgres_url).equals(before)

        forced = _run(raw_results, sim, postgres_url, config={"allow_fewer_races": True})
    assert forced.success
    assert _stored(postgres_url).is_empty()


def test_a_first_blank_day_then_more_then_as_many_races_all_replace(postgres_url):
    with _simulator(today=DAY) as sim:
        blank = _run(raw_results, sim, postgres_url)
    assert blank.success
    warning = blank.get_asset_check_evaluations()[0]
    assert warning.check_name == "races_every_day" and not warning.passed
    assert _stored(postgres_url).is_empty()

    with _simulator() as sim:
        more = _run(raw_results, sim, postgres_url)
        stored = _stored(postgres_url)
        again = _run(raw_results, sim, postgres_url)
    assert more.success and again.success and stored.height > 0
    assert _stored(postgres_url).equals(stored)
    metadata = again.asset_materializations_for_node("raw__raw_results")[0].metadata
    assert metadata["races_stored_before"].value == stored.height == metadata["races"].value
    assert all(c.passed for c in again.get_asset_check_evaluations())


def test_racecards_of_a_past_day_may_not_shrink_but_a_future_day_may(postgres_url):
    cards = TableRef("raw", "raw_racecards")
    with _simulator() as sim:
        assert _run(raw_racecards, sim, postgres_url).success
    before = _stored(postgres_url, cards)
    with _simulator(racecard_history_from=DAY + timedelta(days=1)) as sim:  # 200, total 0 for DAY
        failed = _run(raw_racecards, sim, postgres_url)
    assert f"2025-10-07 ({before.height} stored, 0 now)" in _failure(failed)
    assert _stored(postgres_url, cards).equals(before)

    today = today_in_uk()
    ahead = today + timedelta(days=3)
    with _simulator(today=today) as sim:
        assert _run(raw_racecards, sim, postgres_url, day=ahead).success
    assert _stored(postgres_url, cards, ahead).height > 0
    with _simulator(today=today, racecard_history_from=ahead + timedelta(days=1)) as sim:
        assert _run(raw_racecards, sim, postgres_url, day=ahead).success
    assert _stored(postgres_url, cards, ahead).is_empty()


def test_an_unreadable_or_shorter_course_list_keeps_the_stored_courses(postgres_url):
    courses = TableRef("raw", "raw_courses")

    def stored() -> pl.DataFrame:
        return PostgresClient(postgres_url).read_frame(courses, ["course_id", "payload"]).sort("course_id")

    with _simulator() as sim:
        assert _run(raw_courses, sim, postgres_url, day=None).success
    before = stored()

    with _simulator(faults=Faults(rate_malformed=1.0)) as sim:
        unreadable = _run(raw_courses, sim, postgres_url, day=None)
    assert "1 of 1 API page(s) could not be read (the course list" in _failure(unreadable)
    assert not _retried(unreadable)
    assert stored().equals(before)
    archived = _archive(postgres_url).row(0, named=True)
    assert archived["asset"] == "raw/raw_courses" and archived["race_date"] is None

    with _simulator() as sim:
        shorter = _run(raw_courses, sim, postgres_url, day=None, regions=("gb",))
        gb_only = sim.app.payloads.courses(["gb"])["courses"]
        message = _failure(shorter)
        assert "course list is worse than the stored one" in message
        assert f"the API now lists {len(gb_only)} courses where {before.height} are stored" in message
        assert "ops: {raw__raw_courses: {config: {allow_fewer_courses: true}}}" in message
        assert stored().equals(before)

        forced = _run(raw_courses, sim, postgres_url, day=None, regions=("gb",),
                      config={"allow_fewer_courses": True})
    assert forced.success
    assert stored()["course_id"].to_list() == sorted(course["id"] for course in gb_only)


def test_a_slow_api_has_two_days_in_flight_so_the_limiter_is_not_left_waiting(postgres_url):
    """Every answer takes 0.8 s: fetched one day after another, requests would start ≥ 0.8 s apart."""
    with _simulator(faults=Faults(rate_slow=1.0, slow_seconds=0.8)) as sim:
        result = _run_range(sim, postgres_url)
        assert result.success
        started = sorted(at for at, path, _ in sim.app.stats()["requests"] if path == "/v1/results")
    assert len(started) == 6
    gaps = [later - earlier for earlier, later in zip(started, started[1:], strict=False)]
    assert sum(gap < 0.4 for gap in gaps) >= 2, gaps
    stored = _stored(postgres_url).height
    assert stored > 0


def test_a_range_is_stored_while_its_later_days_are_fetched_and_its_write_is_stated_once(postgres_url):
    """Every answer takes 0.3 s. The days already answered are on the server (the table grows) before the range's
    last answer: a write at the end of the step would leave the table absent until then. The write's row count,
    schema and preview are stated once, on the range's last partition; every partition names the table."""
    sizes: list[tuple[float, int]] = []
    done = threading.Event()

    def watch() -> None:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            while not done.wait(0.02):
                size = conn.execute("SELECT pg_relation_size(to_regclass('raw.raw_results'))").fetchone()[0]
                sizes.append((time.monotonic(), size or 0))

    with _simulator() as sim:  # the table exists (a table created inside the write is not visible until it commits)
        assert _run(raw_results, sim, postgres_url, day=date(2025, 10, 2)).success
    watcher = threading.Thread(target=watch)
    with _simulator(faults=Faults(rate_slow=1.0, slow_seconds=0.3)) as sim:
        watcher.start()
        try:
            result = _run_range(sim, postgres_url)
        finally:
            done.set()
            watcher.join()
        assert result.success
        last_answer = max(at for at, path, _ in sim.app.stats()["requests"] if path == "/v1/results")
    empty = sizes[0][1]
    assert any(size > empty for at, size in sizes if at < last_answer), sizes
    rows = PostgresClient(postgres_url).read_frame(RESULTS, ["race_date"])
    rows = rows.filter(pl.col("race_date") > date(2025, 10, 2))
    assert rows.height > 0
    metadata = {m.partition: m.metadata for m in result.asset_materializations_for_node(raw_results.op.name)}
    assert sorted(metadata) == [f"2025-10-0{day}" for day in range(3, 9)]
    assert metadata["2025-10-08"]["dagster/row_count"].value == rows.height
    assert "preview" in metadata["2025-10-08"] and "dagster/column_schema" in metadata["2025-10-08"]
    assert all("dagster/row_count" not in metadata[f"2025-10-0{day}"] for day in range(3, 8))
    assert {m["table"].value for m in metadata.values()} == {"raw.raw_results"}
    assert {m["races"].value for m in metadata.values()} == {rows.height}
