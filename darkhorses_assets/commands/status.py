"""`darkhorses status`: per asset the latest materialized partition, missing race days, failing checks and runs in
flight; then every schedule and sensor with its state, the daemon and the backfills in progress.

All of it read from the Dagster instance (what the UI shows). The exit code is 1 when the latest evaluation of
a blocking check failed (cron and CI can stop on it), 0 otherwise, 2 when the instance cannot be read.
Schedules and sensors never switched in the UI are in the state they ship in (`automation/status.py`:
DARKHORSES_AUTOMATION), shown as `RUNNING (default)` / `STOPPED (default)`.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from darkhorses_assets.commands.common import DAEMON_HEARTBEAT_TOLERANCE_S, load_definitions, open_instance

BLOCKING_FAILED = 1
MAX_RANGES_SHOWN = 4


def add_parser(commands) -> None:
    parser = commands.add_parser("status", help="assets, checks, runs, schedules and sensors; exit 1 when a "
                                                "blocking check fails")
    parser.set_defaults(run=run)


@dataclass
class AssetStatus:
    key: str
    partitioned: bool
    latest: str = "never"
    missing_days: int = 0
    missing: str = ""
    failing_checks: list[str] = field(default_factory=list)
    blocking_failures: list[str] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)


@dataclass
class AutomationStatus:
    name: str
    kind: str
    state: str
    last_tick: str


@dataclass
class Status:
    assets: list[AssetStatus]
    automation: list[AutomationStatus]
    daemons: dict[str, float]
    """Daemon type → seconds since its last heartbeat."""
    backfills: list[str]

    @property
    def blocking_failures(self) -> list[str]:
        return [check for asset in self.assets for check in asset.blocking_failures]


def run(args: argparse.Namespace) -> int:
    with open_instance() as instance:
        status = collect(instance, load_definitions())
    render(status)
    return BLOCKING_FAILED if status.blocking_failures else 0


def collect(instance, defs, today: date | None = None) -> Status:
    from dagster import AssetKey
    from dagster._core.storage.dagster_run import NOT_FINISHED_STATUSES, RunsFilter

    from darkhorses_assets.automation.sensors import missing_ranges
    from darkhorses_assets.partitions import today_in_uk

    today = today or today_in_uk()
    graph = defs.resolve_asset_graph()
    runs_by_asset: dict[AssetKey, list[str]] = defaultdict(list)
    for run in instance.get_runs(RunsFilter(statuses=NOT_FINISHED_STATUSES)):
        label = f"{run.run_id[:8]} {run.status.value}{_partition_label(run.tags)}"
        for key in run.asset_selection or ():
            runs_by_asset[key].append(label)

    failing = _failing_checks(instance, graph)
    assets = []
    for key in sorted(graph.get_all_asset_keys(), key=lambda key: key.to_user_string()):
        node = graph.get(key)
        if not node.is_materializable:
            continue
        asset = AssetStatus(key.to_user_string(), node.partitions_def is not None, runs=runs_by_asset.get(key, []))
        if node.partitions_def is not None:
            stored = set(instance.get_materialized_partitions(key))
            first = date.fromisoformat(node.partitions_def.get_first_partition_key())
            past = [first + timedelta(days=offset) for offset in range((today - first).days + 1)]
            if stored:
                asset.latest = max(stored)
            gaps = missing_ranges(past, stored, max_days=len(past) + 1)
            asset.missing_days = sum((last - first).days + 1 for first, last in gaps)
            asset.missing = _ranges_text(gaps)
        else:
            event = instance.get_latest_materialization_event(key)
            if event is not None:
                asset.latest = datetime.fromtimestamp(event.timestamp).strftime("%Y-%m-%d %H:%M")
        for check_key, blocking in failing.get(key, []):
            asset.failing_checks.append(check_key.name + (" (blocking)" if blocking else ""))
            if blocking:
                asset.blocking_failures.append(f"{key.to_user_string()}:{check_key.name}")
        assets.append(asset)
    return Status(assets, _automation(instance, defs), _daemons(instance), _backfills(instance))


def _failing_checks(instance, graph) -> dict:
    """Asset key → [(check key, blocking)] of checks whose latest evaluation failed (a planned execution
    that never reported — Dagster leaves some planned after a range run — does not hide the last result)."""
    from dagster import AssetCheckSeverity
    from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus as Status_

    evaluated = {Status_.SUCCEEDED, Status_.FAILED}
    failing = defaultdict(list)
    for check_key in sorted(graph.asset_check_keys, key=str):
        records = instance.event_log_storage.get_asset_check_execution_history(
            check_key, limit=1, status=evaluated)
        if not records or records[0].status != Status_.FAILED:
            continue
        evaluation = records[0].event.dagster_event.event_specific_data if records[0].event else None
        severity = getattr(evaluation, "severity", AssetCheckSeverity.ERROR)
        blocking = graph.get_check_spec(check_key).blocking and severity == AssetCheckSeverity.ERROR
        failing[check_key.asset_key].append((check_key, blocking))
    return failing


def _automation(instance, defs) -> list[AutomationStatus]:
    from dagster._core.scheduler.instigation import InstigatorStatus

    repository = defs.get_repository_def()
    states = {(state.instigator_type.value, state.name): state for state in instance.all_instigator_state()}
    rows = []
    for kind, definitions in (("schedule", repository.schedule_defs), ("sensor", repository.sensor_defs)):
        for definition in sorted(definitions, key=lambda d: d.name):
            state = states.get((kind.upper(), definition.name))
            if state is not None and state.status in (InstigatorStatus.RUNNING, InstigatorStatus.STOPPED):
                shown = state.status.value
            else:
                shown = f"{definition.default_status.value} (default)"
            last_tick = "no tick yet"
            if state is not None:
                ticks = instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=1)
                if ticks:
                    when = datetime.fromtimestamp(ticks[0].timestamp).strftime("%Y-%m-%d %H:%M")
                    last_tick = f"{ticks[0].status.value} at {when}"
            rows.append(AutomationStatus(definition.name, kind, shown, last_tick))
    return rows


def _daemons(instance) -> dict[str, float]:
    now = time.time()
    return {kind: now - beat.timestamp for kind, beat in instance.get_daemon_heartbeats().items()}


def _backfills(instance) -> list[str]:
    from dagster._core.execution.backfill import BulkActionsFilter, BulkActionStatus

    active = [BulkActionStatus.REQUESTED, BulkActionStatus.CANCELING, BulkActionStatus.FAILING]
    return [f"{backfill.backfill_id} {backfill.status.value}"
            for backfill in instance.get_backfills(filters=BulkActionsFilter(statuses=active))]


def _partition_label(tags) -> str:
    if "dagster/partition" in tags:
        return f" {tags['dagster/partition']}"
    start, end = tags.get("dagster/asset_partition_range_start"), tags.get("dagster/asset_partition_range_end")
    return f" {start}…{end}" if start else ""


def _ranges_text(gaps: list[tuple[date, date]]) -> str:
    texts = [str(first) if first == last else f"{first}…{last}" for first, last in gaps[:MAX_RANGES_SHOWN]]
    if len(gaps) > MAX_RANGES_SHOWN:
        texts.append(f"+{len(gaps) - MAX_RANGES_SHOWN} more")
    return ", ".join(texts)


def render(status: Status, console=None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = console or Console(width=200 if not Console().is_terminal else None)
    assets = Table(title="Assets", title_justify="left")
    for column in ("asset", "latest", "missing days", "missing ranges", "failing checks", "running runs"):
        assets.add_column(column, overflow="fold")
    for asset in status.assets:
        missing = str(asset.missing_days) if asset.partitioned else "-"
        assets.add_row(asset.key, asset.latest, missing, asset.missing or "-",
                       ", ".join(asset.failing_checks) or "-", ", ".join(asset.runs) or "-")
    console.print(assets)
    automation = Table(title="Schedules and sensors", title_justify="left")
    for column in ("name", "kind", "state", "last tick"):
        automation.add_column(column)
    for row in status.automation:
        automation.add_row(row.name, row.kind, row.state, row.last_tick)
    console.print(automation)
    alive = sorted(kind for kind, age in status.daemons.items() if age <= DAEMON_HEARTBEAT_TOLERANCE_S)
    console.print(f"Daemon: {'running (' + ', '.join(alive) + ')' if alive else 'not running'}", highlight=False)
    console.print(f"Backfills in progress: {', '.join(status.backfills) or 'none'}", highlight=False)
    if status.blocking_failures:
        console.print(f"FAILING blocking checks: {', '.join(status.blocking_failures)}", highlight=False)
