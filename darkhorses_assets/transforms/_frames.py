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


def with_raw_schema(schema: Schema) -> Schema:
    """The schema of a frame built with `include_raw=True`."""
    return {**schema, RAW_JSON: pl.String}
