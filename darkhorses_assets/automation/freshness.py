"""Freshness: is the partition that should exist by now there, and fetched late enough to be final?

- `raw_results` — yesterday's results, fetched after midnight (the `results_final` run), by 08:00 UK.
- `raw_racecards` — today's racecards, fetched today, by 07:00 UK.

Why not `build_time_partition_freshness_checks`: it expects the *last* partition of the partitions definition,
which for our race days is today+7 (racecards are published a week ahead), not yesterday or today. These checks
name the exact partition; a schedule evaluates each at its deadline (the `as_of` run tag carries the tick time).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckKey,
    AssetCheckResult,
    AssetKey,
    AssetRecordsFilter,
    AssetSelection,
    DagsterInstance,
    MetadataValue,
    RunRequest,
    ScheduleEvaluationContext,
    asset_check,
    define_asset_job,
    schedule,
)

from darkhorses_assets.automation.schedules import AUTOMATION_TAG, RAW_RACECARDS, RAW_RESULTS, tick_time
from darkhorses_assets.automation.status import schedule_status
from darkhorses_assets.partitions import RACE_TIMEZONE

UK = ZoneInfo(RACE_TIMEZONE)
AS_OF_TAG = "darkhorses/as_of"
CHECK_NAME = "fresh_by_deadline"


@dataclass(frozen=True)
class Deadline:
    """Partition `day_offset` days from the deadline's date must be materialized since that date began."""

    asset: AssetKey
    at: time
    day_offset: int
    what: str

    def last_passed(self, as_of: datetime) -> datetime:
        """The most recent deadline at or before `as_of` (UK time)."""
        today = datetime.combine(as_of.date(), self.at, UK)
        return today if as_of >= today else datetime.combine(as_of.date() - timedelta(days=1), self.at, UK)

    def expected_partition(self, deadline: datetime) -> date:
        return deadline.date() + timedelta(days=self.day_offset)

    @property
    def cron(self) -> str:
        return f"{self.at.minute} {self.at.hour} * * *"


DEADLINES = (
    Deadline(RAW_RESULTS, time(8, 0), -1, "yesterday's results, fetched after midnight, by 08:00 UK"),
    Deadline(RAW_RACECARDS, time(7, 0), 0, "today's racecards, fetched today, by 07:00 UK"),
)


def freshness_result(instance: DagsterInstance, deadline: Deadline, as_of: datetime) -> AssetCheckResult:
    """Pass when the expected partition's latest materialization happened on or after the deadline's date."""
    passed_deadline = deadline.last_passed(as_of.astimezone(UK))
    partition = deadline.expected_partition(passed_deadline)
    not_before = datetime.combine(passed_deadline.date(), time(0, 0), UK)
    records = instance.fetch_materializations(
        AssetRecordsFilter(asset_key=deadline.asset, asset_partitions=[partition.isoformat()]), limit=1
    ).records
    updated = datetime.fromtimestamp(records[0].timestamp, UK) if records else None
    passed = updated is not None and updated >= not_before
    metadata = {
        "expected_partition": partition.isoformat(),
        "deadline": MetadataValue.timestamp(passed_deadline),
        "materialized_since": MetadataValue.timestamp(not_before),
        "last_materialized": MetadataValue.timestamp(updated) if updated else "never",
    }
    if not passed:
        overdue = (as_of - passed_deadline).total_seconds() / 60
        metadata["overdue_minutes"] = MetadataValue.float(round(overdue, 1))
    return AssetCheckResult(passed=passed, metadata=metadata, asset_key=deadline.asset, check_name=CHECK_NAME,
                            description=deadline.what)


def _as_of(context: AssetCheckExecutionContext) -> datetime:
    tag = context.run.tags.get(AS_OF_TAG)
    return datetime.fromisoformat(tag) if tag else datetime.now(UK)


def _build(deadline: Deadline):
    @asset_check(asset=deadline.asset, name=CHECK_NAME, description=f"Fresh: {deadline.what}.")
    def freshness(context: AssetCheckExecutionContext) -> AssetCheckResult:
        return freshness_result(context.instance, deadline, _as_of(context))

    job = define_asset_job(
        f"{deadline.asset.path[-1]}_freshness", selection=AssetSelection.checks(freshness),
        tags={AUTOMATION_TAG: "freshness"},
    )

    @schedule(name=f"{deadline.asset.path[-1]}_freshness", cron_schedule=deadline.cron,
              execution_timezone=RACE_TIMEZONE, job=job, default_status=schedule_status(),
              description=f"Evaluates the freshness check of {deadline.asset.to_user_string()} at its "
                          f"deadline: {deadline.what}. No API request.")
    def at_deadline(context: ScheduleEvaluationContext):
        when = tick_time(context)
        return RunRequest(run_key=f"freshness:{when.isoformat()}", tags={AS_OF_TAG: when.isoformat()})

    return freshness, job, at_deadline


_BUILT = [_build(deadline) for deadline in DEADLINES]
freshness_checks = [check for check, _, _ in _BUILT]
freshness_jobs = [job for _, job, _ in _BUILT]
freshness_schedules = [sched for _, _, sched in _BUILT]
FRESHNESS_CHECK_KEYS = [AssetCheckKey(d.asset, CHECK_NAME) for d in DEADLINES]
