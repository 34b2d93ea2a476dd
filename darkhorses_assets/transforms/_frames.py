"""Helpers shared by the transforms: typed column selection in a fixed order."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from darkhorses_assets.transforms._decode import RAW_JSON

Schema = dict[str, pl.DataType]


def select_schema(
    frame: pl.DataFrame,
    expressions: Mapping[str, pl.Expr],
    schema: Schema,
    include_raw: bool = False,
) -> pl.DataFrame:
    """Evaluate one expression per schema column, cast to the schema dtype, in schema order; the
    decoded `raw_json` column is appended last when asked for."""
    columns = [expressions[name].cast(dtype).alias(name) for name, dtype in schema.items()]
    if include_raw:
        columns.append(
            pl.col(RAW_JSON) if RAW_JSON in frame.columns else pl.lit(None, pl.String).alias(RAW_JSON)
        )
    return frame.select(columns)


def empty_frame(schema: Schema) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


def with_requested_dates(races: pl.DataFrame, requested_dates: pl.Series | None) -> pl.DataFrame:
    """Races (one row per payload, in payload order) whose own date is unreadable take the date the API was
    asked for, so even a race quarantined for a missing id is filed under the day it came from."""
    if requested_dates is None:
        return races
    if requested_dates.len() != races.height:
        raise ValueError(f"{requested_dates.len()} requested dates for {races.height} race payloads")
    return races.with_columns(pl.coalesce(pl.col("race_date"), requested_dates.cast(pl.Date)).alias("race_date"))
