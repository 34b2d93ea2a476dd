"""Clean ``runner_odds``: bookmaker prices on racecards (key ``race_id`` + ``horse_id`` + ``bookmaker``)."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from darkhorses_assets.schemas.base import HardConfig, SoftConfig, typed_columns
from darkhorses_assets.transforms.racecards import RUNNER_ODDS_SCHEMA


class RunnerOddsHard(typed_columns("RunnerOddsColumns", RUNNER_ODDS_SCHEMA)):
    race_id: str = pa.Field(nullable=False)
    horse_id: str = pa.Field(nullable=False)
    race_date: pl.Date = pa.Field(nullable=False)
    bookmaker: str = pa.Field(nullable=False)

    class Config(HardConfig):
        unique = ["race_id", "horse_id", "bookmaker"]


class RunnerOddsSoft(pa.DataFrameModel):
    """A price is odds-on at best 1.01; the transform already nulls prices below 1."""

    decimal: pl.Float64 = pa.Field(nullable=True, gt=1)

    class Config(SoftConfig):
        pass

    @pa.dataframe_check(name="history_prices_before_latest")
    def history_prices_before_latest(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """Each earlier price in `history` is a price (decimal > 1 when given) stamped no later than the row's
        `updated`."""
        history = pl.col("history")
        prices_ok = history.list.eval((pl.element().struct.field("decimal") > 1).fill_null(True)).list.all()
        latest = history.list.eval(pl.element().struct.field("updated")).list.max()
        return data.lazyframe.select(prices_ok.fill_null(True) & (latest <= pl.col("updated")).fill_null(True))
