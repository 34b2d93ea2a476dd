"""Schedules ask for the right UK race days at fixed instants: ordinary days, both clock changes, around midnight.

Every tick is evaluated at an aware instant given in UTC (or New York), so a schedule that took the UTC date,
or the wall clock, instead of the tick's UK date asks for the wrong day and fails here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from dagster import AssetCheckKey, RunRequest, ScheduleDefinition, build_schedule_context, validate_run_config
from dagster._core.errors import DagsterInvalidConfigError
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG
from dagster._utils.schedules import schedule_execution_time_iterator

from darkhorses_assets.assets.horse_profiles import DEFAULT_MAX_REQUESTS, RAW_PROFILES_KEY
from darkhorses_assets.automation.freshness import CHECK_NAME, freshness_schedules
from darkhorses_assets.automation.schedules import (
    AUTOMATION_TAG,
    RAW_COURSES,
    RAW_RACECARDS,
    RAW_RESULTS,
    courses_weekly,
    horse_profiles_nightly,
    racecards_today_refresh,
    racecards_tomorrow_refresh,
    racecards_week_ahead,
    results_final,
    schedules,
)
from darkhorses_assets.definitions import build_definitions
from darkhorses_assets.io import PostgresPolarsIOManager
from darkhorses_assets.io.warehouse import WarehouseResource
from darkhorses_assets.partitions import race_days
from darkhorses_assets.racing_api.client import RacingApiResource

UK = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
SPRING_FORWARD = date(2025, 3, 30)
FALL_BACK = date(2025, 10, 26)
_UNUSED_URL = "postgresql://nobody@127.0.0.1:1/unused"
PROJECT_DEFS = build_definitions({  # concrete resources so run config resolves; nothing here connects to them
    "io_manager": PostgresPolarsIOManager(database_url=_UNUSED_URL),
    "warehouse": WarehouseResource(database_url=_UNUSED_URL),
    "racing_api": RacingApiResource(base_url="http://127.0.0.1:1", username="u", password="p"),
})
REPOSITORY = PROJECT_DEFS.get_repository_def()


def utc(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


def uk(day: date, h: int, mi: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, h, mi, tzinfo=UK)


def tick(schedule: ScheduleDefinition, when: datetime) -> RunRequest:
    """The one run request of the schedule's tick at ``when``, resolved against the project's repository (a
    partition key the partitions do not hold at that instant fails here)."""
    context = build_schedule_context(scheduled_execution_time=when, repository_def=REPOSITORY)
    data = schedule.evaluate_tick(context)
    assert data.skip_message is None, data.skip_message
    assert len(data.run_requests) == 1, data.run_requests
    return data.run_requests[0]


def range_of(request: RunRequest) -> tuple[str, str]:
    assert request.partition_key is None
    return request.tags[ASSET_PARTITION_RANGE_START_TAG], request.tags[ASSET_PARTITION_RANGE_END_TAG]


# -- racecards_week_ahead: 06:00 UK, today … today+7 ----------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "first", "last"),
    [
        (utc(2025, 10, 18, 5), "2025-10-18", "2025-10-25"),  # BST: 06:00 UK is 05:00 UTC
        (utc(2025, 1, 15, 6), "2025-01-15", "2025-01-22"),  # GMT
        (utc(2025, 3, 30, 5), "2025-03-30", "2025-04-06"),  # spring forward: 06:00 BST
        (utc(2025, 10, 26, 6), "2025-10-26", "2025-11-02"),  # fall back: 06:00 GMT
        (utc(2025, 12, 31, 6), "2025-12-31", "2026-01-07"),  # across the new year
    ],
)
def test_week_ahead_asks_today_to_the_newest_published_partition_in_one_range_run(when, first, last):
    request = tick(racecards_week_ahead, when)
    assert range_of(request) == (first, last)
    assert request.asset_selection == [RAW_RACECARDS]
    assert request.tags[AUTOMATION_TAG] == "racecards_week_ahead"
    with time_machine.travel(when, tick=True):
        assert race_days.get_last_partition_key() == last  # nothing the partitions do not hold yet
        keys = race_days.get_partition_keys()
    assert keys[keys.index(first):] == [(date.fromisoformat(first) + timedelta(days=i)).isoformat()
                                        for i in range(8)]


def test_week_ahead_reads_the_tick_not_the_wall_clock():
    with time_machine.travel(utc(2031, 7, 1, 12), tick=True):
        assert range_of(tick(racecards_week_ahead, utc(2025, 10, 18, 5))) == ("2025-10-18", "2025-10-25")


def test_week_ahead_evaluated_in_another_timezone_still_uses_the_uk_date():
    # 06:00 BST on 2025-07-01 is 01:00 in New York, still 2025-07-01 there, but 23:59 New York is 04:59 UK next day
    assert range_of(tick(racecards_week_ahead, datetime(2025, 7, 1, 1, tzinfo=NEW_YORK)))[0] == "2025-07-01"
    assert range_of(tick(racecards_week_ahead, datetime(2025, 6, 30, 23, 59, tzinfo=NEW_YORK)))[0] == "2025-07-01"


# -- results_final: 06:30 UK, yesterday UK -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "partition"),
    [
        (utc(2025, 10, 18, 5, 30), "2025-10-17"),  # 06:30 BST
        (utc(2025, 1, 15, 6, 30), "2025-01-14"),  # 06:30 GMT
        (utc(2025, 3, 30, 5, 30), "2025-03-29"),  # spring forward
        (utc(2025, 10, 26, 6, 30), "2025-10-25"),  # fall back
        (utc(2025, 3, 1, 6, 30), "2025-02-28"),  # month end
        (utc(2024, 3, 1, 6, 30), "2024-02-29"),  # leap day
        # around UK midnight, where the UTC date is not the UK date (BST) and where it is (GMT)
        (utc(2025, 6, 30, 23, 30), "2025-06-30"),  # 00:30 BST on 07-01: UTC still says 06-30
        (utc(2025, 6, 30, 22, 30), "2025-06-29"),  # 23:30 BST on 06-30
        (utc(2025, 1, 15, 0, 30), "2025-01-14"),  # 00:30 GMT
        (utc(2025, 1, 15, 23, 30), "2025-01-14"),  # 23:30 GMT
        (utc(2025, 10, 25, 23, 30), "2025-10-25"),  # 00:30 BST on the fall-back day
        (utc(2025, 3, 30, 0, 30), "2025-03-29"),  # 00:30 GMT on the spring-forward day
    ],
)
def test_results_final_asks_for_yesterday_in_uk_time(when, partition):
    request = tick(results_final, when)
    assert request.partition_key == partition
    assert request.asset_selection == [RAW_RESULTS]
    assert ASSET_PARTITION_RANGE_START_TAG not in request.tags
    assert request.tags[AUTOMATION_TAG] == "results_final"


# -- the racecard refreshes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "partition"),
    [
        (utc(2025, 10, 18, 18), "2025-10-19"),  # 19:00 BST
        (utc(2025, 1, 15, 19), "2025-01-16"),  # 19:00 GMT
        (utc(2025, 10, 25, 18), "2025-10-26"),  # the eve of the fall-back day
        (utc(2025, 3, 29, 19), "2025-03-30"),  # the eve of the spring-forward day
        (utc(2025, 6, 30, 23, 30), "2025-07-02"),  # a late tick: 00:30 BST on 07-01
        (utc(2025, 6, 30, 22, 30), "2025-07-01"),  # 23:30 BST on 06-30
    ],
)
def test_tomorrow_refresh_asks_for_tomorrow_in_uk_time(when, partition):
    request = tick(racecards_tomorrow_refresh, when)
    assert request.partition_key == partition and request.asset_selection == [RAW_RACECARDS]


@pytest.mark.parametrize("day", [date(2025, 10, 18), date(2025, 1, 15), SPRING_FORWARD, FALL_BACK])
def test_today_refresh_ticks_ask_for_that_uk_day_each_with_its_own_run_key(day):
    ticks = ticks_on(racecards_today_refresh, day)
    requests = [tick(racecards_today_refresh, when.astimezone(UTC)) for when in ticks]
    assert {r.partition_key for r in requests} == {day.isoformat()}
    run_keys = [r.run_key for r in requests]
    assert len(set(run_keys)) == len(run_keys) == 26
    assert all(day.isoformat() in key for key in run_keys)


@pytest.mark.parametrize(
    ("when", "partition"),
    [(utc(2025, 6, 30, 23, 30), "2025-07-01"), (utc(2025, 6, 30, 22, 30), "2025-06-30"),
     (utc(2025, 1, 15, 23, 30), "2025-01-15")],
)
def test_today_refresh_around_midnight_asks_for_the_uk_day(when, partition):
    assert tick(racecards_today_refresh, when).partition_key == partition


# -- what every run request carries ---------------------------------------------------------------------------


def test_run_keys_differ_from_tick_to_tick_and_between_schedules():
    run_keys = []
    for day in (date(2025, 10, 24) + timedelta(days=i) for i in range(4)):  # across the fall-back day
        for schedule, (h, mi) in ((racecards_week_ahead, (6, 0)), (results_final, (6, 30)),
                                  (racecards_tomorrow_refresh, (19, 0)), (racecards_today_refresh, (8, 0))):
            run_keys.append(tick(schedule, uk(day, h, mi).astimezone(UTC)).run_key)
    assert None not in run_keys
    assert len(set(run_keys)) == len(run_keys) == 16
    # a tick retried by the daemon gives the same run key, so it never starts a second run
    again = utc(2025, 10, 18, 5, 30)
    assert tick(results_final, again).run_key == tick(results_final, again).run_key


@pytest.mark.parametrize("schedule", [racecards_week_ahead, results_final, racecards_tomorrow_refresh,
                                      racecards_today_refresh])
def test_race_day_runs_evaluate_their_own_checks_not_the_freshness_check(schedule):
    request = tick(schedule, utc(2025, 10, 18, 18))
    asset = request.asset_selection[0]
    every_check = {key for key in PROJECT_DEFS.resolve_asset_graph().asset_check_keys if key.asset_key == asset}
    freshness = AssetCheckKey(asset, CHECK_NAME)
    assert freshness in every_check  # the freshness check exists on this asset …
    assert request.asset_check_keys  # … the run evaluates the asset's own checks …
    assert set(request.asset_check_keys) == every_check - {freshness}  # … but not that one


def test_courses_and_horse_profiles_target_their_asset_with_valid_config():
    courses = tick(courses_weekly, utc(2025, 10, 20, 4))
    assert courses.tags[AUTOMATION_TAG] == "courses_weekly"
    assert PROJECT_DEFS.resolve_job_def(courses_weekly.job_name).asset_layer.selected_asset_keys == {RAW_COURSES}

    profiles = tick(horse_profiles_nightly, utc(2025, 10, 20, 1))
    assert profiles.tags[AUTOMATION_TAG] == "horse_profiles_nightly"
    job = PROJECT_DEFS.resolve_job_def(horse_profiles_nightly.job_name)
    assert job.asset_layer.selected_asset_keys == {RAW_PROFILES_KEY}
    resolved = validate_run_config(job, profiles.run_config)
    assert resolved["ops"]["raw__raw_horse_profiles"]["config"]["max_requests"] == DEFAULT_MAX_REQUESTS
    with pytest.raises(DagsterInvalidConfigError):  # the validation can fail: a misspelt key is refused
        validate_run_config(job, {"ops": {"raw__raw_horse_profiles": {"config": {"max_request": 5}}}})


# -- the crons fire at the UK times the docstrings claim --------------------------------------------------------


def ticks_on(schedule: ScheduleDefinition, day: date) -> list[datetime]:
    """Every tick the daemon would start on UK ``day``, in UK time."""
    assert schedule.execution_timezone == "Europe/London"
    start = uk(day, 0).timestamp()
    end = uk(day + timedelta(days=1), 0)
    found = []
    for when in schedule_execution_time_iterator(start, schedule.cron_schedule, schedule.execution_timezone):
        if when >= end:
            return found
        found.append(when.astimezone(UK))
    raise AssertionError("unreachable")


DAYS = [date(2025, 1, 15), SPRING_FORWARD, date(2025, 7, 1), FALL_BACK, date(2025, 10, 27)]


@pytest.mark.parametrize("day", DAYS)
@pytest.mark.parametrize(
    ("schedule", "times"),
    [
        (racecards_week_ahead, ["06:00"]),
        (results_final, ["06:30"]),
        (racecards_tomorrow_refresh, ["19:00"]),
        (horse_profiles_nightly, ["02:00"]),
        (racecards_today_refresh, [f"{h:02d}:{m:02d}" for h in range(8, 21) for m in (0, 30)]),
        (freshness_schedules[0], ["08:00"]),
        (freshness_schedules[1], ["07:00"]),
    ],
    ids=lambda value: getattr(value, "name", None),
)
def test_each_cron_fires_once_at_its_uk_times_including_clock_change_days(schedule, times, day):
    ticks = ticks_on(schedule, day)
    assert [f"{t:%H:%M}" for t in ticks] == times
    assert all(t.date() == day for t in ticks)
    bst = date(2025, 3, 30) <= day < date(2025, 10, 26)
    first = ticks[0]
    assert first.utcoffset() == timedelta(hours=1 if bst else 0), first
    # the instant, not just the wall time: 06:00 BST is 05:00 UTC
    assert first.astimezone(UTC).hour == first.hour - (1 if bst else 0)


def test_freshness_schedules_are_named_after_their_asset_and_deadline():
    assert {(s.name, s.cron_schedule) for s in freshness_schedules} == {
        ("raw_results_freshness", "0 8 * * *"), ("raw_racecards_freshness", "0 7 * * *")}


def test_courses_weekly_fires_on_mondays_at_05_00_uk():
    week = [date(2025, 10, 20) + timedelta(days=i) for i in range(14)]  # across the fall-back Sunday
    fired = {day: [f"{t:%H:%M}" for t in ticks_on(courses_weekly, day)] for day in week}
    assert {day: t for day, t in fired.items() if t} == {date(2025, 10, 20): ["05:00"], date(2025, 10, 27): ["05:00"]}
    assert ticks_on(courses_weekly, date(2025, 3, 31))[0] == uk(date(2025, 3, 31), 5)


def test_every_schedule_runs_on_uk_time():
    assert all(s.execution_timezone == "Europe/London" for s in [*schedules, *freshness_schedules])
