"""Speed figures: how fast each runner ran, against the course's standard and the day's ground, as pure polars.

Three steps, each using only races that took place (not abandoned, with a winning time and a distance):

1. **Standard time** per *group* = course × race type × surface × distance (rounded to the nearest half
   furlong), in seconds per furlong, for a class-4 winner on normal ground. A race's class-adjusted time is
   ``winning_time_s ÷ distance_f − CLASS_STEP_S_PER_F × (race_class − 4)`` (a class-1 winner is expected
   0.15 s/f faster than a class-4 one; unclassed races count as class 4). The standard of a race run on day D
   is the **median** of the class-adjusted, going-corrected times (below) of the group's last
   `STANDARD_RACES` (20) races run **strictly before D**; with fewer than `MIN_STANDARD_RACES` (5) such races the
   standard, and every figure of the race, is null.
2. **Going allowance** per *meeting* (course × day × surface), in seconds per furlong: the median over the
   meeting's races with a standard of (class-adjusted time − standard). The allowance comes from the meeting's own
   races: it is the ground and wind of that day, not a forecast. When fewer than `MIN_MEETING_RACES` (3) races of
   the meeting have a standard, a median says little, and the race takes the typical allowance of its official
   going group instead (`TYPICAL_ALLOWANCE_S_PER_F`: firm −0.3, good / standard 0, soft +0.25, heavy +0.6 s/f).

   Standards and allowances are estimated twice: the first pass takes the median over raw class-adjusted times
   (whatever the ground), the second over times corrected by the first pass's allowance (``time − allowance``), so
   a course whose recent meetings were soft does not get a slow standard. The figures use the second pass.
3. **Speed figure** per result (a runner that finished: a finishing position and beaten lengths, 0 for the
   winner): its time is ``winning_time_s + ovr_btn_lengths × seconds_per_length``, with seconds per length by
   race code and going (`LENGTHS_PER_SECOND`: flat 6 on good or faster ground, 5.5 soft, 5 heavy; jumps 5, 4.5,
   4). ``time_vs_standard_s`` = its time − distance × (standard + allowance); the figure is
   ``SPEED_BASE − time_vs_standard_s × lbs_per_second`` with ``lbs_per_second = LBS_SECOND_FURLONGS ÷
   distance_f`` (90 ÷ furlongs: 18 lb a second over 5f, 11 over a mile, 4.5 over 2½ miles). A class-4 winner
   running to standard on the day's ground rates 100; a class-1 winner running its class par rates 113.5.

Every figure of a race on D only uses races before D (and the meeting's own races on D for the allowance).
`speed_features` describes a declared runner on day D from its figures in races **strictly before D** (runs
without a figure are skipped): ``speed_last`` (latest), ``speed_best`` (best), ``speed_mean3`` (mean of the last
three, or fewer when it has fewer), ``speed_runs`` (figures so far; 0 without one). `runner_features` carries
these columns (after the draw-bias block); the `speed_figures` asset has the figures per result.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from darkhorses_assets.transforms.stats import KEY_SEED, VOID_STATUS, key_of, with_keys

STANDARD_RACES = 20
"""The standard is the median of at most this many latest earlier races of the group."""
MIN_STANDARD_RACES = 5
"""Fewer earlier races in the group: no standard, no figure."""
MIN_MEETING_RACES = 3
"""Fewer races with a standard at the meeting: the going allowance is the typical one of the race's going."""
TYPICAL_ALLOWANCE_S_PER_F = {"firm": -0.3, "good": 0.0, "standard": 0.0, "soft": 0.25, "heavy": 0.6}
"""Seconds per furlong the official going typically adds (unknown going: 0), for meetings too small to measure."""
REFERENCE_CLASS = 4
CLASS_STEP_S_PER_F = 0.05
"""Seconds per furlong a winner one class higher is expected to be faster."""
LENGTHS_PER_SECOND = {
    "flat": {"firm": 6.0, "good": 6.0, "standard": 6.0, "soft": 5.5, "heavy": 5.0},
    "jumps": {"firm": 5.0, "good": 5.0, "standard": 5.0, "soft": 4.5, "heavy": 4.0},
}
"""Lengths a horse covers in a second, by race code and going group (unknown going: good)."""
LBS_SECOND_FURLONGS = 90.0
"""lbs per second of time over a trip = this ÷ furlongs."""
SPEED_BASE = 100.0
SPEED_INPUT_COLUMNS = {
    "races": ("race_id", "race_date", "off_dt", "course_id", "type", "surface", "distance_f", "race_class",
              "going", "going_group", "winning_time_s", "is_abandoned"),
    "results": ("race_id", "horse_id", "finish_position", "finish_status", "ovr_btn_lengths"),
}  # fmt: skip
"""The columns `speed_figures` reads of clean races and results (its asset loads only these)."""
SPEED_FIGURE_SCHEMA: dict[str, pl.DataType] = {
    "race_id": pl.String(),
    "horse_id": pl.String(),
    "race_date": pl.Date(),
    "course_id": pl.String(),
    "type": pl.String(),
    "surface": pl.String(),
    "distance_f": pl.Float64(),
    "race_class": pl.Int32(),
    "going": pl.String(),
    "finish_position": pl.Int32(),
    "ovr_btn_lengths": pl.Float64(),
    "winning_time_s": pl.Float64(),
    "standard_races": pl.Int32(),
    "standard_time_s": pl.Float64(),
    "meeting_races": pl.Int32(),
    "going_allowance_s_per_f": pl.Float64(),
    "seconds_per_length": pl.Float64(),
    "lbs_per_second": pl.Float64(),
    "time_vs_standard_s": pl.Float64(),
    "speed_figure": pl.Float64(),
}
SPEED_FEATURE_SCHEMA: dict[str, pl.DataType] = {
    "speed_last": pl.Float64(),
    "speed_best": pl.Float64(),
    "speed_mean3": pl.Float64(),
    "speed_runs": pl.Int32(),
}
"""Columns `runner_features` gets from `speed_features` (its last block)."""
_GROUP_COLUMNS = ("course_id", "type", "surface", "_distance_key")
_MEETING_COLUMNS = ("course_id", "race_date", "surface")
_GROUP = ("_group",)
_MEETING = ("_meeting",)
"""Groups and meetings are matched on a 64-bit hash of their columns (`stats.with_keys`' reasoning: faster)."""


def class_adjustment(race_class: pl.Expr) -> pl.Expr:
    """Seconds per furlong to add to a winner's time to make it a class-4 time (positive for class 1–3, whose winners
    are expected faster; unclassed: 0)."""
    return -CLASS_STEP_S_PER_F * (race_class.fill_null(REFERENCE_CLASS) - REFERENCE_CLASS)


def seconds_per_length(race_type: pl.Expr, going_group: pl.Expr) -> pl.Expr:
    """1 ÷ `LENGTHS_PER_SECOND` of the race's code (Flat or jumps) and going group."""
    flat, jumps = (
        going_group.replace_strict(table, default=table["good"], return_dtype=pl.Float64)
        for table in LENGTHS_PER_SECOND.values()
    )
    return 1.0 / pl.when(race_type == "Flat").then(flat).otherwise(jumps)


def race_standards(races: pl.DataFrame | pl.LazyFrame, *, before: date | None = None) -> pl.LazyFrame:
    """One row per timed race (before ``before`` when given): its standard (s/f, class 4, normal ground), the
    number of earlier races it rests on, and the meeting's going allowance (s/f) — module docstring, steps 1–2."""
    timed = (
        races.lazy()
        .select(*SPEED_INPUT_COLUMNS["races"])
        .filter(
            ~pl.col("is_abandoned").fill_null(False),
            pl.col("winning_time_s") > 0,
            pl.col("distance_f") > 0,
            pl.col("course_id").is_not_null(),
            pl.col("race_date").is_not_null(),
        )
    )
    if before is not None:
        timed = timed.filter(pl.col("race_date") < before)
    timed = (
        timed.with_columns(
            ((pl.col("distance_f") * 2).round() / 2).alias("_distance_key"),
            (pl.col("winning_time_s") / pl.col("distance_f") + class_adjustment(pl.col("race_class"))).alias(
                "_adjusted_spf"
            ),
        )
        .with_columns(
            pl.struct(*_GROUP_COLUMNS).hash(KEY_SEED).alias("_group"),
            pl.struct(*_MEETING_COLUMNS).hash(KEY_SEED).alias("_meeting"),
        )
        .sort("race_date", "off_dt", "race_id", nulls_last=True)
        .collect()
    )
    first = _with_allowance(_with_standard(timed, pl.col("_adjusted_spf")))
    corrected = first.select(
        *timed.columns,
        (pl.col("_adjusted_spf") - pl.col("going_allowance_s_per_f").fill_null(0.0)).alias("_corrected_spf"),
    )
    return _with_allowance(_with_standard(corrected, pl.col("_corrected_spf"))).lazy()


def _with_standard(timed: pl.DataFrame, value: pl.Expr) -> pl.DataFrame:
    """``standard_spf`` / ``standard_races``: the median of ``value`` over the group's latest `STANDARD_RACES`
    races strictly before each race's day (null with fewer than `MIN_STANDARD_RACES`)."""
    group = list(_GROUP)
    rolling = (
        timed.select(*group, "race_date", value.alias("_value"))
        .drop_nulls("_value")
        .with_columns(
            pl.col("_value").rolling_median(STANDARD_RACES, min_samples=1).over(group).alias("standard_spf"),
            (pl.int_range(pl.len()).over(group) + 1).clip(upper_bound=STANDARD_RACES).cast(pl.Int32)
            .alias("standard_races"),
        )
        .unique([*group, "race_date"], keep="last", maintain_order=True)
        .select(*group, "race_date", "standard_spf", "standard_races")
    )  # fmt: skip
    joined = timed.join_asof(rolling, on="race_date", by=group, strategy="backward", allow_exact_matches=False,
                            check_sortedness=False)  # both sorted by race_date above
    enough = pl.col("standard_races") >= MIN_STANDARD_RACES
    return joined.with_columns(
        pl.when(enough).then(pl.col("standard_spf")).alias("standard_spf"),
        pl.col("standard_races").fill_null(0),
    )


def _with_allowance(timed: pl.DataFrame) -> pl.DataFrame:
    """``going_allowance_s_per_f`` / ``meeting_races``: median deviation from standard of the meeting's races
    with a standard; under `MIN_MEETING_RACES` of them, the typical allowance of the race's going group."""
    meeting = list(_MEETING)
    deviation = pl.col("_adjusted_spf") - pl.col("standard_spf")
    races_with_standard = deviation.count().over(meeting).cast(pl.Int32)
    typical = pl.col("going_group").replace_strict(TYPICAL_ALLOWANCE_S_PER_F, default=0.0, return_dtype=pl.Float64)
    return timed.with_columns(
        pl.when(races_with_standard >= MIN_MEETING_RACES)
        .then(deviation.median().over(meeting))
        .otherwise(typical)
        .alias("going_allowance_s_per_f"),
        races_with_standard.alias("meeting_races"),
    )


def speed_figures(
    races: pl.DataFrame | pl.LazyFrame,
    results: pl.DataFrame | pl.LazyFrame,
    *,
    figure_days: pl.Series | tuple[date, date] | None = None,
    before: date | None = None,
) -> pl.DataFrame:
    """One row per result of a timed race (on ``figure_days`` when given, else every day before ``before``, else
    all): the race's standard and allowance and the runner's speed figure (module docstring, step 3). Void results
    are left out; a runner that did not finish has a null figure. Sorted by date, race, position and horse."""
    return (
        figure_rows(races, results, figure_days=figure_days, before=before)
        .sort("race_date", "race_id", "finish_position", "horse_id", nulls_last=True)
        .collect()
    )


def figure_rows(
    races: pl.DataFrame | pl.LazyFrame,
    results: pl.DataFrame | pl.LazyFrame,
    *,
    figure_days: pl.Series | tuple[date, date] | None = None,
    before: date | None = None,
) -> pl.LazyFrame:
    """`speed_figures`, lazy and in no particular order (what `runner_features` reads of it is all it computes)."""
    from darkhorses_assets.transforms.features import target_days  # features imports this module

    days = None if figure_days is None else target_days(figure_days)
    if days is not None:
        before = days.max() + timedelta(days=1) if days.len() else None
    standards = race_standards(races, before=before)
    if days is not None:
        standards = standards.filter(pl.col("race_date").is_in(days.implode()))
    finished_btn = (
        pl.when(pl.col("finish_position") == 1).then(pl.col("ovr_btn_lengths").fill_null(0.0))
        .when(pl.col("finish_position").is_not_null()).then(pl.col("ovr_btn_lengths"))
    )  # fmt: skip
    spl = seconds_per_length(pl.col("type"), pl.col("going_group"))
    lbs_per_second = LBS_SECOND_FURLONGS / pl.col("distance_f")
    par = pl.col("distance_f") * (pl.col("standard_spf") + pl.col("going_allowance_s_per_f"))
    time_vs_standard = pl.col("winning_time_s") + pl.col("_btn") * pl.col("seconds_per_length") - par
    return (
        results.lazy()
        .select(*SPEED_INPUT_COLUMNS["results"])
        .filter((pl.col("finish_status") != VOID_STATUS).fill_null(True))
        .join(standards, on="race_id", how="inner")
        .with_columns(
            finished_btn.alias("_btn"),
            (pl.col("distance_f") * pl.col("standard_spf")).alias("standard_time_s"),
            spl.alias("seconds_per_length"),
            lbs_per_second.alias("lbs_per_second"),
        )
        .with_columns(time_vs_standard.alias("time_vs_standard_s"))
        .with_columns((SPEED_BASE - pl.col("time_vs_standard_s") * pl.col("lbs_per_second")).alias("speed_figure"))
        .select([pl.col(name).cast(dtype) for name, dtype in SPEED_FIGURE_SCHEMA.items()])
    )


def speed_features(figures: pl.DataFrame | pl.LazyFrame, targets: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Per (race_id, horse_id, race_date) of ``targets``, in their order: `SPEED_FEATURE_SCHEMA` from the horse's
    figures in races strictly before race_date (within a day in race_id order: a horse runs once a day in practice,
    and a day's last figure counts as its latest)."""
    horse, figure = key_of("horse_id"), pl.col("speed_figure")
    queries = with_keys(targets.lazy().select("race_id", "horse_id", "race_date"), ["horse_id"]).collect()
    state = (
        with_keys(figures.lazy().select("horse_id", "race_date", "race_id", "speed_figure").drop_nulls(), ["horse_id"])
        .join(queries.lazy().select(horse).unique(), on=horse, how="semi")
        .sort(horse, "race_date", "race_id")
        .with_columns(_nth_run(horse).alias("speed_runs"))
        .with_columns(
            figure.alias("speed_last"),
            figure.cum_max().over(horse).alias("speed_best"),
            pl.when(pl.col("speed_runs") >= 3).then((figure + figure.shift(1) + figure.shift(2)) / 3)
            .when(pl.col("speed_runs") == 2).then((figure + figure.shift(1)) / 2)
            .otherwise(figure)
            .alias("speed_mean3"),
        )
        .filter(_last_of(horse, "race_date"))  # the horse's state after its last figure of the day
        .select(horse, "race_date", *SPEED_FEATURE_SCHEMA)
        .sort("race_date")
        .collect()
    )  # fmt: skip
    return (
        queries.with_row_index("_row")
        .sort("race_date")
        .join_asof(state, on="race_date", by=horse, strategy="backward", allow_exact_matches=False,
                   check_sortedness=False)  # both sorted by race_date
        .sort("_row")
        .with_columns(pl.col("speed_runs").fill_null(0))
        .select("race_id", "horse_id", *(pl.col(c).cast(t) for c, t in SPEED_FEATURE_SCHEMA.items()))
    )  # fmt: skip


def _nth_run(entity: str) -> pl.Expr:
    """1, 2, 3 … along each entity's rows (the frame sorted by entity): a running count without a window."""
    index = pl.int_range(pl.len())
    starts = pl.col(entity).ne_missing(pl.col(entity).shift())
    return index - pl.when(starts).then(index).forward_fill() + 1


def _last_of(*keys: str) -> pl.Expr:
    """True on the last row of each run of equal ``keys`` (the frame sorted by them)."""
    return pl.any_horizontal(pl.col(k).ne_missing(pl.col(k).shift(-1)) for k in keys)
