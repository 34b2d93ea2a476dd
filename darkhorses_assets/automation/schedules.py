"""Schedules: fetch what the API changes, when it changes it (UK time, `Europe/London`, DST included).

| schedule | when (UK) | requests |
|---|---|---|
| `racecards_week_ahead` | 06:00 | raw_racecards today … today+7, one range run |
| `racecards_today_refresh` | every 30 min 08:00–20:30 | raw_racecards today (non-runners, going, odds) |
| `racecards_tomorrow_refresh` | 19:00 | raw_racecards tomorrow (final declarations, jockeys) |
| `results_final` | 06:30 | raw_results yesterday: the final word after late results and amendments |
| `courses_weekly` | Monday 05:00 | raw_courses |
| `horse_profiles_nightly` | 02:00 | raw_horse_profiles, within its request budget |

Every schedule names its partitions explicitly from the tick's own time (never the wall clock), so a tick
evaluated late still asks for the right days. Each run's `run_key` is the tick's partitions, so a tick retried
by the daemon never starts a second run for the same partitions.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from dagster import (
    AssetKey,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    schedule,
)
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from darkhorses_assets.assets.horse_profiles import DEFAULT_MAX_REQUESTS, RAW_PROFILES_KEY
from darkhorses_assets.assets.keys import raw_key
from darkhorses_assets.assets.raw import raw_racecards, raw_results
from darkhorses_assets.automation.status import schedule_status
from darkhorses_assets.partitions import RACE_TIMEZONE, RACECARD_DAYS_AHEAD

UK = ZoneInfo(RACE_TIMEZONE)
RAW_RACECARDS = raw_key("raw_racecards")
RAW_RESULTS = raw_key("raw_results")
RAW_COURSES = raw_key("raw_courses")
OWN_CHECKS = {RAW_RACECARDS: sorted(raw_racecards.check_keys), RAW_RESULTS: sorted(raw_results.check_keys)}
"""The checks a run of a raw race-day asset evaluates: its own, not the freshness checks (they run at deadlines)."""
AUTOMATION_TAG = "darkhorses/automation"
"""Tag on every run the automation starts: which schedule or sensor asked for it."""


def tick_time(context: ScheduleEvaluationContext) -> datetime:
    """The tick's instant in UK time (the daemon passes the tick time; a test passes a fixed instant)."""
    return (context.scheduled_execution_time or datetime.now(UK)).astimezone(UK)


def race_day(context: ScheduleEvaluationContext) -> date:
    return tick_time(context).date()


def day_request(asset: AssetKey, day: date, source: str, change: str = "") -> RunRequest:
    """One day of `asset`; the run key is the source, the change it reacts to (a tick time, a count) and the day,
    while the tag names only the source, so runs can be filtered by it."""
    key = day.isoformat()
    run_key = ":".join(part for part in (source, change, key) if part)
    return RunRequest(run_key=run_key, asset_selection=[asset], asset_check_keys=OWN_CHECKS[asset],
                      partition_key=key, tags={AUTOMATION_TAG: source})


def range_request(asset: AssetKey, first: date, last: date, source: str, attempt: int = 1) -> RunRequest:
    """One run over the partitions first … last (inclusive): the raw assets fetch day by day in one step."""
    start, end = first.isoformat(), last.isoformat()
    return RunRequest(
        run_key=f"{source}:{asset.path[-1]}:{start}..{end}" + (f"#{attempt}" if attempt > 1 else ""),
        asset_selection=[asset],
        asset_check_keys=OWN_CHECKS[asset],
        tags={ASSET_PARTITION_RANGE_START_TAG: start, ASSET_PARTITION_RANGE_END_TAG: end, AUTOMATION_TAG: source},
    )


@schedule(
    name="racecards_week_ahead",
    cron_schedule="0 6 * * *",
    execution_timezone=RACE_TIMEZONE,
    target=[RAW_RACECARDS],
    default_status=schedule_status(),
    description="06:00 UK: today's racecards and the next 7 days' (as far ahead as the API publishes), "
                "one range run, one request per day.",
)
def racecards_week_ahead(context: ScheduleEvaluationContext):
    today = race_day(context)
    return range_request(RAW_RACECARDS, today, today + timedelta(days=RACECARD_DAYS_AHEAD),
                         "racecards_week_ahead")


@schedule(
    name="racecards_today_refresh",
    cron_schedule="*/30 8-20 * * *",
    execution_timezone=RACE_TIMEZONE,
    target=[RAW_RACECARDS],
    default_status=schedule_status(),
    description="Every 30 minutes through the racing day (08:00–20:30 UK): today's racecards again, for "
                "non-runners, going changes and the latest odds. One request per tick.",
)
def racecards_today_refresh(context: ScheduleEvaluationContext):
    return day_request(RAW_RACECARDS, race_day(context), "racecards_today_refresh", f"{tick_time(context):%H%M}")


@schedule(
    name="racecards_tomorrow_refresh",
    cron_schedule="0 19 * * *",
    execution_timezone=RACE_TIMEZONE,
    target=[RAW_RACECARDS],
    default_status=schedule_status(),
    description="19:00 UK: tomorrow's racecards with the day's final declarations (jockeys, draws), so "
                "tomorrow's runner features are ready tonight. One request.",
)
def racecards_tomorrow_refresh(context: ScheduleEvaluationContext):
    return day_request(RAW_RACECARDS, race_day(context) + timedelta(days=1), "racecards_tomorrow_refresh")


@schedule(
    name="results_final",
    cron_schedule="30 6 * * *",
    execution_timezone=RACE_TIMEZONE,
    target=[RAW_RESULTS],
    default_status=schedule_status(),
    description="06:30 UK: yesterday's results once more, the final word after late results and amendments "
                "(1–2 requests). Today's results arrive through the `results_watch` sensor.",
)
def results_final(context: ScheduleEvaluationContext):
    return day_request(RAW_RESULTS, race_day(context) - timedelta(days=1), "results_final")


courses_weekly = ScheduleDefinition(
    name="courses_weekly",
    cron_schedule="0 5 * * 1",
    execution_timezone=RACE_TIMEZONE,
    target=[RAW_COURSES],
    default_status=schedule_status(),
    tags={AUTOMATION_TAG: "courses_weekly"},
    description="Monday 05:00 UK: the GB + IRE course list (one request).",
)


horse_profiles_nightly = ScheduleDefinition(
    name="horse_profiles_nightly",
    cron_schedule="0 2 * * *",
    execution_timezone=RACE_TIMEZONE,
    target=[RAW_PROFILES_KEY],
    default_status=schedule_status(),
    tags={AUTOMATION_TAG: "horse_profiles_nightly"},
    run_config={"ops": {"raw__raw_horse_profiles": {"config": {"max_requests": DEFAULT_MAX_REQUESTS}}}},
    description=f"02:00 UK, away from racing hours: profiles of newly seen horses, at most "
                f"{DEFAULT_MAX_REQUESTS} requests (15 minutes of the API's 2 requests/s).",
)


schedules = [
    racecards_week_ahead,
    racecards_today_refresh,
    racecards_tomorrow_refresh,
    results_final,
    courses_weekly,
    horse_profiles_nightly,
]
