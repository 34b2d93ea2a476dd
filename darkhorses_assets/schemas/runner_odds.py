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
