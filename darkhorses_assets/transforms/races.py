"""Race-level columns shared by racecards and results, their ownership, and `merge_races`.

Both endpoints describe the same race (course, distance, going, ...): those are the *identity*
columns and both race frames carry them. Everything else is owned by exactly one source:
a racecard refetch must never null a result column and vice versa, so writers
should upsert only `RACECARD_RACE_COLUMNS` from racecards and `RESULT_RACE_COLUMNS` from results.
"""

from __future__ import annotations

import polars as pl

from darkhorses_assets.transforms import parsing as p
from darkhorses_assets.transforms._decode import RAW_JSON
from darkhorses_assets.transforms._frames import Schema, empty_frame

UTC_DATETIME = pl.Datetime("us", "UTC")

RACE_IDENTITY_SCHEMA: Schema = {
    "race_id": pl.String,
    "race_date": pl.Date,
    "off_dt": UTC_DATETIME,
    "course_id": pl.String,
    "course": pl.String,
    "region": pl.String,
    "race_name": pl.String,
    "type": pl.String,
    "race_class": pl.Int32,
    "pattern": pl.String,
    "age_band": pl.String,
    "rating_band": pl.String,
    "sex_restriction": pl.String,
    "distance_yards": pl.Int32,
    "distance_m": pl.Float64,
    "distance_f": pl.Float64,
    "going": pl.String,
    "going_group": pl.String,
    "surface": pl.String,
    "jumps": pl.Int32,
    "is_handicap": pl.Boolean,
}
"""Columns both sources fill. In `merge_races` the result's value wins (it is the later, official
one: going and distance can change on the day), the racecard's fills any gap."""

RACECARD_RACE_COLUMNS: Schema = {
    "has_racecard": pl.Boolean,
    "declared_runners": pl.Int32,
    "prize": pl.Float64,
    "prize_currency": pl.String,
    "big_race": pl.Boolean,
    "is_abandoned": pl.Boolean,
    "going_detailed": pl.String,
    "weather": pl.String,
    "rail_movements": pl.String,
    "stalls": pl.String,
    "tip": pl.String,
    "verdict": pl.String,
    "betting_forecast": pl.String,
    "betting_forecast_prices": pl.List(
        pl.Struct({"horse_name": pl.String, "fractional": pl.String, "decimal": pl.Float64})
    ),
}

"""`declared_runners` is the card's `field_size` when it is a positive count; a card saying `"0"` or `""`
while listing runners (a real Ascot card said "0" with 16) gets the count of its runners not marked
non-runner, as the API counts them. `prize` is the amount only; `prize_currency` ("GBP"/"EUR") is the
symbol's currency ("£4,193", "€7080"), or the region's (REGION_CURRENCIES) when the text has none.
The pro card's analysis: `tip` (the tipped horse's name), `verdict` (text), `betting_forecast` (the text as
given) and `betting_forecast_prices`, its typed JSON list of {horse_name, fractional, decimal} in card order (a
name without its own price shares the one before it: "5/1 Border Gem,  Ninna Collina")."""

TOTE_POOLS = ("tote_win", "tote_ex", "tote_csf", "tote_tricast", "tote_trifecta")
"""Single-amount tote pays; each has a `<pool>_currency` column beside it."""

RESULT_RACE_COLUMNS: Schema = {
    "has_result": pl.Boolean,
    "ran": pl.Int32,
    "winning_time_s": pl.Float64,
    "winning_time_vs_standard_s": pl.Float64,
    "comments": pl.String,
    "tote_win": pl.Float64,
    "tote_win_currency": pl.String,
    "tote_pl": pl.String,
    "tote_pl_amounts": pl.List(pl.Float64),
    "tote_pl_currency": pl.String,
    "tote_ex": pl.Float64,
    "tote_ex_currency": pl.String,
    "tote_csf": pl.Float64,
    "tote_csf_currency": pl.String,
    "tote_tricast": pl.Float64,
    "tote_tricast_currency": pl.String,
    "tote_trifecta": pl.Float64,
    "tote_trifecta_currency": pl.String,
}
"""`winning_time_vs_standard_s` is signed seconds against the standard time from `winning_time_detail`
("(slow by 3.41s)" -> 3.41, "(fast by 0.6s)" -> -0.6). Each tote pay is an amount with its currency
beside it (`tote_win` + `tote_win_currency`, ...: "£3.25" -> 3.25 "GBP", "€9" -> 9.0 "EUR"). `tote_pl`
keeps the place-pays text as given ("£6.90 £1.60"); `tote_pl_amounts` is its amounts in order, one
per placed horse ([6.9, 1.6], stored as jsonb), in `tote_pl_currency`."""

DECLARED_RACE_COLUMNS: Schema = {
    "declared_race_class": pl.Int32,
    "declared_distance_f": pl.Float64,
    "declared_going": pl.String,
    "declared_going_group": pl.String,
    "declared_surface": pl.String,
}
"""The racecard's own value of the identity columns a result can change on the day (class, distance — rail
movements —, going, surface — a turf race moved to the all-weather), kept beside the merged (result-preferred)
value: what was known before the off, for point-in-time features. Null when the race has no racecard."""

RACECARD_RACES_SCHEMA: Schema = {**RACE_IDENTITY_SCHEMA, **RACECARD_RACE_COLUMNS}
RESULT_RACES_SCHEMA: Schema = {**RACE_IDENTITY_SCHEMA, **RESULT_RACE_COLUMNS}
RACES_SCHEMA: Schema = {
    **RACE_IDENTITY_SCHEMA,
    "field_size": pl.Int32,
    **DECLARED_RACE_COLUMNS,
    **RACECARD_RACE_COLUMNS,
    **RESULT_RACE_COLUMNS,
}
"""clean.races. `field_size` = horses that ran (`ran`) once resulted, else the declared field
(`declared_runners`); never 0: a result listing no runners has a null `ran`, like a card without a count.
`declared_*` (DECLARED_RACE_COLUMNS) are the racecard's values of class, distance, going and surface."""


def race_identity_expressions(
    *,
    race_class_key: str,
    sex_restriction_key: str,
    distance_yards: pl.Expr,
    distance_m_key: str | None,
    distance_f_key: str,
) -> dict[str, pl.Expr]:
    """Expressions for RACE_IDENTITY_SCHEMA from a decoded race frame; the keys that differ
    between endpoints are passed in (e.g. `race_class` on racecards, `class` on results).

    `distance_f` derives from the yards ("2m53y" = 3573 y -> 16.24 f), not the API's furlongs
    figure, which is rounded ("16.0"); that figure is used only when no yards are given."""
    yards = pl.coalesce(distance_yards, (p.distance_furlongs(distance_f_key) * 220).round(0))
    metres = (
        p.yards_to_metres(yards)
        if distance_m_key is None
        else pl.coalesce(p.to_float(distance_m_key), p.yards_to_metres(yards))
    )
    course_surface = pl.when(p.course_is_all_weather("course")).then(pl.lit("AW"))
    return {
        "race_id": p.nullify_empty("race_id"),
        "race_date": p.race_date("date", "off_dt"),
        "off_dt": p.off_datetime_utc("off_dt"),
        "course_id": p.nullify_empty("course_id"),
        "course": p.nullify_empty("course"),
        "region": p.region_code("region"),
        "race_name": p.nullify_empty("race_name"),
        "type": p.nullify_empty("type"),
        "race_class": p.race_class(race_class_key),
        "pattern": p.nullify_empty("pattern"),
        "age_band": p.nullify_empty("age_band"),
        "rating_band": p.nullify_empty("rating_band"),
        "sex_restriction": p.upper_text(sex_restriction_key),
        "distance_yards": yards,
        "distance_m": metres,
        "distance_f": pl.coalesce(p.yards_to_furlongs(yards), p.distance_furlongs(distance_f_key)),
        "going": p.going("going"),
        "going_group": p.going_group("going"),
        "surface": pl.coalesce(p.surface("surface"), course_surface),
        "jumps": p.jumps_count("jumps"),
        "is_handicap": p.is_handicap("race_name"),
    }


def _one_row_per_race(frame: pl.DataFrame) -> pl.DataFrame:
    """Last row per race_id (a later fetch in the same batch wins); null-key rows are all kept."""
    keyed = frame.filter(pl.col("race_id").is_not_null()).unique("race_id", keep="last", maintain_order=True)
    return pl.concat([keyed, frame.filter(pl.col("race_id").is_null())])


def _conform(frame: pl.DataFrame | None, schema: Schema) -> pl.DataFrame:
    if frame is None:
        return empty_frame(schema)
    return frame.drop(RAW_JSON, strict=False).select(
        [pl.col(name).cast(dtype) for name, dtype in schema.items()]
    )


def merge_races(racecard_races: pl.DataFrame | None, result_races: pl.DataFrame | None) -> pl.DataFrame:
    """One row per race_id from the racecard and result race frames (either may be None/empty).

    Racecard-owned columns come only from racecards, result-owned ones only from results, shared
    identity columns prefer the result (the racecard's class, distance, going and surface stay in `declared_*`).
    A race seen in one source only is still a race: the other
    source's columns are null and its `has_*` flag is False."""
    cards = _one_row_per_race(_conform(racecard_races, RACECARD_RACES_SCHEMA))
    results = _one_row_per_race(_conform(result_races, RESULT_RACES_SCHEMA))
    joined = cards.join(results, on="race_id", how="full", coalesce=True, suffix="_result")
    shared = [
        pl.coalesce(pl.col(f"{name}_result"), pl.col(name)).alias(name)
        for name in RACE_IDENTITY_SCHEMA
        if name != "race_id"
    ]
    declared = [pl.col(name.removeprefix("declared_")).alias(name) for name in DECLARED_RACE_COLUMNS]
    flags = [pl.col("has_racecard").fill_null(False), pl.col("has_result").fill_null(False)]
    field_size = pl.coalesce(pl.col("ran"), pl.col("declared_runners")).alias("field_size")
    merged = joined.with_columns(*declared).with_columns(*shared, *flags, field_size)
    return merged.select([pl.col(name).cast(dtype) for name, dtype in RACES_SCHEMA.items()])
