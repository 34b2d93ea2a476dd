"""Race-day partitions (UK race dates, Europe/London) and the window of race days a run covers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from dagster import AssetExecutionContext, DailyPartitionsDefinition

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


@dataclass(frozen=True)
class RaceDayWindow:
    """The race days one run covers: a single partition or a range (a backfill's multi-day run)."""

    first: date
    last: date

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=offset) for offset in range((self.last - self.first).days + 1)]

    @property
    def label(self) -> str:
        """`2025-10-18` for one day, `2025-10-01..2025-10-31` for a range: the `partition_range` of metadata."""
        return self.first.isoformat() if self.first == self.last else f"{self.first}..{self.last}"


def race_day_window(context: AssetExecutionContext) -> RaceDayWindow:
    """The run's race days, for every partitioned asset (the one place a partition range becomes dates)."""
    keys = context.partition_key_range
    return RaceDayWindow(date.fromisoformat(keys.start), date.fromisoformat(keys.end))
