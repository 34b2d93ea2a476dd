"""`/v1/courses` payload + the shared coordinates list -> the `courses` dimension frame.

The coordinates file (`courses_gb_ire_with_coordinates.json`) has its own ids, unrelated to API
ids, so the two are matched on a normalised course name, built by `course_name_key`:

1. lower-case; drop any parenthesised part ("Southwell (AW)" -> "southwell",
   "Newmarket (July)" -> "newmarket"); "&" -> "and";
2. every run of non-alphanumeric characters becomes one space, then trim
   ("Bangor-on-Dee" -> "bangor on dee");
3. drop a leading "the " / "great " and a trailing " park", " downs", " city", " bridge",
   " racecourse", " on dee", " on avon" ("Haydock Park" -> "haydock",
   "Chelmsford City" -> "chelmsford", "Great Yarmouth" -> "yarmouth").

The same key is built on both sides. If several coordinate rows share a key, the first wins, so the
join never multiplies courses; an API course with no match keeps null coordinates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from darkhorses_assets.transforms import parsing as p
from darkhorses_assets.transforms._frames import Schema, select_schema

COURSES_SCHEMA: Schema = {
    "course_id": pl.String,
    "course": pl.String,
    "region_code": pl.String,
    "region": pl.String,
    "course_key": pl.String,
    "latitude": pl.Float64,
    "longitude": pl.Float64,
}
"""Dimension `courses`, one row per API course id; `course_key` is the name used to match coordinates."""

_API_COURSE_SCHEMA: Schema = {
    "id": pl.String,
    "course": pl.String,
    "region_code": pl.String,
    "region": pl.String,
}
_COORDINATE_SCHEMA: Schema = {"course": pl.String, "latitude": pl.Float64, "longitude": pl.Float64}
_NAME_PREFIXES = r"^(?:the|great) "
_NAME_SUFFIXES = r" (?:park|downs|city|bridge|racecourse|on dee|on avon)$"


def course_name_key(column: p.IntoExpr) -> pl.Expr:
    """Normalised course name used to match API courses with the coordinates list (module doc)."""
    text = p.nullify_empty(column).str.to_lowercase()
    text = text.str.replace_all(r"\([^)]*\)", " ").str.replace_all("&", " and ", literal=True)
    text = text.str.replace_all(r"[^a-z0-9]+", " ").str.strip_chars()
    return p.nullify_empty(text.str.replace(_NAME_PREFIXES, "").str.replace(_NAME_SUFFIXES, ""))


def _as_frame(
    data: pl.DataFrame | Sequence[Mapping] | Mapping, list_key: str, schema: Schema
) -> pl.DataFrame:
    """The `schema` columns of a frame, a list of dicts, or a payload holding the list under
    `list_key`; other keys/columns are ignored and missing ones are null."""
    if isinstance(data, pl.DataFrame):
        present = [
            pl.col(name).cast(dtype, strict=False) for name, dtype in schema.items() if name in data.columns
        ]
        missing = [
            pl.lit(None, dtype).alias(name) for name, dtype in schema.items() if name not in data.columns
        ]
        return data.select(present + missing).select(list(schema))
    if isinstance(data, Mapping):
        data = data.get(list_key) or []
    rows = [row for row in data if isinstance(row, Mapping)]
    columns = {name: [row.get(name) for row in rows] for name in schema}
    return pl.DataFrame(columns, schema=schema, strict=False)


def _coordinates_by_key(coordinates: pl.DataFrame) -> pl.DataFrame:
    return (
        coordinates.select(course_name_key("course").alias("course_key"), "latitude", "longitude")
        .filter(pl.col("course_key").is_not_null())
        .unique("course_key", keep="first", maintain_order=True)
    )


def parse_courses(
    courses: pl.DataFrame | Sequence[Mapping] | Mapping,
    coordinates: pl.DataFrame | Sequence[Mapping],
) -> pl.DataFrame:
    """Courses frame (COURSES_SCHEMA) from the API courses (`{"courses": [...]}`, its list, or a
    frame of it) and the coordinates list (dicts or a frame with course/latitude/longitude)."""
    api = _as_frame(courses, "courses", _API_COURSE_SCHEMA).with_columns(
        course_name_key("course").alias("course_key")
    )
    located = _coordinates_by_key(_as_frame(coordinates, "courses", _COORDINATE_SCHEMA))
    joined = api.join(located, on="course_key", how="left", maintain_order="left")
    expressions = {
        "course_id": p.nullify_empty("id"),
        "course": p.nullify_empty("course"),
        "region_code": p.region_code("region_code"),
        "region": p.nullify_empty("region"),
        "course_key": pl.col("course_key"),
        "latitude": pl.col("latitude"),
        "longitude": pl.col("longitude"),
    }
    return select_schema(joined, expressions, COURSES_SCHEMA)
