"""`/v1/results` race payloads -> typed `races`, `results` and `non_runners` frames.

Entry point: `parse_results(races)` for parsed race dicts (the `results` array of a page) or JSON text (a
Series, or a frame with a `payload` column); it returns a `ResultFrames`. Participant and pedigree columns come
from `participants.py`; this module says only what a result adds. With `include_raw=True` the race and result
frames end with `raw_json`: the race payload / the runner's JSON, for quarantining bad rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from darkhorses_assets.transforms import parsing as p
from darkhorses_assets.transforms._decode import (
    RACE_IDX,
    RUNNER_COUNT,
    PayloadShape,
    PayloadSource,
    decode_payloads,
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
from darkhorses_assets.transforms.races import RESULT_RACES_SCHEMA, TOTE_POOLS, race_identity_expressions

RACE_KEYS = (
    "race_id", "date", "region", "course", "course_id", "off", "off_dt", "race_name", "type", "class",
    "pattern", "rating_band", "age_band", "sex_rest", "dist", "dist_y", "dist_m", "dist_f", "going",
    "surface", "jumps", "winning_time_detail", "comments", "non_runners", "tote_win", "tote_pl",
    "tote_ex", "tote_csf", "tote_tricast", "tote_trifecta",
)  # fmt: skip
RUNNER_KEYS = (
    "horse_id", "horse", "sp", "sp_dec", "number", "position", "draw", "btn", "ovr_btn", "age", "sex",
    "weight", "weight_lbs", "headgear", "time", "or", "rpr", "tsr", "prize", "jockey",
    "jockey_claim_lbs", "jockey_id", "trainer", "trainer_id", "owner", "owner_id", "sire", "sire_id",
    "dam", "dam_id", "damsire", "damsire_id", "comment", "silk_url",
)  # fmt: skip
RESULT_SHAPE = PayloadShape(race_keys=RACE_KEYS, runner_keys=RUNNER_KEYS)

RESULTS_SCHEMA: Schema = {
    "race_id": pl.String,
    "horse_id": pl.String,
    "race_date": pl.Date,
    **HORSE_SCHEMA,
    "number": pl.Int32,
    "draw": pl.Int32,
    "finish_position": pl.Int32,
    "finish_status": pl.String,
    "dead_heat": pl.Boolean,
    "btn_lengths": pl.Float64,
    "ovr_btn_lengths": pl.Float64,
    "cum_btn_lengths": pl.Float64,
    "sp_fraction": pl.String,
    "sp_decimal": pl.Float64,
    "sp_favourite": pl.String,
    "finish_time_s": pl.Float64,
    "prize_won": pl.Float64,
    "prize_won_currency": pl.String,
    "official_rating": pl.Int32,
    "rpr": pl.Int32,
    "tsr": pl.Int32,
    "weight_lbs": pl.Int32,
    "weight_lbs_mismatch": pl.Boolean,
    "age": pl.Int32,
    "sex_code": pl.String,
    "headgear": pl.String,
    **JOCKEY_SCHEMA,
    **CONNECTIONS_SCHEMA,
    **PEDIGREE_SCHEMA,
    "silk_url": pl.String,
    "comment": pl.String,
}
"""clean.results, one row per race_id x horse_id. `cum_btn_lengths` is the running sum of
`btn_lengths` down the finishing order (a check on `ovr_btn_lengths`); `weight_lbs_mismatch` is True
when "8-10" and `weight_lbs` disagree. `sp_decimal` is exact from the fraction (`p.sp_decimal`).
`prize_won` is an amount in `prize_won_currency`: the text's symbol if it has one, else the race's
currency (the symbol on its tote pays, else its region's: results give a runner's prize as a bare
"4187.20")."""

NON_RUNNERS_SCHEMA: Schema = {
    "race_id": pl.String,
    "race_date": pl.Date,
    **HORSE_SCHEMA,
    "reason": pl.String,
}
"""clean.non_runners, from the race's comma-separated `non_runners` text (names only, no ids)."""

_NON_RUNNER_ITEM = r"[^,(]+(?:\s*\([^)]*\))*"
_TRAILING_PARENS = r"\s*\(([^()]*)\)\s*$"


@dataclass(frozen=True)
class ResultFrames:
    races: pl.DataFrame
    results: pl.DataFrame
    non_runners: pl.DataFrame


_RACE_CURRENCY = "_race_currency"


def _race_currency() -> pl.Expr:
    """A result race's money currency: the first symbol on its tote pays, else its region's."""
    symbols = [p.money_currency(pool) for pool in (*TOTE_POOLS, "tote_pl")]
    return pl.coalesce(*symbols, p.region_currency("region"))


def _race_expressions() -> dict[str, pl.Expr]:
    race_currency = _race_currency()
    tote_pays = {
        column: expression
        for pool in TOTE_POOLS
        for column, expression in (
            (pool, p.money_amount(pool)),
            (f"{pool}_currency", p.money_currency(pool, race_currency)),
        )
    }
    identity = race_identity_expressions(
        race_class_key="class",
        sex_restriction_key="sex_rest",
        distance_yards=pl.coalesce(p.positive_int("dist_y"), p.distance_yards_from_text("dist")),
        distance_m_key="dist_m",
        distance_f_key="dist_f",
    )
    return {
        **identity,
        "has_result": pl.lit(True),
        "ran": pl.when(pl.col(RUNNER_COUNT) > 0).then(pl.col(RUNNER_COUNT)),
        "winning_time_s": p.finish_time_s("winning_time_detail"),
        "winning_time_vs_standard_s": p.time_versus_standard_s("winning_time_detail"),
        "comments": p.nullify_empty("comments"),
        **tote_pays,
        "tote_pl": p.nullify_empty("tote_pl"),
        "tote_pl_amounts": p.money_amounts("tote_pl"),
        "tote_pl_currency": p.money_currency("tote_pl", race_currency),
    }


def _result_expressions() -> dict[str, pl.Expr]:
    position = p.finish_position("position")
    btn = p.beaten_lengths("btn")
    shares_position = pl.len().over(RACE_IDX, position) > 1
    dead_heat = (
        (p.nullify_empty("btn").str.to_lowercase() == "dht")
        | p.position_marks_dead_heat("position")
        | (position.is_not_null() & shares_position)
    ).fill_null(False)
    cumulative = btn.cum_sum().over(RACE_IDX, order_by=[position, p.to_int("number")], nulls_last=True)
    return {
        "race_id": pl.col("race_id"),
        "horse_id": p.nullify_empty("horse_id"),
        "race_date": pl.col("race_date"),
        **horse_expressions("horse"),
        "number": p.positive_int("number"),
        "draw": p.draw_number("draw"),
        "finish_position": position,
        "finish_status": p.finish_status("position"),
        "dead_heat": dead_heat,
        "btn_lengths": btn,
        "ovr_btn_lengths": p.beaten_lengths("ovr_btn"),
        "cum_btn_lengths": pl.when(position.is_not_null()).then(cumulative),
        "sp_fraction": p.sp_fraction("sp"),
        "sp_decimal": p.sp_decimal("sp", "sp_dec"),
        "sp_favourite": p.sp_favourite("sp"),
        "finish_time_s": p.finish_time_s("time"),
        "prize_won": p.money_amount("prize"),
        "prize_won_currency": p.money_currency("prize", pl.col(_RACE_CURRENCY)),
        "official_rating": p.to_int("or"),
        "rpr": p.to_int("rpr"),
        "tsr": p.to_int("tsr"),
        "weight_lbs": p.weight_lbs("weight", "weight_lbs"),
        "weight_lbs_mismatch": p.weight_lbs_mismatch("weight", "weight_lbs"),
        "age": p.positive_int("age"),
        "sex_code": p.sex_code("sex"),
        "headgear": p.headgear("headgear"),
        **jockey_expressions(claim_key="jockey_claim_lbs"),
        **connections_expressions(),
        **pedigree_expressions(),
        "silk_url": p.nullify_empty("silk_url"),
        "comment": p.nullify_empty("comment"),
    }


def _non_runner_frame(decoded_races: pl.DataFrame, race_keys: pl.DataFrame) -> pl.DataFrame:
    """One row per horse named in `non_runners`: "How's The Guvnor (unsuitable ground), ..."."""
    items = (
        decoded_races.select(RACE_IDX, pl.col("non_runners").str.extract_all(_NON_RUNNER_ITEM).alias("item"))
        .explode("item", keep_nulls=False)
        .with_columns(pl.col("item").str.strip_chars())
        .filter(pl.col("item") != "")
    )
    last_parens = pl.col("item").str.extract(_TRAILING_PARENS, 1)
    is_country = last_parens.str.contains(r"^[A-Z]{2,3}$")
    reason = pl.when(~is_country).then(last_parens)
    display = (
        pl.when(reason.is_not_null())
        .then(pl.col("item").str.replace(_TRAILING_PARENS, ""))
        .otherwise(pl.col("item"))
    )
    expressions = {
        "race_id": pl.col("race_id"),
        "race_date": pl.col("race_date"),
        **horse_expressions(display),
        "reason": p.nullify_empty(reason),
    }
    joined = items.join(race_keys, on=RACE_IDX, how="left", maintain_order="left")
    return select_schema(joined, expressions, NON_RUNNERS_SCHEMA)


def parse_results(
    races: PayloadSource, include_raw: bool = False, requested_dates: pl.Series | None = None
) -> ResultFrames:
    """Typed frames from result race payloads: dicts, a Series of JSON text, or a `payload` frame."""
    decoded = decode_payloads(races, RESULT_SHAPE, include_raw)
    typed_races = with_requested_dates(
        select_schema(decoded.races, _race_expressions(), RESULT_RACES_SCHEMA, include_raw), requested_dates
    )
    race_keys = typed_races.select("race_id", "race_date").with_columns(decoded.races.get_column(RACE_IDX))
    currencies = decoded.races.select(RACE_IDX, _race_currency().alias(_RACE_CURRENCY))
    runners = decoded.runners.join(
        race_keys.join(currencies, on=RACE_IDX, how="left"), on=RACE_IDX, how="left", maintain_order="left"
    )
    results = select_schema(runners, _result_expressions(), RESULTS_SCHEMA, include_raw)
    return ResultFrames(typed_races, results, _non_runner_frame(decoded.races, race_keys))
