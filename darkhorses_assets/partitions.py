"""Race-day partitions (UK race dates, Europe/London) and the regions we ingest."""

from __future__ import annotations

import os
from datetime import date, datetime
from zoneinfo import ZoneInfo

from dagster import DailyPartitionsDefinition

RACE_TIMEZONE = "Europe/London"
REGIONS = ("gb", "ire")
START_DATE_ENV = "DARKHORSES_START_DATE"
DEFAULT_START_DATE = "2015-01-01"
RACECARD_DAYS_AHEAD = 7


def start_date() -> str:
    """First race day (YYYY-MM-DD) of every partitioned asset; DARKHORSES_START_DATE overrides 2015-01-01."""
    return os.environ.get(START_DATE_ENV, DEFAULT_START_DATE)


race_days = DailyPartitionsDefinition(
    start_date=start_date(), timezone=RACE_TIMEZONE, end_offset=RACECARD_DAYS_AHEAD + 1
)
"""Race days from the start date up to a week ahead (as far as racecards are published).

One definition for every daily asset keeps lineage simple; results simply have nothing to fetch for days
that have not been raced yet.
"""


def today_in_uk() -> date:
    return datetime.now(ZoneInfo(RACE_TIMEZONE)).date()
