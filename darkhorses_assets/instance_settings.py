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

They must be set in every Dagster process: importing `darkhorses_assets` sets them — in code servers, run workers,
`dagster asset materialize`, tests and benchmarks, and in the webserver and daemon too, which import the package's
storage classes named in the project's dagster.yaml (`local.dagster_storage`); `darkhorses dev` also passes them
to the processes it starts, for a dagster.yaml that names other storage. A value already in the environment wins.
"""

from __future__ import annotations

import os

DAGSTER_EVENT_SETTINGS = {
    "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS": "1",
    "DAGSTER_EVENT_BATCH_SIZE": "1000",
}


def apply_event_settings() -> None:
    for name, value in DAGSTER_EVENT_SETTINGS.items():
        os.environ.setdefault(name, value)
