"""Clean ``runners``: the racecard declaration of each runner (key ``race_id`` + ``horse_id``)."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from darkhorses_assets.schemas.base import SEX_CODE_VALUES, HardConfig, SoftConfig, is_one_of, typed_columns
from darkhorses_assets.transforms.racecards import RUNNERS_SCHEMA


class RunnersHard(typed_columns("RunnersColumns", RUNNERS_SCHEMA)):
    race_id: str = pa.Field(nullable=False)
    horse_id: str = pa.Field(nullable=False)
    race_date: pl.Date = pa.Field(nullable=False)

    @pa.check("sex_code", name="known_sex_code")
    def known_sex_code(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return is_one_of(data, SEX_CODE_VALUES)

    class Config(HardConfig):
        unique = ["race_id", "horse_id"]


class DeclarationSoft(pa.DataFrameModel):
    """Ranges of the declared data, shared by ``runners`` and ``results``."""

    draw: pl.Int32 = pa.Field(nullable=True, in_range={"min_value": 1, "max_value": 40})
    weight_lbs: pl.Int32 = pa.Field(nullable=True, in_range={"min_value": 100, "max_value": 190})
    age: pl.Int32 = pa.Field(nullable=True, in_range={"min_value": 2, "max_value": 20})
    official_rating: pl.Int32 = pa.Field(nullable=True, in_range={"min_value": 0, "max_value": 200})
    jockey_claim_lbs: pl.Int32 = pa.Field(nullable=True, in_range={"min_value": 0, "max_value": 10})

    class Config(SoftConfig):
        pass


class RunnersSoft(DeclarationSoft):
    pass
