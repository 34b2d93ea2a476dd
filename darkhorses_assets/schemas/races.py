"""Clean ``races`` (key ``race_id``), as merged, and the two per-source race frames it is merged from.

``racecard_races`` and ``result_races`` are what the racecard / result transforms emit (with ``raw_json``,
so a bad race can be quarantined verbatim); ``races`` is ``transforms.races.merge_races`` of the two.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from darkhorses_assets.schemas.base import REGIONS, HardConfig, SoftConfig, is_one_of, typed_columns
from darkhorses_assets.transforms.races import (
    RACE_IDENTITY_SCHEMA,
    RACECARD_RACE_COLUMNS,
    RACES_SCHEMA,
    RESULT_RACE_COLUMNS,
)

_FIELD = {"min_value": 1, "max_value": 40}


class RaceIdentityHard(typed_columns("RaceIdentityColumns", RACE_IDENTITY_SCHEMA)):
    """Rules on the columns every race frame carries."""

    race_id: str = pa.Field(nullable=False)
    race_date: pl.Date = pa.Field(nullable=False)
    region: str = pa.Field(nullable=False)

    @pa.check("region", name="known_region")
    def known_region(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return is_one_of(data, REGIONS)

    class Config(HardConfig):
        unique = ["race_id"]


RacecardRacesHard = typed_columns("RacecardRacesHard", RACECARD_RACE_COLUMNS, base=RaceIdentityHard)
ResultRacesHard = typed_columns("ResultRacesHard", RESULT_RACE_COLUMNS, base=RaceIdentityHard)
RacesHard = typed_columns(
    "RacesHard",
    {name: dtype for name, dtype in RACES_SCHEMA.items() if name not in RACE_IDENTITY_SCHEMA},
    base=RaceIdentityHard,
)


class RaceIdentitySoft(pa.DataFrameModel):
    race_class: pl.Int32 = pa.Field(nullable=True, in_range={"min_value": 1, "max_value": 7})
    distance_f: pl.Float64 = pa.Field(nullable=True, in_range={"min_value": 4, "max_value": 40})

    class Config(SoftConfig):
        pass


class RacecardRacesSoft(RaceIdentitySoft):
    declared_runners: pl.Int32 = pa.Field(nullable=True, in_range=_FIELD)


class ResultRacesSoft(RaceIdentitySoft):
    ran: pl.Int32 = pa.Field(nullable=True, in_range=_FIELD)
    winning_time_s: pl.Float64 = pa.Field(nullable=True, in_range={"min_value": 40, "max_value": 700})


class RacesSoft(RacecardRacesSoft, ResultRacesSoft):
    field_size: pl.Int32 = pa.Field(nullable=True, in_range=_FIELD)
