"""`/v1/racecards/pro` race payloads -> typed `races`, `runners` and `runner_odds` frames.

Entry point: `parse_racecards(races)` for parsed race dicts (the `racecards` array of a page) or JSON text (a
Series, or a frame with a `payload` column); it returns a `RacecardFrames`. Participant and pedigree columns
come from `participants.py`; this module says only what a racecard adds. With `include_raw=True` the race and
runner frames end with `raw_json`: the race payload / the runner's JSON, for quarantining bad rows.
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
    json_columns,
)
from darkhorses_assets.transforms._frames import Schema, select_schema, with_requested_dates
from darkhorses_assets.transforms.participants import (
    CONNECTIONS_SCHEMA,
    HORSE_SCHEMA,
    JOCKEY_SCHEMA,
    PEDIGREE_SCHEMA,
    connections_expressions,
    horse_expressions,
    jockey_expressions,
    pedigree_expressions,
)
from darkhorses_assets.transforms.races import RACECARD_RACES_SCHEMA, race_identity_expressions

RACE_KEYS = (
    "race_id", "course", "course_id", "date", "off_time", "off_dt", "race_name", "distance_round",
    "distance", "distance_f", "region", "pattern", "sex_restriction", "race_class", "type", "age_band",
    "rating_band", "prize", "field_size", "going_detailed", "rail_movements", "stalls", "weather",
    "going", "surface", "jumps", "big_race", "is_abandoned", "tip", "verdict", "betting_forecast",
)  # fmt: skip
RUNNER_KEYS = (
    "horse_id", "horse", "dob", "age", "sex", "sex_code", "colour", "region", "breeder", "dam", "dam_id",
    "dam_region", "sire", "sire_id", "sire_region", "damsire", "damsire_id", "damsire_region", "trainer",
    "trainer_id", "trainer_location", "owner", "owner_id", "number", "draw", "headgear", "lbs", "ofr",
    "rpr", "ts", "jockey", "jockey_id", "silk_url", "last_run", "form", "trainer_14_days", "trainer_rtf",
    "comment", "spotlight", "quotes", "stable_tour", "medical", "headgear_run", "wind_surgery",
    "wind_surgery_run", "past_results_flags", "prev_trainers", "prev_owners",
)  # fmt: skip
ODDS_KEYS = ("bookmaker", "fractional", "decimal", "ew_places", "ew_denom", "updated", "history")

_TEXT = pl.String
RUNNER_JSON_KEYS: dict[str, pl.DataType] = {
    "trainer_14_days": pl.Struct({"runs": _TEXT, "wins": _TEXT, "percent": _TEXT}),
    "quotes": pl.List(pl.Struct({key: _TEXT for key in (
        "date", "race", "race_id", "course", "course_id", "distance_f", "distance_y", "quote")})),
    "stable_tour": pl.List(pl.Struct({"quote": _TEXT})),
    "medical": pl.List(pl.Struct({"date": _TEXT, "type": _TEXT})),
    "past_results_flags": pl.List(_TEXT),
    "prev_trainers": pl.List(pl.Struct({"trainer": _TEXT, "trainer_id": _TEXT, "change_date": _TEXT})),
    "prev_owners": pl.List(pl.Struct({"owner": _TEXT, "owner_id": _TEXT, "change_date": _TEXT})),
}  # fmt: skip
"""Pro-card runner keys holding lists or objects (OpenAPI `RunnerOddsPro`), as text-leaved nested dtypes."""
ODDS_JSON_KEYS: dict[str, pl.DataType] = {
    "history": pl.List(pl.Struct({"fractional": _TEXT, "decimal": _TEXT, "updated": _TEXT})),
}
"""The OpenAPI leaves odds `history` items untyped; they are read as earlier prices of the same bookmaker."""
ODDS_FEW_VALUES = ("bookmaker", "fractional", "decimal", "ew_places", "ew_denom", "updated")
"""Odds keys with a few hundred distinct values among millions of rows: typed once per value (`select_schema`)."""
RACECARD_SHAPE = PayloadShape(
    race_keys=RACE_KEYS, runner_keys=RUNNER_KEYS, odds_keys=ODDS_KEYS,
    nested={**RUNNER_JSON_KEYS, **ODDS_JSON_KEYS}, boolean_race_keys=("big_race", "is_abandoned"),
)

RUNNERS_SCHEMA: Schema = {
    "race_id": pl.String,
    "horse_id": pl.String,
    "race_date": pl.Date,
    **HORSE_SCHEMA,
    "number": pl.Int32,
    "is_non_runner": pl.Boolean,
    "draw": pl.Int32,
    "weight_lbs": pl.Int32,
    "age": pl.Int32,
    "sex_code": pl.String,
    "headgear": pl.String,
    **JOCKEY_SCHEMA,
    **CONNECTIONS_SCHEMA,
    "trainer_location": pl.String,
    "official_rating": pl.Int32,
    "rpr": pl.Int32,
    "ts": pl.Int32,
    "form": pl.String,
    "days_since_last_run": pl.Int32,
    "days_since_last_run_this_code": pl.Int32,
    "days_since_last_run_other_code": pl.Int32,
    "last_run_other_code": pl.String,
    "silk_url": pl.String,
    **PEDIGREE_SCHEMA,
    "dob": pl.Date,
    "colour": pl.String,
    "breeder": pl.String,
    "trainer_14_days_runs": pl.Int32,
    "trainer_14_days_wins": pl.Int32,
    "trainer_14_days_percent": pl.Float64,
    "trainer_rtf": pl.Float64,
    "comment": pl.String,
    "spotlight": pl.String,
    "headgear_run": pl.Int32,
    "wind_surgery": pl.Boolean,
    "wind_surgery_run": pl.Int32,
    "past_results_flags": pl.List(pl.String),
    "course_winner": pl.Boolean,
    "distance_winner": pl.Boolean,
    "course_and_distance_winner": pl.Boolean,
    "beaten_favourite": pl.Boolean,
    "stable_tour": pl.List(pl.String),
    "quotes": pl.List(pl.Struct({
        "date": pl.Date, "race_id": pl.String, "race": pl.String, "course_id": pl.String, "course": pl.String,
        "distance_f": pl.Float64, "distance_yards": pl.Int32, "quote": pl.String,
    })),
    "medical": pl.List(pl.Struct({"date": pl.Date, "type": pl.String})),
    "prev_trainers": pl.List(pl.Struct({"trainer_id": pl.String, "trainer_name": pl.String, "change_date": pl.Date})),
    "prev_owners": pl.List(pl.Struct({"owner_id": pl.String, "owner_name": pl.String, "change_date": pl.Date})),
}  # fmt: skip
"""clean.runners, one row per race_id x horse_id: the declaration. `is_non_runner` is True when the
card marks the horse "NR" (its `number` is then null and the jockey reads "NON-RUNNER(n)").
`last_run` "204 (71F)" keeps both numbers: 204 days since a run under this race's code
(`days_since_last_run_this_code`), 71 since one under the code in brackets
(`days_since_last_run_other_code`, `last_run_other_code` "F" flat / "H" hurdle / "C" chase);
`days_since_last_run` is the smaller, the last run under any code.

Pro-card analysis, typed (null when the card does not give it):
* `trainer_14_days_runs` / `_wins` / `_percent`: the trainer's last 14 days; `trainer_rtf`: the trainer's
  "running to form" percentage;
* `comment` (the short card comment) and `spotlight` (the analyst's paragraph), as text;
* `headgear_run` / `wind_surgery_run`: runs in this headgear / since wind surgery (1 = first time);
  `wind_surgery`: True when the card flags a wind operation ("w"), False when it gives "";
* `past_results_flags`: the card's flags as given (["C", "D"], ["CD"], ["BF"]), and as booleans
  `course_winner` (C or CD), `distance_winner` (D or CD), `course_and_distance_winner` (CD),
  `beaten_favourite` (BF); all null when the card has no flags list.
Lists are typed JSON (jsonb in Postgres, a list of structs in polars), one element per item in card order:
`stable_tour` (quote texts), `quotes` (date, race_id, race, course_id, course, distance_f, distance_yards, quote:
past quotes about the horse), `medical` (date, type), `prev_trainers` / `prev_owners` (id, name, change_date).
A list the card gives empty is `[]`; a list it does not give is null. In SQL:
`SELECT r.horse_id, t.* FROM clean.runners r, jsonb_to_recordset(r.prev_trainers)
AS t(trainer_id text, trainer_name text, change_date date)`."""

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
    "history": pl.List(
        pl.Struct({"fractional": pl.String, "decimal": pl.Float64, "updated": pl.Datetime("us", "UTC")})
    ),
}
"""clean.runner_odds, one row per race_id x horse_id x bookmaker. `fractional` is the bookmaker's
text as given ("5/1", "-", "SP", or an exchange price "28"); `decimal` is null when there is no
price. `updated` is UK local time in the payload, stored as the UTC instant. `history` is the bookmaker's
earlier prices as the card lists them (typed JSON: fractional, decimal, updated as a UTC instant), `[]` when
none."""


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
        "tip": p.nullify_empty("tip"),
        "verdict": p.nullify_empty("verdict"),
        "betting_forecast": p.nullify_empty("betting_forecast"),
        "betting_forecast_prices": p.betting_forecast_prices("betting_forecast"),
    }


def _runner_expressions() -> dict[str, pl.Expr]:
    return {
        "race_id": pl.col("race_id"),
        "horse_id": p.nullify_empty("horse_id"),
        "race_date": pl.col("race_date"),
        **horse_expressions("horse", region_key="region"),
        "number": p.positive_int("number"),
        "is_non_runner": _is_non_runner().fill_null(False),
        "draw": p.draw_number("draw"),
        "weight_lbs": p.positive_int("lbs"),
        "age": p.positive_int("age"),
        "sex_code": pl.coalesce(p.sex_code("sex_code"), p.sex_code("sex")),
        "headgear": p.headgear("headgear"),
        **jockey_expressions(),
        **connections_expressions(),
        "trainer_location": p.nullify_empty("trainer_location"),
        "official_rating": p.to_int("ofr"),
        "rpr": p.to_int("rpr"),
        "ts": p.to_int("ts"),
        "form": p.nullify_empty("form"),
        "days_since_last_run": p.days_since_last_run("last_run"),
        "days_since_last_run_this_code": p.days_since_last_run_this_code("last_run"),
        "days_since_last_run_other_code": p.days_since_last_run_other_code("last_run"),
        "last_run_other_code": p.last_run_other_code("last_run"),
        "silk_url": p.nullify_empty("silk_url"),
        **pedigree_expressions(with_region_keys=True),
        "dob": p.to_date("dob"),
        "colour": p.nullify_empty("colour"),
        "breeder": p.nullify_empty("breeder"),
        **_pro_analysis_expressions(),
    }


def _item(key: str) -> pl.Expr:
    return pl.element().struct.field(key)


def _typed_items(column: str, fields: dict[str, pl.Expr]) -> pl.Expr:
    return pl.col(column).list.eval(pl.struct(**fields))


def _flag(flags: pl.Expr, *codes: str) -> pl.Expr:
    return flags.list.eval(pl.element().is_in(codes)).list.any()


def _pro_analysis_expressions() -> dict[str, pl.Expr]:
    trainer_14_days = pl.col("trainer_14_days")
    flags = pl.col("past_results_flags").list.eval(p.upper_text(pl.element()).drop_nulls())
    wind_surgery = p.nullify_empty("wind_surgery")
    return {
        "trainer_14_days_runs": p.to_int(trainer_14_days.struct.field("runs")),
        "trainer_14_days_wins": p.to_int(trainer_14_days.struct.field("wins")),
        "trainer_14_days_percent": p.to_float(trainer_14_days.struct.field("percent").str.strip_suffix("%")),
        "trainer_rtf": p.to_float(p.nullify_empty("trainer_rtf").str.strip_suffix("%")),
        "comment": p.nullify_empty("comment"),
        "spotlight": p.nullify_empty("spotlight"),
        "headgear_run": p.positive_int("headgear_run"),
        "wind_surgery": pl.when(pl.col("wind_surgery").is_not_null()).then(wind_surgery.is_not_null()),
        "wind_surgery_run": p.positive_int("wind_surgery_run"),
        "past_results_flags": flags,
        "course_winner": _flag(flags, "C", "CD"),
        "distance_winner": _flag(flags, "D", "CD"),
        "course_and_distance_winner": _flag(flags, "CD"),
        "beaten_favourite": _flag(flags, "BF"),
        "stable_tour": pl.col("stable_tour").list.eval(p.nullify_empty(_item("quote")).drop_nulls()),
        "quotes": _typed_items("quotes", {
            "date": p.to_date(_item("date")),
            "race_id": p.nullify_empty(_item("race_id")),
            "race": p.nullify_empty(_item("race")),
            "course_id": p.nullify_empty(_item("course_id")),
            "course": p.nullify_empty(_item("course")),
            "distance_f": p.to_float(_item("distance_f")),
            "distance_yards": p.to_int(_item("distance_y")),
            "quote": p.nullify_empty(_item("quote")),
        }),
        "medical": _typed_items("medical", {"date": p.to_date(_item("date")), "type": p.nullify_empty(_item("type"))}),
        "prev_trainers": _typed_items("prev_trainers", {
            "trainer_id": p.nullify_empty(_item("trainer_id")),
            "trainer_name": p.nullify_empty(_item("trainer")),
            "change_date": p.to_date(_item("change_date")),
        }),
        "prev_owners": _typed_items("prev_owners", {
            "owner_id": p.nullify_empty(_item("owner_id")),
            "owner_name": p.nullify_empty(_item("owner")),
            "change_date": p.to_date(_item("change_date")),
        }),
    }  # fmt: skip


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
        "history": _typed_items("history", {
            "fractional": p.nullify_empty(_item("fractional")),
            "decimal": p.odds_decimal(_item("decimal"), _item("fractional")),
            "updated": p.london_local_to_utc(_item("updated")),
        }),
    }  # fmt: skip


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
    runners = json_columns(decoded.runners, RUNNER_JSON_KEYS).join(
        race_keys, on=RACE_IDX, how="left", maintain_order="left"
    )
    odds = json_columns(decoded.odds, ODDS_JSON_KEYS).join(race_keys, on=RACE_IDX, how="left", maintain_order="left")
    return RacecardFrames(
        races=typed_races,
        runners=select_schema(runners, _runner_expressions(), RUNNERS_SCHEMA, include_raw),
        runner_odds=select_schema(odds, _odds_expressions(), RUNNER_ODDS_SCHEMA, few_values=ODDS_FEW_VALUES),
    )
