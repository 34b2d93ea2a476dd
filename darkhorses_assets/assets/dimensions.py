"""Dimension tables (unpartitioned, `clean` schema) rebuilt from every partition of the clean tables."""

import polars as pl
from dagster import (
    AssetExecutionContext,
    AssetIn,
    AssetKey,
    AssetOut,
    MetadataValue,
    Output,
    asset,
    multi_asset,
)

from darkhorses_assets.assets.clean import CLEAN_PREFIX, OWNERS, clean_key
from darkhorses_assets.reference import course_coordinates
from darkhorses_assets.transforms.courses import parse_courses
from darkhorses_assets.transforms.dimensions import ENTITY_ATTRIBUTES, entity_dimension

DIMENSIONS = {"horse": "horses", "jockey": "jockeys", "trainer": "trainers", "owner": "owners",
              "sire": "sires", "dam": "dams", "damsire": "damsires"}
ENTITY_COLUMNS = sorted({c for e, attrs in ENTITY_ATTRIBUTES.items() for c in (f"{e}_id", *attrs)} | {"race_date"})


def _columns_of(table_columns: set[str]) -> list[str]:
    return [c for c in ENTITY_COLUMNS if c in table_columns]


@multi_asset(
    name="entity_dimensions",
    outs={
        table: AssetOut(
            key=AssetKey([CLEAN_PREFIX, table]), group_name="dimensions", owners=OWNERS,
            kinds={"polars", "postgres"},
            description=f"One row per {entity}: latest known attributes, first/last seen race date, appearances."
            + (" `horse_id` is the ancestor's own horse id." if entity in ("sire", "dam", "damsire") else ""),
        )
        for entity, table in DIMENSIONS.items()
    },
    ins={"runners": AssetIn(key=clean_key("runners")), "results": AssetIn(key=clean_key("results"))},
)
def entity_dimensions(context: AssetExecutionContext, runners: pl.DataFrame, results: pl.DataFrame):
    """Rebuild every entity dimension from all clean runners and results."""
    for entity, table in DIMENSIONS.items():
        frame = entity_dimension(runners, results, entity)
        yield Output(frame, output_name=table, metadata={"entities": MetadataValue.int(frame.height)})


@asset(
    key_prefix=[CLEAN_PREFIX],
    group_name="dimensions",
    owners=OWNERS,
    kinds={"polars", "postgres"},
    ins={"raw_courses": AssetIn(key=AssetKey(["raw", "raw_courses"]))},
)
def courses(raw_courses: pl.DataFrame) -> Output[pl.DataFrame]:
    """GB + IRE courses with latitude/longitude from the bundled course list (matched on normalised name)."""
    api_courses = raw_courses.filter(pl.col("payload").is_not_null())["payload"].str.json_decode(
        pl.Struct({"id": pl.Utf8, "course": pl.Utf8, "region_code": pl.Utf8, "region": pl.Utf8})
    ).struct.unnest()
    frame = parse_courses(api_courses, course_coordinates())
    located = frame["latitude"].is_not_null().sum()
    return Output(frame, metadata={"courses": frame.height, "with_coordinates": int(located),
                                   "without_coordinates": MetadataValue.json(
                                       frame.filter(pl.col("latitude").is_null())["course"].to_list())})


dimension_assets = [entity_dimensions, courses]
