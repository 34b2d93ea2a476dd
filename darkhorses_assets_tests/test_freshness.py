"""Deadline freshness: the expected partition, materialized since the deadline's UK day began, on a real event log.

The Dagster instance keeps its event log in the test Postgres (as `dagster.yaml` does in production);
materializations are reported at chosen instants with time-machine, so "before the deadline's day" is exact.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from dagster import AssetKey, AssetMaterialization, build_schedule_context, instance_for_test

from darkhorses_assets.automation.freshness import (
    AS_OF_TAG,
    CHECK_NAME,
    DEADLINES,
    FRESHNESS_CHECK_KEYS,
    freshness_result,
    freshness_schedules,
)
from darkhorses_assets.automation.schedules import AUTOMATION_TAG, RAW_RACECARDS, RAW_RESULTS
from darkhorses_assets.definitions import build_definitions
from darkhorses_assets.io import PostgresPolarsIOManager
from darkhorses_assets.io.warehouse import WarehouseResource
from darkhorses_assets.local.postgres import drop_database, ensure_database, sqlalchemy_psycopg2_url, with_database
from darkhorses_assets.racing_api.client import RacingApiResource

UK = ZoneInfo("Europe/London")
RESULTS = next(d for d in DEADLINES if d.asset == RAW_RESULTS)
RACECARDS = next(d for d in DEADLINES if d.asset == RAW_RACECARDS)


def uk(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UK)


def utc(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


@pytest.fixture(scope="module")
def dagster_instance(postgres_admin_url):
    """A Dagster instance whose run and event storage live in a Postgres database of this module."""
    name = f"dh_test_fresh_{uuid.uuid4().hex[:8]}"
    ensure_database(postgres_admin_url, name)
    url = sqlalchemy_psycopg2_url(with_database(postgres_admin_url, name))
    try:
        with instance_for_test(overrides={"storage": {"postgres": {"postgres_url": url}}}) as instance:
            yield instance
    finally:
        drop_database(postgres_admin_url, name)


@pytest.fixture
def instance(dagster_instance):
    dagster_instance.wipe()
    return dagster_instance


def materialized(instance, asset: AssetKey, partition: str, at: datetime) -> None:
    """Record a materialization of ``asset``'s ``partition`` as having happened at ``at``."""
    with time_machine.travel(at, tick=True):
        instance.report_runless_asset_event(AssetMaterialization(asset_key=asset, partition=partition))
    record = instance.fetch_materializations(asset, limit=1).records[0]
    assert abs(record.timestamp - at.timestamp()) < 5  # the event really carries the chosen instant


# -- last_passed: the deadline in UK time ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("deadline", "as_of", "expected"),
    [
        (RESULTS, uk(2025, 10, 18, 8), uk(2025, 10, 18, 8)),  # at the deadline: it has passed
        (RESULTS, uk(2025, 10, 18, 7, 59), uk(2025, 10, 17, 8)),  # a minute before: yesterday's
        (RESULTS, uk(2025, 10, 18, 23, 59), uk(2025, 10, 18, 8)),
        (RESULTS, uk(2025, 10, 19, 0, 1), uk(2025, 10, 18, 8)),
        (RACECARDS, uk(2025, 1, 15, 7), uk(2025, 1, 15, 7)),
        (RACECARDS, uk(2025, 1, 1, 6, 59), uk(2024, 12, 31, 7)),  # across the year
        # spring forward: 07:00 BST on 03-30 is 06:00 UTC, 07:00 GMT the day before is 07:00 UTC
        (RACECARDS, uk(2025, 3, 30, 7, 30), uk(2025, 3, 30, 7)),
        (RACECARDS, uk(2025, 3, 30, 6, 30), uk(2025, 3, 29, 7)),
        (RESULTS, uk(2025, 3, 30, 1, 30), uk(2025, 3, 29, 8)),  # 01:30 GMT… the hour that is skipped
        # fall back: 07:00 GMT on 10-26 is 07:00 UTC; 07:00 BST on 10-25 is 06:00 UTC
        (RACECARDS, uk(2025, 10, 26, 6, 30), uk(2025, 10, 25, 7)),
        (RACECARDS, uk(2025, 10, 26, 7, 0), uk(2025, 10, 26, 7)),
        (RESULTS, uk(2025, 10, 27, 8, 0), uk(2025, 10, 27, 8)),
    ],
)
def test_last_passed_is_the_latest_uk_deadline_at_or_before(deadline, as_of, expected):
    passed = deadline.last_passed(as_of)
    assert passed == expected
    assert passed.astimezone(UTC) == expected.astimezone(UTC)
    assert passed.utcoffset() == expected.utcoffset()
    assert passed <= as_of < passed + timedelta(days=1, hours=1)


def test_deadlines_across_dst_are_a_day_apart_in_uk_time_not_24_hours():
    def hours_between(a: datetime, b: datetime) -> timedelta:  # elapsed time, not wall-clock difference
        return RACECARDS.last_passed(b).astimezone(UTC) - RACECARDS.last_passed(a).astimezone(UTC)

    spring = hours_between(uk(2025, 3, 29, 12), uk(2025, 3, 30, 12))
    autumn = hours_between(uk(2025, 10, 25, 12), uk(2025, 10, 26, 12))
    assert (spring, autumn) == (timedelta(hours=23), timedelta(hours=25))


def test_expected_partitions_are_yesterday_for_results_and_today_for_racecards():
    deadline = uk(2025, 10, 18, 8)
    assert RESULTS.expected_partition(deadline) == date(2025, 10, 17)
    assert RACECARDS.expected_partition(deadline) == date(2025, 10, 18)
    assert (RESULTS.cron, RACECARDS.cron) == ("0 8 * * *", "0 7 * * *")
    assert (RESULTS.at, RACECARDS.at) == (time(8), time(7))


# -- freshness_result against the instance -------------------------------------------------------------------


def test_missing_partition_fails_saying_never_and_how_late(instance):
    result = freshness_result(instance, RESULTS, uk(2025, 10, 18, 8, 30))
    assert not result.passed
    assert result.metadata["expected_partition"].value == "2025-10-17"
    assert result.metadata["last_materialized"].value == "never"
    assert result.metadata["overdue_minutes"].value == 30.0
    assert (result.asset_key, result.check_name) == (RAW_RESULTS, CHECK_NAME)


def test_results_fetched_after_midnight_pass_and_fetched_the_evening_before_fail(instance):
    as_of = uk(2025, 10, 18, 8, 30)
    materialized(instance, RAW_RESULTS, "2025-10-17", uk(2025, 10, 17, 21, 45))  # the results_watch run
    assert not freshness_result(instance, RESULTS, as_of).passed
    materialized(instance, RAW_RESULTS, "2025-10-17", uk(2025, 10, 18, 6, 31))  # results_final
    result = freshness_result(instance, RESULTS, as_of)
    assert result.passed, result.metadata
    assert "overdue_minutes" not in result.metadata
    assert result.metadata["last_materialized"].value == pytest.approx(uk(2025, 10, 18, 6, 31).timestamp(), abs=5)


def test_only_the_expected_partition_counts(instance):
    as_of = uk(2025, 10, 18, 8, 30)
    materialized(instance, RAW_RESULTS, "2025-10-16", uk(2025, 10, 18, 6, 31))  # the wrong day, fetched today
    materialized(instance, RAW_RACECARDS, "2025-10-17", uk(2025, 10, 18, 6, 31))  # the wrong asset
    result = freshness_result(instance, RESULTS, as_of)
    assert not result.passed and result.metadata["last_materialized"].value == "never"


def test_the_uk_day_starts_at_uk_midnight_also_in_summer(instance):
    # 00:10 BST on 10-18 is 23:10 UTC on 10-17: after the UK midnight, so it counts
    materialized(instance, RAW_RESULTS, "2025-10-17", uk(2025, 10, 18, 0, 10))
    assert freshness_result(instance, RESULTS, uk(2025, 10, 18, 9)).passed
    # 23:50 BST on 10-18 is 22:50 UTC: still the 18th, too early for the 19th's deadline
    materialized(instance, RAW_RESULTS, "2025-10-18", uk(2025, 10, 18, 23, 50))
    assert not freshness_result(instance, RESULTS, uk(2025, 10, 19, 9)).passed


def test_before_the_deadline_the_previous_deadline_is_judged(instance):
    materialized(instance, RAW_RACECARDS, "2025-10-17", uk(2025, 10, 17, 6))
    # 06:30 on the 18th: today's 07:00 deadline has not come, yesterday's partition was fresh for it
    result = freshness_result(instance, RACECARDS, uk(2025, 10, 18, 6, 30))
    assert result.passed and result.metadata["expected_partition"].value == "2025-10-17"
    failed = freshness_result(instance, RACECARDS, uk(2025, 10, 18, 7, 0))
    assert not failed.passed and failed.metadata["expected_partition"].value == "2025-10-18"


def test_racecards_published_the_day_before_are_not_todays(instance):
    materialized(instance, RAW_RACECARDS, "2025-10-18", uk(2025, 10, 17, 19))  # racecards_tomorrow_refresh
    assert not freshness_result(instance, RACECARDS, uk(2025, 10, 18, 7, 30)).passed
    materialized(instance, RAW_RACECARDS, "2025-10-18", uk(2025, 10, 18, 6))  # racecards_week_ahead
    assert freshness_result(instance, RACECARDS, uk(2025, 10, 18, 7, 30)).passed


@pytest.mark.parametrize(
    ("fetched", "as_of", "partition", "passes"),
    [
        # fall back: fetched at 00:30 BST on 10-26 (23:30 UTC on 10-25), judged at 07:30 GMT
        (uk(2025, 10, 26, 0, 30), utc(2025, 10, 26, 7, 30), "2025-10-26", True),
        (uk(2025, 10, 25, 23, 30), utc(2025, 10, 26, 7, 30), "2025-10-26", False),
        # spring forward: fetched at 00:30 GMT on 03-30, judged at 07:30 BST (06:30 UTC)
        (uk(2025, 3, 30, 0, 30), utc(2025, 3, 30, 6, 30), "2025-03-30", True),
        # judged at 06:30 UTC = 07:30 BST: the deadline passed; in UTC it would not have
        (uk(2025, 3, 29, 6, 0), utc(2025, 3, 30, 6, 30), "2025-03-30", False),
    ],
)
def test_racecards_across_dst(instance, fetched, as_of, partition, passes):
    materialized(instance, RAW_RACECARDS, partition, fetched)
    result = freshness_result(instance, RACECARDS, as_of)
    assert result.metadata["expected_partition"].value == partition
    assert result.passed is passes, result.metadata


def test_an_as_of_in_utc_is_read_as_the_uk_instant(instance):
    # 07:30 UTC on 07-01 is 08:30 BST: the 08:00 deadline of 07-01 has passed, so 06-30 is expected
    materialized(instance, RAW_RESULTS, "2025-06-30", uk(2025, 7, 1, 6, 30))
    result = freshness_result(instance, RESULTS, utc(2025, 7, 1, 7, 30))
    assert result.metadata["expected_partition"].value == "2025-06-30"
    assert result.passed
    assert result.metadata["deadline"].value == uk(2025, 7, 1, 8).timestamp()


# -- the checks through their jobs and schedules ------------------------------------------------------------


@pytest.fixture(scope="module")
def defs():
    url = "postgresql://nobody@127.0.0.1:1/unused"  # the freshness jobs read only the Dagster instance
    return build_definitions({
        "io_manager": PostgresPolarsIOManager(database_url=url),
        "warehouse": WarehouseResource(database_url=url),
        "racing_api": RacingApiResource(base_url="http://127.0.0.1:1", username="u", password="p"),
    })


def run_check(defs, instance, name: str, as_of: datetime):
    result = defs.resolve_job_def(name).execute_in_process(instance=instance, tags={AS_OF_TAG: as_of.isoformat()})
    assert result.success
    evaluations = result.get_asset_check_evaluations()
    assert len(evaluations) == 1
    return evaluations[0]


def test_freshness_jobs_evaluate_only_their_check_and_report_pass_and_fail(defs, instance):
    as_of = uk(2025, 10, 18, 8)
    failed = run_check(defs, instance, "raw_results_freshness", as_of)
    assert failed.asset_check_key in FRESHNESS_CHECK_KEYS and failed.asset_key == RAW_RESULTS
    assert not failed.passed
    materialized(instance, RAW_RESULTS, "2025-10-17", uk(2025, 10, 18, 6, 30))
    passed = run_check(defs, instance, "raw_results_freshness", as_of)
    assert passed.passed and passed.metadata["expected_partition"].value == "2025-10-17"
    racecards = run_check(defs, instance, "raw_racecards_freshness", as_of)
    assert racecards.asset_key == RAW_RACECARDS and not racecards.passed
    latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(FRESHNESS_CHECK_KEYS)
    assert {key.asset_key: record.status.value for key, record in latest.items()} == {
        RAW_RESULTS: "SUCCEEDED", RAW_RACECARDS: "FAILED"}


@pytest.mark.parametrize("when", [utc(2025, 3, 30, 7), utc(2025, 10, 26, 8), utc(2025, 1, 15, 8)])
def test_freshness_schedule_tags_the_run_with_its_uk_tick(defs, when):
    schedule = next(s for s in freshness_schedules if s.name == "raw_results_freshness")
    context = build_schedule_context(scheduled_execution_time=when, repository_def=defs.get_repository_def())
    [request] = schedule.evaluate_tick(context).run_requests
    as_of = datetime.fromisoformat(request.tags[AS_OF_TAG])
    assert as_of == when and as_of.utcoffset() == when.astimezone(UK).utcoffset()
    assert as_of.astimezone(UK).hour == 8
    assert defs.resolve_job_def(schedule.job_name).tags[AUTOMATION_TAG] == "freshness"
    assert request.run_key == f"freshness:{as_of.isoformat()}"
