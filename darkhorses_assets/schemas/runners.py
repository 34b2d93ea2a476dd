"""Clean ``runners``: the racecard declaration of each runner (key ``race_id`` + ``horse_id``)."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from darkhorses_assets.schemas.base import (
    LAST_RUN_CODES,
    PAST_RESULTS_FLAGS,
    SEX_CODE_VALUES,
    HardConfig,
    SoftConfig,
    is_one_of,
    typed_columns,
)
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


_DAYS = {"min_value": 1, "max_value": 10_000}


class RunnersSoft(DeclarationSoft):
    days_since_last_run: pl.Int32 = pa.Field(nullable=True, in_range=_DAYS)
    days_since_last_run_this_code: pl.Int32 = pa.Field(nullable=True, in_range=_DAYS)
    days_since_last_run_other_code: pl.Int32 = pa.Field(nullable=True, in_range=_DAYS)
    last_run_other_code: str = pa.Field(nullable=True)

    @pa.check("last_run_other_code", name="known_last_run_code")
    def known_last_run_code(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """The bracketed code of `last_run` is F (flat), H (hurdle) or C (chase)."""
        return is_one_of(data, LAST_RUN_CODES)

    @pa.dataframe_check(name="last_run_is_the_nearer")
    def last_run_is_the_nearer(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """`days_since_last_run` is the smaller of the two `last_run` numbers."""
        parts = ("days_since_last_run_this_code", "days_since_last_run_other_code")
        nearer = pl.min_horizontal(parts)
        return data.lazyframe.select((pl.col("days_since_last_run") == nearer).fill_null(nearer.is_null()))

    trainer_14_days_runs: pl.Int32 = pa.Field(nullable=True, in_range={"min_value": 0, "max_value": 1000})
    trainer_14_days_wins: pl.Int32 = pa.Field(nullable=True, ge=0)
    trainer_14_days_percent: pl.Float64 = pa.Field(nullable=True, in_range={"min_value": 0, "max_value": 100})
    trainer_rtf: pl.Float64 = pa.Field(nullable=True, in_range={"min_value": 0, "max_value": 100})
    headgear_run: pl.Int32 = pa.Field(nullable=True, in_range={"min_value": 1, "max_value": 100})
    wind_surgery_run: pl.Int32 = pa.Field(nullable=True, in_range={"min_value": 1, "max_value": 100})
    past_results_flags: RUNNERS_SCHEMA[past_results_flags] = pa.Field(nullable=True)

    @pa.check("past_results_flags", name="known_past_results_flags")
    def known_past_results_flags(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """Every flag is one the cards use: C (course winner), D (distance), CD (both), BF (beaten favourite)."""
        return data.lazyframe.select(pl.col(data.key).list.eval(pl.element().is_in(PAST_RESULTS_FLAGS)).list.all())

    @pa.dataframe_check(name="trainer_14_days_adds_up")
    def trainer_14_days_adds_up(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """Wins never exceed runs, and the percentage is wins / runs (rounded; 0 without runs)."""
        runs, wins, percent = (pl.col(f"trainer_14_days_{part}") for part in ("runs", "wins", "percent"))
        expected = pl.when(runs > 0).then(100.0 * wins / runs).otherwise(0.0)
        adds_up = (wins <= runs) & ((percent - expected).abs() <= 1.0)
        return data.lazyframe.select(adds_up.fill_null(True))

    @pa.dataframe_check(name="card_history_before_race")
    def card_history_before_race(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """Medical events, trainer / owner changes and quotes are dated on or before the race day."""
        race_date = pl.col("race_date")
        dated = {"medical": "date", "prev_trainers": "change_date", "prev_owners": "change_date", "quotes": "date"}
        before = [
            pl.col(column).list.eval(pl.element().struct.field(field)).list.max().le(race_date).fill_null(True)
            for column, field in dated.items()
        ]
        return data.lazyframe.select(pl.all_horizontal(before))
