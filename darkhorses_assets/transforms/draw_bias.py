"""Draw bias: how runners drawn low, middle or high (and in each stall) have fared at a course, as pure polars.

Groups are course × distance band (`stats.distance_band`: sprint, mile, middle, staying) × field-size band
(`FIELD_BANDS`: small ≤ 7 runners, medium 8–11, large ≥ 12). Inside a group, runs are split by **draw third**:
1 (low) for stalls in the first third of the field, 2 (middle), 3 (high): ``third = 1 + ⌊3 × (draw − 1) ÷ field⌋``,
capped at 3 (a stall above the field size, left by non-runners, counts as high).

History: results **strictly before the race date** of races that took place (not abandoned, not void), with a
draw; the field is the number of runners that ran (result rows of the race); win = position 1, place = top 3
(`stats` definitions). For a race on day D, the runner's own draw is described from the racecard: the course,
the declared distance (`declared_distance_f`), the declared field (runners not marked non-runner) and its stall.

Columns per declared runner (null when it has no draw, e.g. jumps races):

* ``draw_third_runs`` / ``_wins`` / ``_places`` / ``_win_pct`` / ``_place_pct``: the record of its draw third in
  its group, lifetime before D (win% null without runs);
* ``draw_group_runs`` / ``draw_group_win_pct`` / ``draw_group_place_pct``: the whole group's record;
* ``draw_bias_win`` = draw_third_win_pct ÷ draw_group_win_pct (1 = no bias, above 1 = the third wins more than
  its share), ``draw_bias_place`` likewise with places; null when either is null or the group has no wins (places);
* ``draw_stall_runs`` / ``_wins`` / ``_win_pct``: the record of the same stall number in the group.

Sample sizes are there to be read: a bias over a handful of runs is noise. A range of days is one pass
(`stats.windowed_sums`, each day as of itself). `runner_features` carries these columns (its last block).
"""

from __future__ import annotations

from datetime import date

import polars as pl

from darkhorses_assets.transforms.stats import VOID_STATUS, distance_band, key_of, pct, windowed_sums, with_keys

FIELD_BANDS = ((7, "small"), (11, "medium"))
"""Upper bounds (inclusive) of the field-size bands; larger fields are "large"."""
DRAW_INPUT_COLUMNS = {
    "races": ("race_id", "race_date", "course_id", "distance_f", "declared_distance_f", "is_abandoned"),
    "runners": ("race_id", "horse_id", "draw", "is_non_runner"),
    "results": ("race_id", "horse_id", "draw", "finish_position", "finish_status"),
}
"""The columns `draw_bias` reads of each clean input (its asset loads only these)."""
_GROUP = ("course_id", "distance_band", "field_band")
_LIFETIME = {"": None}
_VALUES = ["runs", "wins", "places"]
DRAW_BIAS_SCHEMA: dict[str, pl.DataType] = {
    "race_id": pl.String(),
    "horse_id": pl.String(),
    "race_date": pl.Date(),
    "course_id": pl.String(),
    "distance_band": pl.String(),
    "field_band": pl.String(),
    "draw": pl.Int32(),
    "draw_third": pl.Int32(),
    "draw_third_runs": pl.Int32(),
    "draw_third_wins": pl.Int32(),
    "draw_third_places": pl.Int32(),
    "draw_third_win_pct": pl.Float64(),
    "draw_third_place_pct": pl.Float64(),
    "draw_group_runs": pl.Int32(),
    "draw_group_win_pct": pl.Float64(),
    "draw_group_place_pct": pl.Float64(),
    "draw_bias_win": pl.Float64(),
    "draw_bias_place": pl.Float64(),
    "draw_stall_runs": pl.Int32(),
    "draw_stall_wins": pl.Int32(),
    "draw_stall_win_pct": pl.Float64(),
}


def field_band(field: pl.Expr) -> pl.Expr:
    """small ≤ 7 runners, medium 8–11, large ≥ 12; null field → null."""
    (small, small_name), (medium, medium_name) = FIELD_BANDS
    return (
        pl.when(field <= small)
        .then(pl.lit(small_name))
        .when(field <= medium)
        .then(pl.lit(medium_name))
        .when(field > medium)
        .then(pl.lit("large"))
    )


def draw_third(draw: pl.Expr, field: pl.Expr) -> pl.Expr:
    """1 (low), 2 (middle) or 3 (high) third of the field; null without a positive draw and field."""
    return (
        pl.when((draw >= 1) & (field >= 1))
        .then((1 + (3 * (draw - 1)) // field).clip(1, 3))
        .cast(pl.Int32)
    )


def draw_bias(
    races: pl.DataFrame | pl.LazyFrame,
    runners: pl.DataFrame | pl.LazyFrame,
    results: pl.DataFrame | pl.LazyFrame,
    *,
    feature_days: pl.Series | tuple[date, date],
) -> pl.DataFrame:
    """One row per declared runner of the races on ``feature_days``: the bias of its own draw (module
    docstring), from results strictly before its race date. Sorted by date, race and horse."""
    from darkhorses_assets.transforms.features import target_days  # features imports this module

    days = target_days(feature_days)
    keyed = [*_GROUP, "draw_third", "draw"]
    targets = with_keys(_targets(races, runners, days), keyed).collect()
    history = with_keys(_history(races, results).filter(pl.col("race_date") < days.max()), keyed).collect().lazy()
    third_keys = _keys(*_GROUP, "draw_third")
    group_keys = _keys(*_GROUP)
    stall_keys = _keys(*_GROUP, "draw")
    blocks = {
        "third": (third_keys, windowed_sums(history, targets.lazy(), keys=third_keys, values=_VALUES,
                                            windows=_LIFETIME)),
        "group": (group_keys, windowed_sums(history, targets.lazy(), keys=group_keys, values=_VALUES,
                                            windows=_LIFETIME)),
        "stall": (stall_keys, windowed_sums(history, targets.lazy(), keys=stall_keys, values=_VALUES,
                                            windows=_LIFETIME)),
    }  # fmt: skip
    frame = targets
    for name, (keys, sums) in blocks.items():
        renamed = sums.rename({v: f"_{name}_{v}" for v in _VALUES}).collect()
        frame = frame.join(renamed, on=[*keys, "ref_date"], how="left", maintain_order="left")
    drawn = pl.col("draw_third").is_not_null()
    return (
        frame.lazy()
        .with_columns(
            pl.when(drawn).then(pl.col(c).fill_null(0)).alias(c)
            for c in (f"_{name}_{v}" for name in blocks for v in _VALUES)
        )
        .with_columns(
            pl.col("_third_runs").alias("draw_third_runs"),
            pl.col("_third_wins").alias("draw_third_wins"),
            pl.col("_third_places").alias("draw_third_places"),
            pct("_third_wins", "_third_runs").alias("draw_third_win_pct"),
            pct("_third_places", "_third_runs").alias("draw_third_place_pct"),
            pl.col("_group_runs").alias("draw_group_runs"),
            pct("_group_wins", "_group_runs").alias("draw_group_win_pct"),
            pct("_group_places", "_group_runs").alias("draw_group_place_pct"),
            pl.col("_stall_runs").alias("draw_stall_runs"),
            pl.col("_stall_wins").alias("draw_stall_wins"),
            pct("_stall_wins", "_stall_runs").alias("draw_stall_win_pct"),
        )
        .with_columns(
            _ratio("draw_third_win_pct", "draw_group_win_pct").alias("draw_bias_win"),
            _ratio("draw_third_place_pct", "draw_group_place_pct").alias("draw_bias_place"),
        )
        .select([pl.col(name).cast(dtype) for name, dtype in DRAW_BIAS_SCHEMA.items()])
        .sort("race_date", "race_id", "horse_id")
        .collect()
    )


def _keys(*columns: str) -> list[str]:
    return [key_of(c) for c in columns]


def _ratio(numerator: str, denominator: str) -> pl.Expr:
    return pl.when(pl.col(denominator) > 0).then(pl.col(numerator) / pl.col(denominator))


def _targets(races: pl.DataFrame | pl.LazyFrame, runners: pl.DataFrame | pl.LazyFrame, days: pl.Series) -> pl.LazyFrame:
    """Declared runners of the target days with the racecard's view of their draw."""
    race_frame = races.lazy().filter(pl.col("race_date").is_in(days.implode())).select(
        "race_id", "race_date", "course_id", distance_band(pl.col("declared_distance_f")).alias("distance_band")
    )
    running = ~pl.col("is_non_runner").fill_null(False)
    field = running.sum().over("race_id")
    return (
        runners.lazy()
        .select("race_id", "horse_id", pl.col("draw").cast(pl.Int32), "is_non_runner")
        .join(race_frame, on="race_id", how="inner")
        .with_columns(field_band(field).alias("field_band"), draw_third(pl.col("draw"), field).alias("draw_third"))
        .with_columns(pl.col("race_date").alias("ref_date"))
    )


def _history(races: pl.DataFrame | pl.LazyFrame, results: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """One row per drawn run of a race that took place: its group, third, stall and 0/1 outcomes."""
    race_frame = races.lazy().select(
        "race_id", "race_date", "course_id", "is_abandoned", distance_band(pl.col("distance_f")).alias("distance_band")
    )
    field = pl.len().over("race_id")
    return (
        results.lazy()
        .select("race_id", "horse_id", pl.col("draw").cast(pl.Int32), "finish_position", "finish_status")
        .join(race_frame, on="race_id", how="inner")
        .filter(~pl.col("is_abandoned").fill_null(False), (pl.col("finish_status") != VOID_STATUS).fill_null(True))
        .with_columns(field_band(field).alias("field_band"), draw_third(pl.col("draw"), field).alias("draw_third"))
        .filter(pl.col("draw_third").is_not_null())
        .with_columns(
            pl.lit(1, pl.Int64).alias("runs"),
            (pl.col("finish_position") == 1).fill_null(False).cast(pl.Int64).alias("wins"),
            (pl.col("finish_position") <= 3).fill_null(False).cast(pl.Int64).alias("places"),
        )
    )
