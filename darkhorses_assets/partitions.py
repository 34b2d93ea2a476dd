"""Race-day partitions (UK race dates, Europe/London) and the regions we ingest."""

from __future__ import annotations

import os

from dagster import DailyPartitionsDefinition

RACE_TIMEZONE = "Europe/London"
REGIONS = ("gb", "ire")
START_DATE_ENV = "DARKHORSES_START_DATE"
DEFAULT_START_DATE = "2015-01-01"
RACECARD_DAYS_AHEAD = 7


def start_date() -> str:
    """First race day (YYYY-MM-DD) of every partitioned asset; DARKHORSES_START_DATE overrides 2015-01-01."""
    return os.environ.get(START_DATE_ENV, DEFAULT_START_DATE)


result_days = DailyPartitionsDefinition(start_date=start_date(), timezone=RACE_TIMEZONE)
"""Completed race days: results exist only for days that are over."""

racecard_days = DailyPartitionsDefinition(
    start_date=start_date(), timezone=RACE_TIMEZONE, end_offset=RACECARD_DAYS_AHEAD + 1
)
"""Race days up to a week ahead, as far as racecards are published."""
