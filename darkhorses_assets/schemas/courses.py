"""Clean ``courses`` dimension (key ``course_id``), coordinates matched by normalised name."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from darkhorses_assets.schemas.base import REGIONS, HardConfig, SoftConfig, is_one_of, typed_columns
from darkhorses_assets.transforms.courses import COURSES_SCHEMA


class CoursesHard(typed_columns("CoursesColumns", COURSES_SCHEMA)):
    course_id: str = pa.Field(nullable=False)
    course: str = pa.Field(nullable=False)
    region_code: str = pa.Field(nullable=False)

    @pa.check("region_code", name="known_region")
    def known_region(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return is_one_of(data, REGIONS)

    class Config(HardConfig):
        unique = ["course_id"]


class CoursesSoft(pa.DataFrameModel):
    """Coordinates inside the British Isles; a course without coordinates is only unmatched, not wrong."""

    latitude: pl.Float64 = pa.Field(nullable=True, in_range={"min_value": 49.5, "max_value": 61})
    longitude: pl.Float64 = pa.Field(nullable=True, in_range={"min_value": -11, "max_value": 2})

    class Config(SoftConfig):
        pass
