"""Counts taken from raw JSON rows for tests, by the reconciliation's own independent road."""

import polars as pl

from darkhorses_assets.transforms.raw_counts import racecard_counts


def raw_runner_count(raw_racecards: pl.DataFrame) -> int:
    """Runners in the raw racecard JSON (`transforms.raw_counts`), over all races."""
    return int(racecard_counts(raw_racecards)["runners"].sum())
