"""Dimension tables (unpartitioned, `clean` schema) rebuilt from every partition of the clean tables.

Every dimension is validated against its models in `schemas.TABLES`: the valid rows are written, the
quarantined ones are only counted (`quarantined_rows` in the output and check metadata; no quarantine table),
and the table's hard-rule and soft-rule (incl. quarantine rate) checks are reported under `partition_range` "all".
"""

import polars as pl
from dagster import (
    AssetExecutionContext,
    AssetIn,
    AssetOut,
    MetadataValue,
    Output,
    asset,
    multi_asset,
)

from darkhorses_assets.assets.keys import CLEAN, OWNERS, clean_key, raw_key
from darkhorses_assets.checks import check_results_for, check_specs_for
from darkhorses_assets.column_schemas import with_column_schemas
from darkhorses_assets.reference import course_coordinates
from darkhorses_assets.schemas.validation import validate
from darkhorses_assets.transforms.courses import parse_courses
from darkhorses_assets.transforms.dimensions import ANCESTORS, DIMENSIONS, INPUT_COLUMNS, entity_dimension
from darkhorses_assets.transforms.racecards import RUNNERS_SCHEMA
from darkhorses_assets.transforms.results import RESULTS_SCHEMA

UNPARTITIONED = "all"
"""`partition_range` of the checks of an unpartitioned table."""

def _columns_of(schema: dict) -> list[str]:
    return [c for c in schema if c in INPUT_COLUMNS]


@multi_asset(
    name="entity_dimensions",
    outs={
        table: AssetOut(
            key=clean_key(table), group_name="dimensions", owners=OWNERS,
            kinds={"polars", "postgres"},
            description=f"One row per {entity}: latest known attributes, first/last seen race date, appearances."
            + (" `horse_id` is the ancestor's own horse id." if entity in ANCESTORS else ""),
        )
        for entity, table in DIMENSIONS.items()
    },
    ins={
        "runners": AssetIn(key=clean_key("runners"), metadata={"columns": _columns_of(RUNNERS_SCHEMA)}),
        "results": AssetIn(key=clean_key("results"), metadata={"columns": _columns_of(RESULTS_SCHEMA)}),
    },
    check_specs=[
        spec for table in DIMENSIONS.values() for spec in check_specs_for(clean_key(table), table, reconciliation=False)
    ],
)
def entity_dimensions(context: AssetExecutionContext, runners: pl.DataFrame, results: pl.DataFrame):
    """Rebuild every entity dimension from all clean runners and results; write the rows that pass."""
    validations = {table: validate(entity_dimension(runners, results, entity), table)
                   for entity, table in DIMENSIONS.items()}
    for table, validation in validations.items():
        yield Output(validation.valid, output_name=table, metadata={
            "entities": MetadataValue.int(validation.valid.height),
            "quarantined_rows": MetadataValue.int(validation.quarantined.height),
        })
    for table, validation in validations.items():
        yield from check_results_for(validation, table, UNPARTITIONED, clean_key(table))


@asset(
    key_prefix=[CLEAN],
    group_name="dimensions",
    owners=OWNERS,
    kinds={"polars", "postgres"},
    ins={"raw_courses": AssetIn(key=raw_key("raw_courses"))},
    check_specs=check_specs_for(clean_key("courses"), "courses", reconciliation=False),
)
def courses(raw_courses: pl.DataFrame):
    """GB + IRE courses with latitude/longitude from the bundled course list (matched on normalised name)."""
    api_courses = raw_courses.filter(pl.col("payload").is_not_null())["payload"].str.json_decode(
        pl.Struct({"id": pl.Utf8, "course": pl.Utf8, "region_code": pl.Utf8, "region": pl.Utf8})
    ).struct.unnest()
    validation = validate(parse_courses(api_courses, course_coordinates()), "courses")
    frame = validation.valid
    located = frame["latitude"].is_not_null().sum()
    yield Output(frame, metadata={"courses": frame.height, "with_coordinates": int(located),
                                  "without_coordinates": MetadataValue.json(
                                      frame.filter(pl.col("latitude").is_null())["course"].to_list()),
                                  "quarantined_rows": MetadataValue.int(validation.quarantined.height)})
    yield from check_results_for(validation, "courses", UNPARTITIONED, clean_key("courses"))


dimension_assets = with_column_schemas([entity_dimensions, courses])
