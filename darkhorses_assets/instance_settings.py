"""Dagster instance settings that are read from the environment rather than from dagster.yaml.

A single-run backfill over N daily partitions makes Dagster write one "materialization planned" and one
"materialization" event per partition and per asset; with dagster-postgres each is its own connection and
commit (≈ 8 ms). At 10 years × several assets that bookkeeping dwarfs the work itself. Both settings below
are Dagster's own switches (see `dagster._core.instance.methods.event_methods` and
`EventLogStorage.supports_partition_subset_in_asset_materialization_planned_events`):

- `DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS`: one planned event per asset carrying the run's whole
  partition subset. Trade-off (Dagster's): when such a run fails, its partitions show as missing, not failed.
- `DAGSTER_EVENT_BATCH_SIZE`: the per-partition materialization events of one output are inserted in
  batches of this size (one statement) instead of one by one.

They must be set in every Dagster process, and nothing is set on import: `configure_dagster_process` applies them
where a Dagster process starts — the code location (`definitions.py`: code servers, run workers, `dagster asset
materialize`), the project's storage classes named in dagster.yaml (`local.dagster_storage`: webserver and daemon,
which create the runs of the UI, schedules, sensors and backfills), the `darkhorses` CLI, the tests' conftest and
the benches; `darkhorses dev` also passes them to the processes it starts, for a dagster.yaml that names other
storage. A value already in the environment wins.
"""

from __future__ import annotations

import os
import warnings

from dagster import BetaWarning

DAGSTER_EVENT_SETTINGS = {
    "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS": "1",
    "DAGSTER_EVENT_BATCH_SIZE": "1000",
}


def configure_dagster_process() -> None:
    """The event settings above (unless already set), and silence for the BetaWarnings of our deliberate beta
    parameters with no stable equivalent (range backfills, lifetime history windows): without it every process
    loading the code (code server, each run and step worker) repeats them. Idempotent."""
    for name, value in DAGSTER_EVENT_SETTINGS.items():
        os.environ.setdefault(name, value)
    warnings.filterwarnings(
        "ignore", category=BetaWarning,
        message=r"Parameter `(backfill_policy|allow_nonexistent_upstream_partitions)` of ",
    )
