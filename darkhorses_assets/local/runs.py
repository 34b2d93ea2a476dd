"""In-process runs over partition ranges, the way a single-run backfill executes them (benches, tests)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, timedelta

from dagster import DagsterInstance, materialize
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG


def day_chunks(first: date, last: date, days_per_run: int) -> Iterator[tuple[date, date]]:
    """[first, last] cut into consecutive inclusive ranges of at most `days_per_run` days."""
    start = first
    while start <= last:
        end = min(last, start + timedelta(days=days_per_run - 1))
        yield start, end
        start = end + timedelta(days=1)


def materialize_days(
    assets: Sequence,
    first: date,
    last: date,
    *,
    resources: dict,
    instance: DagsterInstance | None = None,
    days_per_run: int = 31,
    selection=None,
    raise_on_error: bool = True,
):
    """One run per chunk of days, each covering its whole range (as a BackfillPolicy would); returns results."""
    results = []
    for start, end in day_chunks(first, last, days_per_run):
        tags = {ASSET_PARTITION_RANGE_START_TAG: start.isoformat(), ASSET_PARTITION_RANGE_END_TAG: end.isoformat()}
        results.append(
            materialize(assets, resources=resources, instance=instance, tags=tags, selection=selection,
                        raise_on_error=raise_on_error)
        )
    return results
