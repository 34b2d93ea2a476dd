"""Synthetic clean ``races`` / ``runners`` / ``results`` frames for benchmarks and tests.

A seeded, vectorised toy world (no numpy: random bytes from ``random.Random(seed)`` become uniform
columns): ≈ 36 races a day of 4–16 declared runners (≈ 130k runners a year). Horses have a latent ability
(partly inherited from their sire), jockeys and trainers a skill; a runner's performance is their sum plus
noise, so form, jockey and trainer records, pedigree and the starting price all carry real signal. Horses
race every few weeks over a ≈ 2-year career, so most runners have history. About 0.5 % of races are
abandoned (declared runners, no results); a few percent of jumps runners do not finish. The racecard's
going differs from the official (result) going in 1 turf race in 7 and its distance by a quarter furlong in 1
race in 13 (``declared_*`` columns of clean races), as going and rail movements change on the day. Every fifth
course favours low draws in flat races (`DRAW_EDGE`). Winning times carry the winner's performance (so every
runner's time, with its beaten lengths, carries its own), the going and the class (`_with_winning_times`).
"""

from __future__ import annotations

import array
import random
from collections.abc import Mapping
from datetime import date

import polars as pl

from darkhorses_assets.transforms.racecards import RUNNERS_SCHEMA
from darkhorses_assets.transforms.races import RACES_SCHEMA
from darkhorses_assets.transforms.results import RESULTS_SCHEMA

RACES_PER_DAY = 36
CAREER_DAYS = 700
NEW_HORSES_PER_DAY = 30
COURSES = 60
IRE_COURSES_FROM = 45
JOCKEYS = 400
TRAINERS = 300
OWNERS = 5000
SIRES = 300
DAMS = 20000
DAMSIRES = 400
TURF_GOINGS = ("Good To Firm", "Good", "Good To Soft", "Soft", "Heavy")
GOING_GROUPS = {
    "Good To Firm": "firm",
    "Good": "good",
    "Good To Soft": "soft",
    "Soft": "soft",
    "Heavy": "heavy",
    "Standard": "standard",
}
JUMP_FALLS = ("PU", "F", "UR")
DRAW_BIASED_EVERY = 5
DRAW_EDGE = 0.8
"""Every 5th course favours low draws in flat races: strength + 0.8 × (0.5 − (draw − 1) ÷ (field − 1))."""


class _Uniforms:
    """Columns of independent U[0, 1) floats drawn in bulk from one seeded generator."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)

    def __call__(self, n: int, name: str) -> pl.Series:
        words = array.array("Q")
        words.frombytes(self._rng.randbytes(8 * n))
        raw = pl.Series(name, words, dtype=pl.UInt64)
        return raw.to_frame().select((pl.col(name) // 2048).cast(pl.Float64) * 2.0**-53).to_series()

    def normal(self, n: int, name: str) -> pl.Series:
        """Standard normal via Box–Muller."""
        u1, u2 = self(n, "u1"), self(n, "u2")
        frame = pl.DataFrame({"u1": u1, "u2": u2})
        return frame.select(
            ((-2 * (1 - pl.col("u1")).log()).sqrt() * (2 * 3.141592653589793 * pl.col("u2")).cos()).alias(
                name
            )
        ).to_series()


def synthetic_history(
    years: int, seed: int, *, start: date = date(2015, 1, 1)
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """``(races, runners, results)``: ``years`` × 365 race days from ``start``, deterministic in ``seed``."""
    draw = _Uniforms(seed)
    days = 365 * years
    horses = _horses(draw, days)
    races = _races(draw, days, start)
    runners = _runners(draw, races, horses)
    races = races.drop("day").join(
        runners.group_by("race_id").agg(pl.len().cast(pl.Int64).alias("field_size")), on="race_id"
    )
    results = _results(draw, races, runners)
    races = _with_winning_times(races, results, seed)
    return (
        _conform(races.select(RACE_COLUMNS), RACES_SCHEMA).sort("off_dt", "race_id"),
        _conform(runners.select(*RUNNER_COLUMNS, "race_date"), RUNNERS_SCHEMA).sort("race_id", "number"),
        _conform(results.select(*RESULT_COLUMNS, "race_date"), RESULTS_SCHEMA).sort("race_id", "horse_id"),
    )


def _conform(frame: pl.DataFrame, schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """The clean table's columns and dtypes; what the toy world does not model is null (flags False)."""
    missing = {
        name: pl.lit(False) if dtype == pl.Boolean else pl.lit(None, dtype)
        for name, dtype in schema.items()
        if name not in frame.columns
    }
    return frame.select(
        *(
            missing[name].alias(name) if name in missing else pl.col(name).cast(dtype)
            for name, dtype in schema.items()
        )
    )


RACE_COLUMNS = (
    "race_id",
    "course_id",
    "region",
    "race_date",
    "off_dt",
    "type",
    "race_class",
    "distance_f",
    "going",
    "going_group",
    "surface",
    "field_size",
    "is_handicap",
    "is_abandoned",
    "has_result",
    "declared_race_class",
    "declared_distance_f",
    "declared_going",
    "declared_going_group",
    "declared_surface",
    "winning_time_s",
)
RUNNER_COLUMNS = (
    "race_id",
    "horse_id",
    "number",
    "draw",
    "weight_lbs",
    "age",
    "jockey_id",
    "trainer_id",
    "owner_id",
    "official_rating",
    "rpr",
    "ts",
    "sire_id",
    "dam_id",
    "damsire_id",
)
RESULT_COLUMNS = (
    "race_id",
    "horse_id",
    "draw",
    "finish_position",
    "finish_status",
    "dead_heat",
    "btn_lengths",
    "ovr_btn_lengths",
    "sp_decimal",
    "official_rating",
    "rpr",
    "tsr",
    "jockey_id",
    "trainer_id",
    "owner_id",
    "sire_id",
    "dam_id",
    "damsire_id",
)


def _debut_day(horse: pl.Expr) -> pl.Expr:
    return horse // NEW_HORSES_PER_DAY - CAREER_DAYS


def _ids(prefix: str, number: pl.Expr) -> pl.Expr:
    return pl.format(prefix + "{}", number)


def _horses(draw: _Uniforms, days: int) -> pl.DataFrame:
    """Horse ``n`` is active from day ``n / NEW_HORSES_PER_DAY − CAREER_DAYS`` for `CAREER_DAYS` days."""
    n = (days + CAREER_DAYS) * NEW_HORSES_PER_DAY
    sire_quality = pl.DataFrame(
        {"sire": pl.int_range(SIRES, eager=True), "sire_quality": draw.normal(SIRES, "q")}
    )
    return (
        pl.DataFrame(
            {
                "horse": pl.int_range(n, eager=True),
                "own_ability": draw.normal(n, "a"),
                "sire": (draw(n, "s") * SIRES).cast(pl.Int64),
                "dam": (draw(n, "d") * DAMS).cast(pl.Int64),
                "trainer": (draw(n, "t") * TRAINERS).cast(pl.Int64),
                "owner": (draw(n, "o") * OWNERS).cast(pl.Int64),
                "birth_offset": (draw(n, "b") * 3).cast(pl.Int64),
            }
        )
        .join(sire_quality, on="sire")
        .select(
            "horse",
            (0.8 * pl.col("own_ability") + 0.5 * pl.col("sire_quality")).alias("ability"),
            _ids("hrs_", pl.col("horse")).alias("horse_id"),
            _ids("sir_", pl.col("sire")).alias("sire_id"),
            _ids("dam_", pl.col("dam")).alias("dam_id"),
            _ids("dsi_", pl.col("dam") % DAMSIRES).alias("damsire_id"),
            _ids("trn_", pl.col("trainer")).alias("trainer_id"),
            _ids("own_", pl.col("owner")).alias("owner_id"),
            pl.col("trainer"),
            pl.col("birth_offset"),
        )
    )


def _races(draw: _Uniforms, days: int, start: date) -> pl.DataFrame:
    n = days * RACES_PER_DAY
    u = {
        k: draw(n, k) for k in ("course", "type", "surface", "dist", "cls", "going", "hcap", "aband", "field")
    }
    code = (
        pl.when(pl.col("u_type") < 0.55)
        .then(pl.lit("Flat"))
        .when(pl.col("u_type") < 0.8)
        .then(pl.lit("Hurdle"))
        .when(pl.col("u_type") < 0.95)
        .then(pl.lit("Chase"))
        .otherwise(pl.lit("NH Flat"))
    )
    frame = pl.DataFrame({"race": pl.int_range(n, eager=True), **{f"u_{k}": v for k, v in u.items()}})
    course = (pl.col("u_course") * COURSES).cast(pl.Int64)
    going_index = (pl.col("u_going") * len(TURF_GOINGS)).cast(pl.Int64)
    return (
        frame.with_columns(
            (pl.col("race") // RACES_PER_DAY).alias("day"),
            course.alias("course"),
            code.alias("type"),
        )
        .with_columns(
            _ids("rac_", pl.col("race")).alias("race_id"),
            _ids("crs_", pl.col("course")).alias("course_id"),
            pl.when(pl.col("course") < IRE_COURSES_FROM)
            .then(pl.lit("GB"))
            .otherwise(pl.lit("IRE"))
            .alias("region"),
            (pl.lit(start) + pl.duration(days=pl.col("day"))).alias("race_date"),
            pl.when((pl.col("type") == "Flat") & (pl.col("u_surface") < 0.35))
            .then(pl.lit("AW"))
            .otherwise(pl.lit("Turf"))
            .alias("surface"),
            pl.when(pl.col("type") == "Flat")
            .then(5 + (pl.col("u_dist") * 23).floor() * 0.5)
            .otherwise(16 + (pl.col("u_dist") * 13).floor())
            .alias("distance_f"),
            pl.when(pl.col("course") < IRE_COURSES_FROM)
            .then(1 + (pl.col("u_cls") * 7).cast(pl.Int64))
            .alias("race_class"),
            (pl.col("u_hcap") < 0.5).alias("is_handicap"),
            (pl.col("u_aband") < 0.005).alias("is_abandoned"),
            (4 + pl.col("u_field") * 13).cast(pl.Int64).alias("declared"),
            going_index.alias("going_index"),
        )
        .with_columns(
            pl.when(pl.col("surface") == "AW")
            .then(pl.lit("Standard"))
            .otherwise(pl.lit(pl.Series(TURF_GOINGS)).gather(pl.col("going_index")))
            .alias("going"),
            ~pl.col("is_abandoned").alias("has_result"),
            (
                pl.col("race_date").cast(pl.Datetime("us", "UTC"))
                + pl.duration(hours=12, minutes=10 * (pl.col("race") % RACES_PER_DAY))
            ).alias("off_dt"),
        )
        .with_columns(
            pl.col("going").replace_strict(GOING_GROUPS).alias("going_group"),
            pl.when((pl.col("surface") == "Turf") & (pl.col("race") % 7 == 3))
            .then(pl.lit(pl.Series(TURF_GOINGS)).gather((pl.col("going_index") - 1).clip(0)))
            .otherwise(pl.col("going"))
            .alias("declared_going"),
            pl.when(pl.col("race") % 13 == 5)
            .then(pl.col("distance_f") - 0.25)
            .otherwise(pl.col("distance_f"))
            .alias("declared_distance_f"),
            pl.col("race_class").alias("declared_race_class"),
            pl.col("surface").alias("declared_surface"),
        )
        .with_columns(pl.col("declared_going").replace_strict(GOING_GROUPS).alias("declared_going_group"))
        .drop("going_index")
    )


def _runners(draw: _Uniforms, races: pl.DataFrame, horses: pl.DataFrame) -> pl.DataFrame:
    """Declared runners: a random active horse per slot; a horse runs at most once a day."""
    slots = races.select(
        "race_id",
        "race",
        "day",
        "race_date",
        "off_dt",
        "type",
        "is_handicap",
        pl.int_ranges(0, pl.col("declared")).alias("slot"),
    ).explode("slot")
    n = slots.height
    u = {k: draw(n, k) for k in ("horse", "jockey", "order", "rating", "rpr", "ts", "miss")}
    horse_number = ((pl.col("day") + CAREER_DAYS * pl.col("u_horse")) * NEW_HORSES_PER_DAY).cast(pl.Int64)
    frame = (
        slots.with_columns(**{f"u_{k}": v for k, v in u.items()})
        .with_columns(horse_number.alias("horse"))
        .sort("off_dt", "race", "slot")
        .unique(["horse", "race_date"], keep="first", maintain_order=True)
        .join(horses, on="horse")
    )
    rating = (
        (70 + 15 * pl.col("ability") + 3 * (pl.col("u_rating") - 0.5)).round().cast(pl.Int64).clip(20, 160)
    )
    weight = (
        pl.when(pl.col("is_handicap"))
        .then(
            (168 - (pl.col("official_rating").max().over("race_id") - pl.col("official_rating"))).clip(
                112, 168
            )
        )
        .otherwise(120 + (pl.col("u_order") * 14).cast(pl.Int64))
    )
    return frame.with_columns(
        rating.alias("official_rating"),
        (pl.col("u_order").rank("ordinal").over("race_id")).cast(pl.Int64).alias("number"),
        _ids("jky_", (pl.col("u_jockey") * JOCKEYS).cast(pl.Int64)).alias("jockey_id"),
        (pl.col("u_jockey") * JOCKEYS).cast(pl.Int64).alias("jockey"),
        pl.when(pl.col("u_rpr") > 0.15)
        .then((85 + 15 * pl.col("ability") + 10 * (pl.col("u_rpr") - 0.5)).round().cast(pl.Int64))
        .alias("rpr"),
        pl.when(pl.col("u_ts") > 0.25)
        .then((65 + 15 * pl.col("ability") + 12 * (pl.col("u_ts") - 0.5)).round().cast(pl.Int64))
        .alias("ts"),
        (2 + pl.col("birth_offset") + (pl.col("day") - _debut_day(pl.col("horse"))) // 365)
        .cast(pl.Int64)
        .alias("age"),
    ).with_columns(
        weight.cast(pl.Int64).alias("weight_lbs"),
        pl.when(pl.col("type") == "Flat").then(pl.col("number")).alias("draw"),
    )


def _results(draw: _Uniforms, races: pl.DataFrame, runners: pl.DataFrame) -> pl.DataFrame:
    """Finishing order by ability + jockey/trainer skill + noise; SP from a noisy market view of the same."""
    skills = _skills(draw)
    ran = (
        runners.join(
            races.filter(~pl.col("is_abandoned")).select("race_id", "type", "course_id"),
            on="race_id",
            how="inner",
            suffix="_race",
        )
        .join(skills["jockey"], on="jockey")
        .join(skills["trainer"], on="trainer")
    )
    n = ran.height
    low_draw = 0.5 - (pl.col("draw") - 1) / (pl.len().over("race_id") - 1).clip(1)
    biased = pl.col("course_id").str.strip_prefix("crs_").cast(pl.Int64) % DRAW_BIASED_EVERY == 0
    draw_edge = pl.when(biased & pl.col("draw").is_not_null()).then(DRAW_EDGE * low_draw).otherwise(0.0)
    strength = pl.col("ability") + 0.4 * pl.col("jockey_skill") + 0.3 * pl.col("trainer_skill") + draw_edge
    fall_rate = pl.when(pl.col("type") == "Flat").then(0.005).otherwise(0.07)
    ran = ran.with_columns(
        (strength + 0.9 * draw.normal(n, "noise")).alias("performance"),
        (strength + 0.35 * draw.normal(n, "market")).alias("market_view"),
        (draw(n, "fall") < fall_rate).alias("fell"),
        draw(n, "code").alias("u_code"),
        draw(n, "tsr_missing").alias("u_tsr"),
    )
    finisher_rank = (
        pl.when(~pl.col("fell")).then(pl.col("performance")).rank("ordinal", descending=True).over("race_id")
    )
    weight = (1.6 * pl.col("market_view")).exp()
    chance = weight / weight.sum().over("race_id")
    best = pl.col("performance").filter(~pl.col("fell")).max().over("race_id")
    overall_beaten = pl.when(~pl.col("fell")).then(((best - pl.col("performance")) * 6).round(1))
    return (
        ran.with_columns(
            finisher_rank.cast(pl.Int64).alias("finish_position"),
            pl.when(pl.col("fell"))
            .then(pl.lit(pl.Series(JUMP_FALLS)).gather((pl.col("u_code") * 3).cast(pl.Int64)))
            .otherwise(pl.lit("FIN"))
            .alias("finish_status"),
            pl.lit(False).alias("dead_heat"),
            overall_beaten.alias("ovr_btn_lengths"),
            (1 / (1.18 * chance)).clip(1.05, 500).round(2).alias("sp_decimal"),
            (80 + 12 * pl.col("performance")).round().cast(pl.Int64).alias("rpr_result"),
            pl.when(pl.col("u_tsr") > 0.2)
            .then((60 + 12 * pl.col("performance")).round().cast(pl.Int64))
            .alias("tsr"),
        )
        .with_columns(
            (
                pl.col("ovr_btn_lengths")
                - pl.col("ovr_btn_lengths").shift(1).over("race_id", order_by="finish_position")
            )
            .fill_null(pl.col("ovr_btn_lengths"))
            .round(1)
            .alias("btn_lengths"),
        )
        .drop("rpr")
        .rename({"rpr_result": "rpr"})
    )


SECONDS_PER_FURLONG = {"Flat": 12.6, "Hurdle": 14.3, "Chase": 14.8, "NH Flat": 14.0}
GROUND_EFFECT = 0.025
GOING_VALUES = {"Good To Firm": -0.5, "Good": 0.0, "Good To Soft": 0.5, "Soft": 1.0, "Heavy": 1.5}
"""Each step of going (the simulator's scale) slows a race by 2.5 %."""


def _with_winning_times(races: pl.DataFrame, results: pl.DataFrame, seed: int) -> pl.DataFrame:
    """``winning_time_s``: distance × seconds per furlong of the type (1 % less on AW), slowed 2.5 % per step of
    the race's going (`GOING_VALUES`), minus the winner's performance in lengths (6 a unit, as beaten lengths) at
    6 lengths a second on the flat and 5 over jumps, minus 0.05 s/f per class above 4 (classes here do not follow
    ability, so their pace is put in), plus ±0.15 s of per-race noise (a hash). No random draws: every other
    column stays as it was."""
    best = (
        results.filter(pl.col("finish_status") == "FIN")
        .group_by("race_id")
        .agg(pl.col("performance").max().alias("_best"))
    )
    noise = pl.col("race_id").hash(seed + 1) % 1_000_003 / 1_000_003 - 0.5
    base = (
        pl.col("distance_f")
        * pl.col("type").replace_strict(SECONDS_PER_FURLONG, return_dtype=pl.Float64)
        * pl.when(pl.col("surface") == "AW").then(0.99).otherwise(1.0)
    )
    seconds_per_length = pl.when(pl.col("type") == "Flat").then(1 / 6).otherwise(1 / 5)
    time = (
        base * (1 + GROUND_EFFECT * pl.col("going").replace_strict(GOING_VALUES, default=0.0, return_dtype=pl.Float64))
        - pl.col("_best") * 6 * seconds_per_length
        + 0.05 * (pl.col("race_class").fill_null(4) - 4) * pl.col("distance_f")
        + 0.3 * noise
    )
    return (
        races.join(best, on="race_id", how="left")
        .with_columns(pl.when(~pl.col("is_abandoned")).then(time.round(2)).alias("winning_time_s"))
        .drop("_best")
    )


def _skills(draw: _Uniforms) -> dict[str, pl.DataFrame]:
    return {
        "jockey": pl.DataFrame(
            {"jockey": pl.int_range(JOCKEYS, eager=True), "jockey_skill": draw.normal(JOCKEYS, "j")}
        ),
        "trainer": pl.DataFrame(
            {"trainer": pl.int_range(TRAINERS, eager=True), "trainer_skill": draw.normal(TRAINERS, "t")}
        ),
    }


ODDS_BOOKMAKERS = 6
"""Bookmakers pricing every synthetic runner (the real cards have ~20: `synthetic_odds(bookmakers=…)`)."""


def synthetic_odds(
    races: pl.DataFrame, runners: pl.DataFrame, results: pl.DataFrame, seed: int, *, bookmakers: int = ODDS_BOOKMAKERS
) -> pl.DataFrame:
    """A ``clean.runner_odds`` frame for the runners of resulted races: each bookmaker's price one minute before
    the off near the SP, and for half of them a ``history`` of one earlier price stamped at 17:00 the eve, moved
    toward the winner (the first three home were longer earlier: they shorten, the rest drift a little)."""
    from darkhorses_assets.transforms.racecards import RUNNER_ODDS_SCHEMA

    draw = _Uniforms(seed)
    priced = (
        results.select("race_id", "horse_id", "finish_position", "sp_decimal")
        .join(runners.select("race_id", "horse_id"), on=["race_id", "horse_id"])
        .join(races.select("race_id", "race_date", "off_dt"), on="race_id")
        .filter(pl.col("sp_decimal").is_not_null())
        .with_columns(pl.int_ranges(0, bookmakers).alias("book"))
        .explode("book")
    )
    n = priced.height
    lean = pl.col("finish_position").replace_strict({1: 0.12, 2: 0.06, 3: 0.03}, default=-0.02, return_dtype=pl.Float64)
    early = pl.col("sp_decimal") * (lean + 0.4 * (pl.col("u_drift") - 0.5)).exp()
    history_item = pl.struct(
        pl.lit(None, pl.String).alias("fractional"),
        (1 + (early - 1).clip(0.02)).round(2).alias("decimal"),
        (pl.col("race_date").cast(pl.Datetime("us", "UTC")) - pl.duration(hours=7)).alias("updated"),
    )
    frame = priced.with_columns(draw(n, "u_jitter"), draw(n, "u_drift"), draw(n, "u_history")).select(
        "race_id",
        "horse_id",
        "race_date",
        pl.format("Book {}", pl.col("book")).alias("bookmaker"),
        (1 + (pl.col("sp_decimal") - 1) * (0.9 + 0.2 * pl.col("u_jitter"))).round(2).alias("decimal"),
        (pl.col("off_dt") - pl.duration(minutes=1)).alias("updated"),
        pl.when(pl.col("u_history") < 0.5)
        .then(pl.concat_list(history_item))
        .otherwise(pl.lit([], pl.List(RUNNER_ODDS_SCHEMA["history"].inner)))
        .alias("history"),
    )
    return _conform(frame, RUNNER_ODDS_SCHEMA).sort("race_id", "horse_id", "bookmaker")
