"""Sensors: today's results as they are published, downstream assets after upstream, gaps filled on request.

- `results_watch` asks the API one cheap question per tick during racing hours — how many results does today
  have? (`limit=1`, read `total`) — and requests today's `raw_results` when the answer grew.
- `darkhorses_automation` evaluates the declarative automation conditions (`automation/conditions.py`).
- `raw_gap_filler` requests missing raw race days in bounded ranges; it spends API budget, so it ships STOPPED.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dagster import (
    AssetSelection,
    AutomationConditionSensorDefinition,
    DagsterInstance,
    RunsFilter,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)
from dagster._core.storage.dagster_run import NOT_FINISHED_STATUSES

from darkhorses_assets.assets.raw import DAYS_PER_RUN, RACING_API_POOL
from darkhorses_assets.automation.schedules import (
    AUTOMATION_TAG,
    RAW_RACECARDS,
    RAW_RESULTS,
    day_request,
    range_request,
)
from darkhorses_assets.automation.status import sensor_status
from darkhorses_assets.partitions import RACE_TIMEZONE, race_days
from darkhorses_assets.racing_api.client import RacingApiResource
from darkhorses_assets.racing_api.errors import RacingApiAuthError, RacingApiCredentialsMissing, RacingApiError

UK = ZoneInfo(RACE_TIMEZONE)
RACING_HOURS = (time(11, 0), time(22, 0))
"""UK racing hours, first results to last: GB + IRE racing runs from about 11:00 to 21:00, results follow."""
RESULTS_WATCH_INTERVAL_S = 180
MAX_POOL_WAIT = timedelta(minutes=10)
"""While a run holds the `racing_api` pool the watch skips its request, but never for longer than this."""
GAP_FILLER_INTERVAL_S = 300
AUTOMATION_INTERVAL_S = RESULTS_WATCH_INTERVAL_S
"""Automation conditions are evaluated at the results watch's cadence (every 3 min): new raw data arrives no more
often, so results still reach clean tables within minutes, and the evaluation (≈ 0.3 s of CPU for the whole graph
on a 2-core machine) stays a small share of the daemon's time."""
GAP_FILLER_MAX_ATTEMPTS = 3


@dataclass
class WatchCursor:
    """What `results_watch` saw last: the day, its result count, when it last asked."""

    day: str = ""
    total: int = 0
    asked_at: str = ""

    @classmethod
    def parse(cls, text: str | None) -> tuple[WatchCursor, str | None]:
        """The cursor, and a warning when an unreadable (e.g. older-format) cursor was reset."""
        if not text:
            return cls(), None
        try:
            data = json.loads(text)
            cursor = cls(day=str(data["day"]), total=int(data["total"]), asked_at=str(data.get("asked_at", "")))
            if cursor.asked_at and datetime.fromisoformat(cursor.asked_at).tzinfo is None:
                raise ValueError("asked_at has no UTC offset")
            return cursor, None
        except (ValueError, TypeError, KeyError) as error:
            return cls(), f"reset an unreadable cursor ({type(error).__name__}: {text[:80]!r})"

    def dump(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


def _pool_busy(instance: DagsterInstance) -> bool:
    """True while a step holds the API pool: its own requests are using the 2 requests/s."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return False
    return storage.get_concurrency_info(RACING_API_POOL).active_slot_count > 0


def _recently(asked_at: str, now: datetime, within: timedelta) -> bool:
    return bool(asked_at) and now - datetime.fromisoformat(asked_at) < within


@sensor(
    name="results_watch",
    target=[RAW_RESULTS],
    minimum_interval_seconds=RESULTS_WATCH_INTERVAL_S,
    default_status=sensor_status(),
    description="Racing hours (11:00–22:00 UK), every 3 minutes: one request (`/v1/results` for today, limit=1) "
                "reads how many results today has; when the count grew, today's raw_results is fetched "
                "(run key = day + count, so one change starts one run). About 220 requests a day.",
)
def results_watch(context: SensorEvaluationContext, racing_api: RacingApiResource):
    now = datetime.now(UK)
    cursor, warning = WatchCursor.parse(context.cursor)
    if warning:
        context.log.warning(f"results_watch: {warning}")
    if not RACING_HOURS[0] <= now.time() <= RACING_HOURS[1]:
        return SensorResult(skip_reason=f"outside racing hours ({now:%H:%M} UK)", cursor=cursor.dump())
    if _pool_busy(context.instance) and _recently(cursor.asked_at, now, MAX_POOL_WAIT):
        return SensorResult(skip_reason="a run is using the racing_api pool; asking next tick", cursor=cursor.dump())
    today = now.date()
    try:
        total = racing_api.results_total(today)
    except RacingApiAuthError:
        raise
    except RacingApiCredentialsMissing as error:
        return SensorResult(skip_reason=str(error), cursor=cursor.dump())
    except RacingApiError as error:
        return SensorResult(skip_reason=f"the API did not answer ({error}); asking next tick", cursor=cursor.dump())
    seen = cursor.total if cursor.day == today.isoformat() else 0
    asked = WatchCursor(day=today.isoformat(), total=max(total, seen), asked_at=now.isoformat())
    if total <= seen:
        return SensorResult(skip_reason=f"{today}: still {total} results", cursor=asked.dump())
    context.log.info(f"results_watch: {today} has {total} results (was {seen}); fetching raw_results")
    request = day_request(RAW_RESULTS, today, "results_watch", f"{total}")
    return SensorResult(run_requests=[request], cursor=asked.dump())


@dataclass
class GapCursor:
    attempts: dict[str, int] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str | None) -> GapCursor:
        try:
            return cls(attempts={str(k): int(v) for k, v in json.loads(text or "{}").get("attempts", {}).items()})
        except (ValueError, TypeError, AttributeError):
            return cls()

    def dump(self) -> str:
        return json.dumps({"attempts": self.attempts}, sort_keys=True)


def missing_ranges(days: list[date], stored: set[str], max_days: int) -> list[tuple[date, date]]:
    """Consecutive runs of days not in `stored`, each cut to at most `max_days`, oldest first."""
    ranges: list[tuple[date, date]] = []
    for day in days:
        if day.isoformat() in stored:
            continue
        if ranges and ranges[-1][1] == day - timedelta(days=1) and (day - ranges[-1][0]).days < max_days:
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges


@sensor(
    name="raw_gap_filler",
    target=[RAW_RESULTS, RAW_RACECARDS],
    minimum_interval_seconds=GAP_FILLER_INTERVAL_S,
    default_status=sensor_status(ships_running=False),
    description="Ships STOPPED because it spends API budget (about 2 requests per race day and asset): turn it "
                f"on to fetch every raw race day from the start date to yesterday that is missing or failed, "
                f"one range of up to {DAYS_PER_RUN} days per asset at a time, waiting for the previous one. "
                f"A range that failed {GAP_FILLER_MAX_ATTEMPTS} times is left for a person to look at.",
)
def raw_gap_filler(context: SensorEvaluationContext):
    instance = context.instance
    in_flight = instance.get_runs(
        filters=RunsFilter(statuses=NOT_FINISHED_STATUSES, tags={AUTOMATION_TAG: "raw_gap_filler"}), limit=1
    )
    if in_flight:
        return SkipReason(f"waiting for run {in_flight[0].run_id} to finish")
    cursor = GapCursor.parse(context.cursor)
    yesterday = datetime.now(UK).date() - timedelta(days=1)
    days = [date.fromisoformat(key) for key in race_days.get_partition_keys() if date.fromisoformat(key) <= yesterday]
    requests, given_up = [], []
    for asset in (RAW_RESULTS, RAW_RACECARDS):
        stored = instance.get_materialized_partitions(asset)
        for first, last in missing_ranges(days, stored, DAYS_PER_RUN):
            label = f"{asset.path[-1]}:{first}..{last}"
            tries = cursor.attempts.get(label, 0)
            if tries >= GAP_FILLER_MAX_ATTEMPTS:
                given_up.append(label)
                continue
            cursor.attempts[label] = tries + 1
            requests.append(range_request(asset, first, last, "raw_gap_filler", attempt=tries + 1))
            break
    if given_up:
        context.log.warning(f"raw_gap_filler: gave up after {GAP_FILLER_MAX_ATTEMPTS} attempts on {given_up[:5]}")
    if not requests:
        reason = (f"nothing to request: {len(given_up)} range(s) failed {GAP_FILLER_MAX_ATTEMPTS} times and wait "
                  f"for a person (e.g. {given_up[0]}; see the failed runs)" if given_up else "no missing raw race days")
        return SensorResult(skip_reason=reason, cursor=cursor.dump())
    return SensorResult(run_requests=requests, cursor=cursor.dump())


automation_sensor = AutomationConditionSensorDefinition(
    "darkhorses_automation",
    target=AssetSelection.all() - AssetSelection.key_prefixes("raw"),
    default_status=sensor_status(),
    minimum_interval_seconds=AUTOMATION_INTERVAL_S,
    description="Every 3 minutes: runs clean, feature, dimension and statistics assets when their automation "
                "conditions say so (see each asset's Automation tab): clean after raw, features after clean, "
                "dimensions and statistics nightly.",
)


sensors = [results_watch, raw_gap_filler, automation_sensor]
