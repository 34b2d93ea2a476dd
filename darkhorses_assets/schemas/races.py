"""Clean ``races`` (key ``race_id``), as merged, and the two per-source race frames it is merged from.

``racecard_races`` and ``result_races`` are what the racecard / result transforms emit (with ``raw_json``,
so a bad race can be quarantined verbatim); ``races`` is ``transforms.races.merge_races`` of the two.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from darkhorses_assets.schemas.base import (
    CURRENCY_CODES,
    REGIONS,
    HardConfig,
    SoftConfig,
    amounts_have_currency,
    is_one_of,
    typed_columns,
)
from darkhorses_assets.transforms.races import (
    RACE_IDENTITY_SCHEMA,
    RACECARD_RACE_COLUMNS,
    RACES_SCHEMA,
    RESULT_RACE_COLUMNS,
    TOTE_POOLS,
)

_FIELD = {"min_value": 1, "max_value": 40}
_TOTE_CURRENCIES = {
    **{pool: f"{pool}_currency" for pool in TOTE_POOLS},
    "tote_pl_amounts": "tote_pl_currency",
}


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


class RacecardMoneyHard(typed_columns("RacecardRaceColumns", RACECARD_RACE_COLUMNS, base=RaceIdentityHard)):
    """The prize is in a known currency, and a prize always has one."""

    @pa.check("prize_currency", name="known_prize_currency")
    def known_prize_currency(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return is_one_of(data, CURRENCY_CODES)

    @pa.dataframe_check(name="prize_has_currency")
    def prize_has_currency(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return amounts_have_currency(data, {"prize": "prize_currency"})


class ResultMoneyHard(typed_columns("ResultRaceColumns", RESULT_RACE_COLUMNS, base=RaceIdentityHard)):
    """Every tote pay is in a known currency, and every pay present has one."""

    @pa.check(*_TOTE_CURRENCIES.values(), name="known_tote_currency")
    def known_tote_currency(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return is_one_of(data, CURRENCY_CODES)

    @pa.dataframe_check(name="tote_has_currency")
    def tote_has_currency(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return amounts_have_currency(data, _TOTE_CURRENCIES)


class RacecardRacesHard(RacecardMoneyHard):
    pass


class ResultRacesHard(ResultMoneyHard):
    pass


class _RacesMoneyHard(RacecardMoneyHard, ResultMoneyHard):
    pass


RacesHard = typed_columns(
    "RacesHard",
    {
        name: dtype
        for name, dtype in RACES_SCHEMA.items()
        if name not in {**RACE_IDENTITY_SCHEMA, **RACECARD_RACE_COLUMNS, **RESULT_RACE_COLUMNS}
    },
    base=_RacesMoneyHard,
)


class RaceIdentitySoft(pa.DataFrameModel):
    race_class: pl.Int32 = pa.Field(nullable=True, in_range={"min_value": 1, "max_value": 7})
    distance_f: pl.Float64 = pa.Field(nullable=True, in_range={"min_value": 4, "max_value": 40})

    class Config(SoftConfig):
        pass


class RacecardRacesSoft(RaceIdentitySoft):
    declared_runners: pl.Int32 = pa.Field(nullable=True, in_range=_FIELD)
    prize: pl.Float64 = pa.Field(nullable=True, gt=0)
    betting_forecast_prices: RACECARD_RACE_COLUMNS[betting_forecast_prices] = pa.Field(nullable=True)

    @pa.check("betting_forecast_prices", name="forecast_names_priced")
    def forecast_names_priced(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """Every horse in the betting forecast has a name and a price (a decimal above 1)."""
        item = pl.element().struct
        priced = item.field("horse_name").is_not_null() & (item.field("decimal") > 1).fill_null(False)
        return data.lazyframe.select(pl.col(data.key).list.eval(priced).list.all())


class ResultRacesSoft(RaceIdentitySoft):
    ran: pl.Int32 = pa.Field(nullable=True, in_range=_FIELD)
    winning_time_s: pl.Float64 = pa.Field(nullable=True, in_range={"min_value": 40, "max_value": 700})
    winning_time_vs_standard_s: pl.Float64 = pa.Field(nullable=True, in_range={"min_value": -30, "max_value": 120})
    """Seconds slower (+) or faster (-) than standard: a winner 30 s faster than standard is a timing error."""
    tote_win: pl.Float64 = pa.Field(nullable=True, gt=0)
    tote_ex: pl.Float64 = pa.Field(nullable=True, gt=0)
    tote_csf: pl.Float64 = pa.Field(nullable=True, gt=0)
    tote_tricast: pl.Float64 = pa.Field(nullable=True, gt=0)
    tote_trifecta: pl.Float64 = pa.Field(nullable=True, gt=0)
    tote_pl_amounts: pl.List(pl.Float64) = pa.Field(nullable=True)

    @pa.check("tote_pl_amounts", name="one_to_five_positive_place_pays")
    def one_to_five_positive_place_pays(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """A place pool pays 1-4 places (each-way terms; a dead heat for the last place adds one), each
        a positive amount."""
        amounts = pl.col(data.key)
        return data.lazyframe.select(
            amounts.list.len().is_between(1, 5) & amounts.list.eval(pl.element() > 0).list.all()
        )


class RacesSoft(RacecardRacesSoft, ResultRacesSoft):
    field_size: pl.Int32 = pa.Field(nullable=True, in_range=_FIELD)
