"""Clean ``horse_profiles``: one row per profiled horse, from ``/v1/horses/{id}/pro`` (key ``horse_id``)."""

from __future__ import annotations

import datetime as dt

import pandera.polars as pa
import polars as pl

from darkhorses_assets.schemas.base import SEX_CODE_VALUES, HardConfig, SoftConfig, is_one_of, typed_columns
from darkhorses_assets.transforms.horses import HORSE_PROFILES_SCHEMA


class HorseProfilesHard(typed_columns("HorseProfilesColumns", HORSE_PROFILES_SCHEMA)):
    horse_id: str = pa.Field(nullable=False)

    @pa.check("sex_code", name="known_sex_code")
    def known_sex_code(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return is_one_of(data, SEX_CODE_VALUES)

    class Config(HardConfig):
        unique = ["horse_id"]


class HorseProfilesSoft(pa.DataFrameModel):
    dob: pl.Date = pa.Field(nullable=True, ge=dt.date(1980, 1, 1))

    class Config(SoftConfig):
        pass
