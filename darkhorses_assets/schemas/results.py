"""Clean ``results``: how each runner finished (key ``race_id`` + ``horse_id``)."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from darkhorses_assets.schemas.base import (
    CURRENCY_CODES,
    FINISH_STATUSES,
    FINISHED,
    SEX_CODE_VALUES,
    SP_FAVOURITES,
    HardConfig,
    SoftConfig,
    amounts_have_currency,
    is_one_of,
    typed_columns,
)
from darkhorses_assets.schemas.runners import DeclarationSoft
from darkhorses_assets.transforms.results import RESULTS_SCHEMA


class ResultsHard(typed_columns("ResultsColumns", RESULTS_SCHEMA)):
    race_id: str = pa.Field(nullable=False)
    horse_id: str = pa.Field(nullable=False)
    race_date: pl.Date = pa.Field(nullable=False)
    finish_status: str = pa.Field(nullable=False)

    @pa.check("finish_status", name="known_finish_status")
    def known_finish_status(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return is_one_of(data, FINISH_STATUSES)

    @pa.check("sp_favourite", name="known_sp_favourite")
    def known_sp_favourite(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return is_one_of(data, SP_FAVOURITES)

    @pa.check("sex_code", name="known_sex_code")
    def known_sex_code(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return is_one_of(data, SEX_CODE_VALUES)

    @pa.check("prize_won_currency", name="known_prize_won_currency")
    def known_prize_won_currency(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return is_one_of(data, CURRENCY_CODES)

    @pa.dataframe_check(name="prize_won_has_currency")
    def prize_won_has_currency(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """Prize money is never a bare number: its currency is beside it."""
        return amounts_have_currency(data, {"prize_won": "prize_won_currency"})

    class Config(HardConfig):
        unique = ["race_id", "horse_id"]


class ResultsSoft(DeclarationSoft):
    """The runner's declared data as in ``runners``, plus how it finished."""

    finish_position: pl.Int32 = pa.Field(nullable=True, in_range={"min_value": 1, "max_value": 40})
    finish_status: str = pa.Field(nullable=False)
    btn_lengths: pl.Float64 = pa.Field(nullable=True, ge=0)
    ovr_btn_lengths: pl.Float64 = pa.Field(nullable=True, ge=0)
    sp_decimal: pl.Float64 = pa.Field(nullable=True, gt=1)
    finish_time_s: pl.Float64 = pa.Field(nullable=True, in_range={"min_value": 40, "max_value": 700})
    prize_won: pl.Float64 = pa.Field(nullable=True, gt=0)
    weight_lbs_mismatch: pl.Boolean = pa.Field(nullable=True)

    @pa.dataframe_check(name="finishers_have_position")
    def finishers_have_position(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """``FIN`` rows carry a position and non-finishers none."""
        finished = pl.col("finish_status") == FINISHED
        return data.lazyframe.select(finished == pl.col("finish_position").is_not_null())

    @pa.dataframe_check(name="weights_agree")
    def weights_agree(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """The stones-pounds weight and ``weight_lbs`` agree when both are given."""
        return data.lazyframe.select(pl.col("weight_lbs_mismatch").fill_null(False).not_())

    class Config(SoftConfig):
        pass
