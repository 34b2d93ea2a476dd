"""`darkhorses backfill --start D --end D [--layer raw|clean|features|all]`: a partition backfill as the UI
launches one, followed with a progress bar.

The backfill is an asset backfill (`PartitionBackfill.from_asset_partitions`, what the UI's "Materialize
partitions" and GraphQL `launchPartitionBackfill` create), stored in the instance: it appears under Runs →
Backfills, the daemon runs it, and each asset's backfill policy decides the runs (raw: 31 days per run, clean:
92, features: one run). It targets the race-day partitioned assets of the layer; the unpartitioned ones
(dimensions, statistics, profiles) follow by their automation conditions.

Following it shows asset partitions done / failed / remaining, the API requests its runs made (the
`api_requests` metadata of their materializations) and an ETA. Ctrl-C stops following only: the backfill keeps
running, and the command says how to cancel it (`darkhorses backfill --cancel ID`, or the UI).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field

from darkhorses_assets.commands.common import (
    DAEMON_HEARTBEAT_TOLERANCE_S,
    CommandError,
    load_definitions,
    open_instance,
    race_day_range,
)

LAYERS = ("raw", "clean", "features", "all")
BACKFILL_DAEMON = "BACKFILL"
LAUNCHED_BY_TAG = "darkhorses/launched_by"
API_REQUESTS = "api_requests"
POLL_S = 1.0
INTERRUPTED = 130


def add_parser(commands) -> None:
    parser = commands.add_parser("backfill", help="submit a partition backfill (as the UI does) and follow it")
    parser.add_argument("--start", help="first race day, YYYY-MM-DD")
    parser.add_argument("--end", help="last race day, YYYY-MM-DD (inclusive)")
    parser.add_argument("--layer", choices=LAYERS, default="all",
                        help="race-day assets of one layer, or all of them (default)")
    parser.add_argument("--no-follow", action="store_true", help="submit and return at once")
    parser.add_argument("--follow", metavar="ID", help="follow a backfill already submitted")
    parser.add_argument("--cancel", metavar="ID", help="cancel a backfill (its runs in flight finish)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.cancel:
        with open_instance() as instance:
            return cancel(instance, args.cancel)
    defs = load_definitions()
    graph = defs.resolve_asset_graph()
    if args.follow:
        with open_instance() as instance:
            if instance.get_backfill(args.follow) is None:
                raise CommandError(f"no backfill {args.follow!r} in this instance")
            return follow(instance, args.follow, graph)
    if not args.start or not args.end:
        raise CommandError("--start and --end are required (or --follow ID / --cancel ID)")
    days = race_day_range(args.start, args.end)
    keys = layer_assets(graph, args.layer)
    with open_instance() as instance:
        backfill_id = submit(instance, graph, keys, [day.isoformat() for day in days], args.layer)
        assets = ", ".join(key.to_user_string() for key in keys)
        _say(f"backfill {backfill_id} submitted: {len(days)} race day(s) {days[0]} … {days[-1]} of {assets}")
        if not daemon_running(instance):
            _say(no_daemon_message(instance))
        if args.no_follow:
            _say(f"follow it: darkhorses backfill --follow {backfill_id}; {cancel_hint(backfill_id)}")
            return 0
        return follow(instance, backfill_id, graph)


def layer_assets(graph, layer: str) -> list:
    """The race-day partitioned assets of `layer` (its Dagster group), or of every layer for `all`."""
    keys = [key for key in graph.get_all_asset_keys()
            if graph.get(key).is_materializable and graph.get(key).partitions_def is not None
            and (layer == "all" or graph.get(key).group_name == layer)]
    return sorted(keys, key=lambda key: key.to_user_string())


def submit(instance, graph, keys, partition_names: list[str], layer: str) -> str:
    """Store an asset backfill of `keys` × `partition_names` as the UI's launchPartitionBackfill does."""
    from dagster._core.execution.backfill import PartitionBackfill
    from dagster._core.utils import make_new_backfill_id
    from dagster._time import get_current_timestamp

    backfill_id = make_new_backfill_id()
    backfill = PartitionBackfill.from_asset_partitions(
        backfill_id=backfill_id,
        asset_graph=graph,
        partition_names=partition_names,
        asset_selection=keys,
        backfill_timestamp=get_current_timestamp(),
        tags={LAUNCHED_BY_TAG: "darkhorses backfill"},
        dynamic_partitions_store=instance,
        all_partitions=False,
        title=f"darkhorses backfill {layer} {partition_names[0]}..{partition_names[-1]}",
        description=None,
        run_config=None,
    )
    instance.add_backfill(backfill)
    return backfill_id


def cancel(instance, backfill_id: str) -> int:
    """Mark the backfill CANCELING, as the UI's Cancel does: the daemon requests no more runs and cancels
    the ones in flight."""
    from dagster._core.execution.backfill import BULK_ACTION_TERMINAL_STATUSES, BulkActionStatus

    backfill = instance.get_backfill(backfill_id)
    if backfill is None:
        raise CommandError(f"no backfill {backfill_id!r} in this instance")
    if backfill.status in BULK_ACTION_TERMINAL_STATUSES:
        raise CommandError(f"backfill {backfill_id} has already ended ({backfill.status.value})")
    instance.update_backfill(backfill.with_status(BulkActionStatus.CANCELING))
    _say(f"backfill {backfill_id} is being canceled (the daemon stops it)")
    if not daemon_running(instance):
        _say(no_daemon_message(instance))
    return 0


def daemon_running(instance) -> bool:
    beat = instance.get_daemon_heartbeats().get(BACKFILL_DAEMON)
    return beat is not None and time.time() - beat.timestamp <= DAEMON_HEARTBEAT_TOLERANCE_S


def no_daemon_message(instance) -> str:
    return (f"no Dagster daemon is running for this instance ({instance.root_directory}): no backfill-daemon "
            f"heartbeat in the last {DAEMON_HEARTBEAT_TOLERANCE_S} s, so nothing runs until one starts — start "
            "`make dev` (or `dagster dev` / `dagster-daemon run` with the same DAGSTER_HOME)")


def cancel_hint(backfill_id: str) -> str:
    return (f"cancel it with `darkhorses backfill --cancel {backfill_id}` or in the Dagster UI: Runs → Backfills → "
            f"{backfill_id} → Cancel backfill")


@dataclass
class Progress:
    status: str
    total: int
    done: int
    failed: int
    runs: int
    api_requests: int

    @property
    def remaining(self) -> int:
        return max(self.total - self.done - self.failed, 0)


@dataclass
class RequestCounter:
    """API requests made by a backfill's runs: per run and asset the `api_requests` of its materializations
    (a range run repeats one output's metadata on every partition, so once per run and asset)."""

    finished: dict[str, int] = field(default_factory=dict)

    def count(self, instance, runs) -> int:
        from dagster import DagsterEventType

        total = 0
        for run in runs:
            if run.run_id in self.finished:
                total += self.finished[run.run_id]
                continue
            per_asset: dict = {}
            records = instance.get_records_for_run(
                run.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION, limit=100_000).records
            for record in records:
                materialization = record.event_log_entry.asset_materialization
                value = materialization.metadata.get(API_REQUESTS) if materialization else None
                if value is not None:
                    key = materialization.asset_key
                    per_asset[key] = max(per_asset.get(key, 0), int(value.value))
            requests = sum(per_asset.values())
            if run.is_finished:
                self.finished[run.run_id] = requests
            total += requests
        return total


def progress_of(instance, backfill, graph, counter: RequestCounter) -> Progress:
    from dagster._core.storage.dagster_run import RunsFilter

    data = backfill.get_asset_backfill_data(graph)
    runs = instance.get_runs(RunsFilter.for_backfill(backfill.backfill_id))
    return Progress(
        status=backfill.status.value,
        total=data.target_subset.num_partitions_and_non_partitioned_assets,
        done=data.materialized_subset.num_partitions_and_non_partitioned_assets,
        failed=data.failed_and_downstream_subset.num_partitions_and_non_partitioned_assets,
        runs=len(runs),
        api_requests=counter.count(instance, runs),
    )


def follow(instance, backfill_id: str, graph, poll_s: float = POLL_S, console=None) -> int:
    """Show the backfill's progress until it ends: 0 when every partition succeeded, 1 otherwise; Ctrl-C
    leaves it running (exit 130)."""
    from dagster._core.execution.backfill import BULK_ACTION_TERMINAL_STATUSES, BulkActionStatus
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as Bar

    console = console or Console(stderr=True)
    if not console.is_terminal:
        console.width = max(console.width, 160)  # a log file gets the whole line
    counter = RequestCounter()
    started, first_settled = time.monotonic(), None
    progress = progress_of(instance, instance.get_backfill(backfill_id), graph, counter)
    columns = [TextColumn(f"[bold]{backfill_id}"), BarColumn(bar_width=None), MofNCompleteColumn(),
               TextColumn("done {task.fields[done]} · failed {task.fields[failed]} · left {task.fields[left]}"),
               TextColumn("· runs {task.fields[runs]} · API requests {task.fields[api]} · ETA {task.fields[eta]}"),
               TimeElapsedColumn(), TextColumn("{task.fields[note]}")]
    try:
        with Bar(*columns, console=console, transient=False) as bar:
            task = bar.add_task("backfill", total=progress.total, done=0, failed=0, left=progress.total, runs=0,
                                api=0, eta="?", note="")
            while True:
                backfill = instance.get_backfill(backfill_id)
                progress = progress_of(instance, backfill, graph, counter)
                settled = progress.done + progress.failed
                if first_settled is None:
                    first_settled = settled
                bar.update(task, completed=settled, done=progress.done, failed=progress.failed,
                           left=progress.remaining, runs=progress.runs, api=progress.api_requests,
                           eta=_eta(started, first_settled, settled, progress.remaining),
                           note="" if daemon_running(instance) else "[yellow]waiting for a Dagster daemon")
                if backfill.status in BULK_ACTION_TERMINAL_STATUSES:
                    break
                time.sleep(poll_s)
    except KeyboardInterrupt:
        _say(f"stopped following; backfill {backfill_id} keeps running in the daemon. {cancel_hint(backfill_id)}")
        return INTERRUPTED
    _say(f"backfill {backfill_id} {progress.status}: {progress.done} asset partition(s) done, {progress.failed} "
         f"failed, {progress.remaining} not run; {progress.runs} run(s), {progress.api_requests} API request(s)")
    return 0 if backfill.status == BulkActionStatus.COMPLETED_SUCCESS and not progress.failed else 1


def _eta(started: float, first_settled: int, settled: int, remaining: int) -> str:
    """Remaining time at the pace seen since following began ('?' until a partition has settled)."""
    if remaining == 0:
        return "0s"
    pace = (settled - first_settled) / max(time.monotonic() - started, 1e-6)
    if pace <= 0:
        return "?"
    seconds = int(remaining / pace)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s"


def _say(message: str) -> None:
    print(f"darkhorses: {message}", file=sys.stderr, flush=True)
