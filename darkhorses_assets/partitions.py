"""Race-day partitions (UK race dates, Europe/London) and the regions we ingest."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from dagster import DailyPartitionsDefinition

from darkhorses_assets import settings

RACE_TIMEZONE = "Europe/London"
RACECARD_DAYS_AHEAD = 7


def today_in_uk() -> date:
    return datetime.now(ZoneInfo(RACE_TIMEZONE)).date()


def start_date() -> str:
    """First race day (YYYY-MM-DD) of every partitioned asset: DARKHORSES_START_DATE (default 2015-01-01).
    A value that is not a date, or is after today, fails naming the variable and a good example."""
    return settings.start_date(today=today_in_uk()).isoformat()


race_days = DailyPartitionsDefinition(
    start_date=start_date(), timezone=RACE_TIMEZONE, end_offset=RACECARD_DAYS_AHEAD + 1
)
"""Race days from the start date up to a week ahead (as far as racecards are published).

One definition for every daily asset keeps lineage simple; results simply have nothing to fetch for days
that have not been raced yet.
"""
