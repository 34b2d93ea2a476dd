"""A simulated race day, unattended: every schedule and sensor ticked at its cadence against the simulator.

The driver moves one clock for everything — Dagster (through `time_machine`), the simulated API's clock and
the schedules' tick times — from `start` to `end` UK time, one automation tick at a time, and executes each
requested run in process against the real Postgres. It is what `bench/raceday.py` measures and what the
race-day test asserts on: results lag, API requests, runs, missed races, duplicate requests, failed checks.

Ticks: schedules at their cron times, `results_watch` every `RESULTS_WATCH_INTERVAL_S`, the automation
sensor every `automation_interval_s` (its `minimum_interval_seconds`). A run key seen before is not run
again (as the daemon does) and is reported as a duplicate.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import psycopg
from dagster import (
    AssetKey,
    BetaWarning,
    DagsterEventType,
    DagsterInstance,
    Definitions,
    EventRecordsFilter,
    RunRequest,
    build_schedule_context,
    build_sensor_context,
    evaluate_automation_conditions,
)
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG
from dagster._utils.schedules import cron_string_iterator

from darkhorses_assets.automation.schedules import AUTOMATION_TAG
from darkhorses_assets.automation.sensors import (
    AUTOMATION_INTERVAL_S,
    RESULTS_WATCH_INTERVAL_S,
    missing_ranges,
    results_watch,
)
from darkhorses_assets.partitions import RACE_TIMEZONE

UK = ZoneInfo(RACE_TIMEZONE)
PROFILE_PATH = "/v1/horses/"
_log = logging.getLogger(__name__)


@dataclass
class ExecutedRun:
    at: datetime
    source: str
    assets: list[str]
    partitions: str
    success: bool
    seconds: float


@dataclass
class RaceDayReport:
    day: date
    runs: list[ExecutedRun] = field(default_factory=list)
    duplicate_run_keys: list[str] = field(default_factory=list)
    api_requests: int = 0
    profile_requests: int = 0
    published: dict[str, datetime] = field(default_factory=dict)
    """Race id → when its result appeared on the API (races published by the end of the day)."""
    in_clean_results: dict[str, datetime] = field(default_factory=dict)
    """Race id → the first tick at which its rows were in clean.results."""
    failed_checks: list[str] = field(default_factory=list)
    tomorrow_runners: int = 0
    tomorrow_runners_with_features: int = 0

    @property
    def lags_min(self) -> list[float]:
        return sorted((self.in_clean_results[r] - at).total_seconds() / 60
                      for r, at in self.published.items() if r in self.in_clean_results)

    @property
    def missed_races(self) -> list[str]:
        return sorted(set(self.published) - set(self.in_clean_results))

    @property
    def failed_runs(self) -> list[ExecutedRun]:
        return [run for run in self.runs if not run.success]

    def lag_p95_min(self) -> float:
        lags = self.lags_min
        return lags[min(len(lags) - 1, int(0.95 * len(lags)))] if lags else float("nan")

    def summary(self) -> str:
        return (f"results_lag_p95_min={self.lag_p95_min():.1f} api_requests={self.api_requests} "
                f"runs={len(self.runs)} missed_races={len(self.missed_races)}")


def _cron_ticks(cron: str, after: datetime, until: datetime) -> list[datetime]:
    ticks = []
    for tick in cron_string_iterator(after.timestamp(), cron, RACE_TIMEZONE):
        if tick > until:
            break
        if tick > after:
            ticks.append(tick.astimezone(UK))
    return ticks


def _contiguous(keys: Iterable[str]) -> list[tuple[str, str]]:
    """Daily partition keys as runs of consecutive days (first, last), oldest first."""
    days = sorted(date.fromisoformat(k) for k in keys)
    return [(first.isoformat(), last.isoformat()) for first, last in missing_ranges(days, set(), len(days))]


def race_day_resources(database_url: str, simulator, **client_settings) -> dict:
    """The project's resources on `database_url` and a simulator (no client-side rate limit: the simulated day
    is measured in simulated minutes and API requests, not in seconds)."""
    from darkhorses_assets.io import PostgresPolarsIOManager
    from darkhorses_assets.io.run_failures import RunFailureStore
    from darkhorses_assets.io.warehouse import WarehouseResource
    from darkhorses_assets.racing_api.client import RacingApiResource

    config = simulator.config
    return {
        "io_manager": PostgresPolarsIOManager(database_url=database_url),
        "warehouse": WarehouseResource(database_url=database_url),
        "run_failures": RunFailureStore(database_url=database_url),
        "racing_api": RacingApiResource(base_url=simulator.url, username=config.username,
                                        password=config.password,
                                        **{"requests_per_second": 1000, **client_settings}),
    }


def execute_request(repository, instance: DagsterInstance, request: RunRequest, job_name: str | None = None,
                    log_level: str = "INFO"):
    """Run `request` in process as the daemon would: its job (default: every asset), narrowed to the request's
    assets and checks, with its partition(s), tags and run config; the console shows `log_level` and above."""
    job = repository.get_job(job_name) if job_name else repository.get_implicit_global_asset_job_def()
    if request.asset_selection is not None:
        checks = set(request.asset_check_keys) if request.asset_check_keys is not None else None
        job = job.get_subset(asset_selection=set(request.asset_selection), asset_check_selection=checks)
    run_config = {**(request.run_config or {}), "loggers": {"console": {"config": {"log_level": log_level}}}}
    return job.execute_in_process(instance=instance, partition_key=request.partition_key,
                                  tags=dict(request.tags), run_config=run_config, raise_on_error=False)


class RaceDayDriver:
    """Drives `defs` through one UK race day; see the module docstring."""

    def __init__(self, defs: Definitions, simulator, database_url: str, day: date, *,
                 start: time = time(5, 30), end: time = time(22, 0), automation_interval_s: int = AUTOMATION_INTERVAL_S,
                 progress: Callable[[str], None] | None = None, log_level: str = "WARNING"):
        self.defs, self.sim, self.database_url, self.day = defs, simulator, database_url, day
        self.start, self.end = datetime.combine(day, start, UK), datetime.combine(day, end, UK)
        self.automation_interval = timedelta(seconds=automation_interval_s)
        self.instance = DagsterInstance.ephemeral()
        self.repository = defs.get_repository_def()
        self.report = RaceDayReport(day=day)
        self.progress = progress or (lambda message: _log.info(message))
        self.log_level = log_level
        self._run_keys: set[str] = set()
        self._setup_requests = 0
        self._sensor_cursor: str | None = None
        self._automation_cursor = None

    # -- running requests --------------------------------------------------------------------------------

    def _execute(self, now: datetime, request: RunRequest, source: str, job_name: str | None = None) -> None:
        if request.run_key:
            if request.run_key in self._run_keys:
                self.report.duplicate_run_keys.append(request.run_key)
                return
            self._run_keys.add(request.run_key)
        started = datetime.now(UK)
        result = execute_request(self.repository, self.instance, request, job_name, self.log_level)
        tags = request.tags
        partitions = request.partition_key or (
            f"{tags[ASSET_PARTITION_RANGE_START_TAG]}..{tags[ASSET_PARTITION_RANGE_END_TAG]}"
            if ASSET_PARTITION_RANGE_START_TAG in tags else "")
        assets = sorted(k.to_user_string() for k in request.asset_selection or [])
        self.report.runs.append(ExecutedRun(now, source, assets, partitions, result.success,
                                            (datetime.now(UK) - started).total_seconds()))
        if not result.success:
            self.progress(f"{now:%H:%M} run FAILED: {source} {assets} {partitions}")

    def _automation_tick(self, now: datetime) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", BetaWarning)  # Dagster's own selection inside the evaluator
            result = evaluate_automation_conditions(defs=self.defs, instance=self.instance, evaluation_time=now,
                                                    cursor=self._automation_cursor)
        self._automation_cursor = result.cursor
        if not result.total_requested:
            return
        groups: dict[tuple[tuple[str, str], ...] | None, list[AssetKey]] = {}
        for entity_result in result.results:
            key = entity_result.key
            if not isinstance(key, AssetKey):
                continue
            try:
                partitions = result.get_requested_partitions(key)
            except KeyError:
                continue
            if not partitions:
                continue
            ranges = None if partitions == {None} else tuple(_contiguous(p for p in partitions if p is not None))
            groups.setdefault(ranges, []).append(key)
        for ranges, keys in groups.items():
            label = f"automation@{now:%H%M}"
            for first, last in ranges or [(None, None)]:
                tags = {AUTOMATION_TAG: "darkhorses_automation"}
                if first is not None:
                    tags.update({ASSET_PARTITION_RANGE_START_TAG: first, ASSET_PARTITION_RANGE_END_TAG: last})
                self._execute(now, RunRequest(asset_selection=keys, tags=tags), label)

    # -- the day -------------------------------------------------------------------------------------------

    def _move_to(self, traveller, when: datetime) -> None:
        traveller.move_to(when)
        self.sim.clock.set(when)

    def run(self) -> RaceDayReport:
        """The day from `start` to `end`. Before it, the course list is fetched once (the Monday schedule's job
        on an installed platform); that request is not counted."""
        import time_machine  # deferred: only the simulated day needs to move Dagster's clock

        repository = self.repository
        schedules = list(repository.schedule_defs)
        courses = next(s for s in schedules if s.name == "courses_weekly")
        with time_machine.travel(self.start - timedelta(minutes=1), tick=True) as traveller:
            self._move_to(traveller, self.start - timedelta(minutes=1))
            self._execute(self.start, RunRequest(run_key="setup:raw_courses"), "setup", courses.job_name)
            self._setup_requests = self.sim.stats()["total"]
            self._automation_cursor = evaluate_automation_conditions(
                defs=self.defs, instance=self.instance).cursor
            previous = self.start - timedelta(minutes=1)
            now = self.start
            next_watch = self.start
            while now <= self.end:
                self._move_to(traveller, now)
                for schedule in schedules:
                    for tick in _cron_ticks(schedule.cron_schedule, previous, now):
                        context = build_schedule_context(instance=self.instance, scheduled_execution_time=tick,
                                                         repository_def=repository)
                        data = schedule.evaluate_tick(context)
                        for request in data.run_requests or []:
                            self._execute(now, request, schedule.name, schedule.job_name)
                if now >= next_watch:
                    next_watch += timedelta(seconds=RESULTS_WATCH_INTERVAL_S)
                    self._watch(now)
                self._automation_tick(now)
                self._record_clean_results(now)
                previous, now = now, now + self.automation_interval
                if now.minute == 0 and now.second == 0:
                    self.progress(f"{now:%H:%M} runs={len(self.report.runs)} "
                                  f"results_in_clean={len(self.report.in_clean_results)}")
        self._finish()
        return self.report

    def _watch(self, now: datetime) -> None:
        resources = {"racing_api": self.repository.get_top_level_resources()["racing_api"]}
        with build_sensor_context(instance=self.instance, cursor=self._sensor_cursor,
                                  resources=resources) as context:
            result = results_watch(context)
        self._sensor_cursor = result.cursor
        for request in result.run_requests or []:
            self._execute(now, request, "results_watch")

    def _record_clean_results(self, now: datetime) -> None:
        with psycopg.connect(self.database_url) as conn:
            exists = conn.execute("SELECT to_regclass('clean.results')").fetchone()[0]
            if exists is None:
                return
            rows = conn.execute("SELECT DISTINCT race_id FROM clean.results WHERE race_date = %s",
                                (self.day,)).fetchall()
        for (race_id,) in rows:
            self.report.in_clean_results.setdefault(race_id, now)

    def _finish(self) -> None:
        report = self.report
        for race_id, _off, published in self.sim.app.race_day_timeline(self.day):
            if published is not None and published <= self.end:
                report.published[race_id] = published
        requests = self.sim.stats()["requests"][self._setup_requests:]
        report.profile_requests = sum(1 for _, path, _ in requests if path.startswith(PROFILE_PATH))
        report.api_requests = len(requests) - report.profile_requests
        for record in self.instance.get_event_records(
            EventRecordsFilter(event_type=DagsterEventType.ASSET_CHECK_EVALUATION)
        ):
            evaluation = record.event_log_entry.dagster_event.event_specific_data
            if not evaluation.passed:
                report.failed_checks.append(
                    f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}")
        tomorrow = self.day + timedelta(days=1)
        with psycopg.connect(self.database_url) as conn:
            report.tomorrow_runners = conn.execute(
                "SELECT count(*) FROM clean.runners WHERE race_date = %s", (tomorrow,)).fetchone()[0]
            features = conn.execute("SELECT to_regclass('features.runner_features')").fetchone()[0]
            if features is not None:
                report.tomorrow_runners_with_features = conn.execute(
                    "SELECT count(*) FROM clean.runners r JOIN features.runner_features f "
                    "USING (race_id, horse_id) WHERE r.race_date = %s", (tomorrow,)).fetchone()[0]
