"""Helpers shared by the transforms: typed column selection in a fixed order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from darkhorses_assets.transforms._decode import RAW_JSON

Schema = dict[str, pl.DataType]


def select_schema(
    frame: pl.DataFrame,
    expressions: Mapping[str, pl.Expr],
    schema: Schema,
    include_raw: bool = False,
    few_values: Sequence[str] = (),
) -> pl.DataFrame:
    """Evaluate one expression per schema column, cast to the schema dtype, in schema order; the
    decoded `raw_json` column is appended last when asked for.

    `few_values` names source columns with few distinct values among many rows (an odds row's `bookmaker`,
    `updated`, `decimal`): an expression reading only such a column is evaluated once per distinct value and
    joined back, instead of once per row (5× less for the odds of a quarter). Such expressions must be
    row-wise (no windows, no order), as every parser expression is."""
    frame, expressions = _by_distinct_value(frame, expressions, schema, few_values)
    columns = [expressions[name].cast(dtype).alias(name) for name, dtype in schema.items()]
    if include_raw:
        columns.append(
            pl.col(RAW_JSON) if RAW_JSON in frame.columns else pl.lit(None, pl.String).alias(RAW_JSON)
        )
    return frame.select(columns)


def _by_distinct_value(
    frame: pl.DataFrame, expressions: Mapping[str, pl.Expr], schema: Schema, few_values: Sequence[str]
) -> tuple[pl.DataFrame, dict[str, pl.Expr]]:
    expressions = dict(expressions)
    for source in few_values:
        readers = {
            name: expression for name, expression in expressions.items()
            if set(expression.meta.root_names()) == {source}
        }  # fmt: skip
        if not readers:
            continue
        typed = {f"_{source}_{name}": expression.cast(schema[name]) for name, expression in readers.items()}
        values = frame.select(pl.col(source).unique()).with_columns(**typed)
        frame = frame.join(values, on=source, how="left", maintain_order="left", nulls_equal=True)
        expressions |= {name: pl.col(f"_{source}_{name}") for name in readers}
    return frame, expressions


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
