"""`/v1/racecards/pro` race payloads -> typed `races`, `runners` and `runner_odds` frames.

Entry points: `parse_racecards(races)` for parsed race dicts (the `racecards` array of a page) and
`racecards_from_payloads(payloads)` for JSON text (a Series, or a frame with a `payload` column).
Both return a `RacecardFrames`. With `include_raw=True` the race and runner frames end with
`raw_json`: the race payload / the runner's JSON, for quarantining bad rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from darkhorses_assets.transforms import parsing as p
from darkhorses_assets.transforms._decode import (
    RACE_IDX,
    PayloadShape,
    PayloadSource,
    decode_payloads,
)
from darkhorses_assets.transforms._frames import Schema, select_schema, with_requested_dates
from darkhorses_assets.transforms.races import RACECARD_RACES_SCHEMA, race_identity_expressions

RACE_KEYS = (
    "race_id", "course", "course_id", "date", "off_time", "off_dt", "race_name", "distance_round",
    "distance", "distance_f", "region", "pattern", "sex_restriction", "race_class", "type", "age_band",
    "rating_band", "prize", "field_size", "going_detailed", "rail_movements", "stalls", "weather",
    "going", "surface", "jumps", "big_race", "is_abandoned",
)  # fmt: skip
RUNNER_KEYS = (
    "horse_id", "horse", "dob", "age", "sex", "sex_code", "colour", "region", "breeder", "dam", "dam_id",
    "dam_region", "sire", "sire_id", "sire_region", "damsire", "damsire_id", "damsire_region", "trainer",
    "trainer_id", "trainer_location", "owner", "owner_id", "number", "draw", "headgear", "lbs", "ofr",
    "rpr", "ts", "jockey", "jockey_id", "silk_url", "last_run", "form",
)  # fmt: skip
ODDS_KEYS = ("bookmaker", "fractional", "decimal", "ew_places", "ew_denom", "updated")
RACECARD_SHAPE = PayloadShape(race_keys=RACE_KEYS, runner_keys=RUNNER_KEYS, odds_keys=ODDS_KEYS)

RUNNERS_SCHEMA: Schema = {
    "race_id": pl.String,
    "horse_id": pl.String,
    "race_date": pl.Date,
    "horse": pl.String,
    "horse_name": pl.String,
    "horse_country": pl.String,
    "number": pl.Int32,
    "is_non_runner": pl.Boolean,
    "draw": pl.Int32,
    "weight_lbs": pl.Int32,
    "age": pl.Int32,
    "sex_code": pl.String,
    "headgear": pl.String,
    "jockey_id": pl.String,
    "jockey_name": pl.String,
    "jockey_claim_lbs": pl.Int32,
    "trainer_id": pl.String,
    "trainer_name": pl.String,
    "trainer_location": pl.String,
    "owner_id": pl.String,
    "owner_name": pl.String,
    "official_rating": pl.Int32,
    "rpr": pl.Int32,
    "ts": pl.Int32,
    "form": pl.String,
    "days_since_last_run": pl.Int32,
    "days_since_last_run_this_code": pl.Int32,
    "days_since_last_run_other_code": pl.Int32,
    "last_run_other_code": pl.String,
    "silk_url": pl.String,
    "sire_id": pl.String,
    "sire_name": pl.String,
    "sire_country": pl.String,
    "dam_id": pl.String,
    "dam_name": pl.String,
    "dam_country": pl.String,
    "damsire_id": pl.String,
    "damsire_name": pl.String,
    "damsire_country": pl.String,
    "dob": pl.Date,
    "colour": pl.String,
    "breeder": pl.String,
}
"""clean.runners, one row per race_id x horse_id: the declaration. `is_non_runner` is True when the
card marks the horse "NR" (its `number` is then null and the jockey reads "NON-RUNNER(n)").
`last_run` "204 (71F)" keeps both numbers: 204 days since a run under this race's code
(`days_since_last_run_this_code`), 71 since one under the code in brackets
(`days_since_last_run_other_code`, `last_run_other_code` "F" flat / "H" hurdle / "C" chase);
`days_since_last_run` is the smaller, the last run under any code."""

RUNNER_ODDS_SCHEMA: Schema = {
    "race_id": pl.String,
    "horse_id": pl.String,
    "race_date": pl.Date,
    "bookmaker": pl.String,
    "fractional": pl.String,
    "decimal": pl.Float64,
    "ew_places": pl.Int32,
    "ew_denom": pl.Int32,
    "updated": pl.Datetime("us", "UTC"),
}
"""clean.runner_odds, one row per race_id x horse_id x bookmaker. `fractional` is the bookmaker's
text as given ("5/1", "-", "SP", or an exchange price "28"); `decimal` is null when there is no
price. `updated` is UK local time in the payload, stored as the UTC instant."""


@dataclass(frozen=True)
class RacecardFrames:
    races: pl.DataFrame
    runners: pl.DataFrame
    runner_odds: pl.DataFrame


_DECLARED_FROM_RUNNERS = "_declared_from_runners"


def _is_non_runner() -> pl.Expr:
    """The card marks the horse "NR" in `number`, or its jockey reads "NON-RUNNER(n)"."""
    return (p.upper_text("number") == "NR") | p.upper_text("jockey").str.starts_with("NON-RUNNER")


def _declared_from_runners(runners: pl.DataFrame) -> pl.DataFrame:
    """Per race (RACE_IDX): runners listed and not marked non-runner, null when there are none."""
    counts = runners.group_by(RACE_IDX).agg(
        (~_is_non_runner().fill_null(False)).sum().cast(pl.Int32).alias(_DECLARED_FROM_RUNNERS)
    )
    return counts.with_columns(pl.col(_DECLARED_FROM_RUNNERS).replace(0, None))


def _race_expressions() -> dict[str, pl.Expr]:
    identity = race_identity_expressions(
        race_class_key="race_class",
        sex_restriction_key="sex_restriction",
        distance_yards=pl.coalesce(
            p.distance_yards_from_text("distance"), p.distance_yards_from_text("distance_round")
        ),
        distance_m_key=None,
        distance_f_key="distance_f",
    )
    return {
        **identity,
        "has_racecard": pl.lit(True),
        "declared_runners": pl.coalesce(p.positive_int("field_size"), pl.col(_DECLARED_FROM_RUNNERS)),
        "prize": p.money_amount("prize"),
        "prize_currency": p.money_currency("prize", p.region_currency("region")),
        "big_race": p.to_bool("big_race"),
        "is_abandoned": p.to_bool("is_abandoned"),
        "going_detailed": p.nullify_empty("going_detailed"),
        "weather": p.nullify_empty("weather"),
        "rail_movements": p.nullify_empty("rail_movements"),
        "stalls": p.nullify_empty("stalls"),
    }


def _pedigree_expressions(role: str) -> dict[str, pl.Expr]:
    return {
        f"{role}_id": p.nullify_empty(f"{role}_id"),
        f"{role}_name": p.name_without_country(role),
        f"{role}_country": pl.coalesce(p.country_of_name(role), p.region_code(f"{role}_region")),
    }


def _runner_expressions() -> dict[str, pl.Expr]:
    jockey = p.jockey_name("jockey")
    claim = p.jockey_claim_lbs("jockey")
    non_runner = _is_non_runner()
    return {
        "race_id": pl.col("race_id"),
        "horse_id": p.nullify_empty("horse_id"),
        "race_date": pl.col("race_date"),
        "horse": p.nullify_empty("horse"),
        "horse_name": p.name_without_country("horse"),
        "horse_country": pl.coalesce(p.country_of_name("horse"), p.region_code("region")),
        "number": p.positive_int("number"),
        "is_non_runner": non_runner.fill_null(False),
        "draw": p.draw_number("draw"),
        "weight_lbs": p.positive_int("lbs"),
        "age": p.positive_int("age"),
        "sex_code": pl.coalesce(p.sex_code("sex_code"), p.sex_code("sex")),
        "headgear": p.headgear("headgear"),
        "jockey_id": p.nullify_empty("jockey_id"),
        "jockey_name": jockey,
        "jockey_claim_lbs": pl.coalesce(claim, pl.when(jockey.is_not_null()).then(pl.lit(0))),
        "trainer_id": p.nullify_empty("trainer_id"),
        "trainer_name": p.nullify_empty("trainer"),
        "trainer_location": p.nullify_empty("trainer_location"),
        "owner_id": p.nullify_empty("owner_id"),
        "owner_name": p.nullify_empty("owner"),
        "official_rating": p.to_int("ofr"),
        "rpr": p.to_int("rpr"),
        "ts": p.to_int("ts"),
        "form": p.nullify_empty("form"),
        "days_since_last_run": p.days_since_last_run("last_run"),
        "days_since_last_run_this_code": p.days_since_last_run_this_code("last_run"),
        "days_since_last_run_other_code": p.days_since_last_run_other_code("last_run"),
        "last_run_other_code": p.last_run_other_code("last_run"),
        "silk_url": p.nullify_empty("silk_url"),
        **_pedigree_expressions("sire"),
        **_pedigree_expressions("dam"),
        **_pedigree_expressions("damsire"),
        "dob": p.to_date("dob"),
        "colour": p.nullify_empty("colour"),
        "breeder": p.nullify_empty("breeder"),
    }


def _odds_expressions() -> dict[str, pl.Expr]:
    return {
        "race_id": pl.col("race_id"),
        "horse_id": p.nullify_empty("horse_id"),
        "race_date": pl.col("race_date"),
        "bookmaker": p.nullify_empty("bookmaker"),
        "fractional": pl.col("fractional").str.strip_chars().replace("", None),
        "decimal": p.odds_decimal("decimal"),
        "ew_places": p.positive_int("ew_places"),
        "ew_denom": p.positive_int("ew_denom"),
        "updated": p.london_local_to_utc("updated"),
    }


def parse_racecards(
    races: PayloadSource, include_raw: bool = False, requested_dates: pl.Series | None = None
) -> RacecardFrames:
    """Typed frames from racecard race payloads: dicts, a Series of JSON text, or a `payload` frame."""
    decoded = decode_payloads(races, RACECARD_SHAPE, include_raw)
    race_rows = decoded.races.join(
        _declared_from_runners(decoded.runners), on=RACE_IDX, how="left", maintain_order="left"
    )
    typed_races = with_requested_dates(
        select_schema(race_rows, _race_expressions(), RACECARD_RACES_SCHEMA, include_raw), requested_dates
    )
    race_keys = typed_races.select("race_id", "race_date").with_columns(decoded.races.get_column(RACE_IDX))
    runners = decoded.runners.join(race_keys, on=RACE_IDX, how="left", maintain_order="left")
    odds = decoded.odds.join(race_keys, on=RACE_IDX, how="left", maintain_order="left")
    return RacecardFrames(
        races=typed_races,
        runners=select_schema(runners, _runner_expressions(), RUNNERS_SCHEMA, include_raw),
        runner_odds=select_schema(odds, _odds_expressions(), RUNNER_ODDS_SCHEMA),
    )


def racecards_from_payloads(
    payloads: pl.Series | pl.DataFrame, include_raw: bool = False, requested_dates: pl.Series | None = None
) -> RacecardFrames:
    """Same as `parse_racecards`, for JSON text: a Series, or a frame with a `payload` column."""
    return parse_racecards(payloads, include_raw, requested_dates)
