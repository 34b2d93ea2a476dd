"""Point-in-time runner features and race outcome labels.

`runner_features` gives one row per declared runner of the races on the target days, each computed from
results dated **strictly before its race date**: history frames may hold the target days and later ones
without leaking. A multi-day range is one vectorised pass (per-day cumulative sums and as-of joins from
`stats.windowed_sums` / `stats.latest_before`), every day as of itself. Runs, wins, places, win%, A/E and
distance bands are defined once in `darkhorses_assets.transforms.stats`.

Choices:

* Windows of N days are ``[D − N, D − 1]`` for a race on D; lifetime is every result before D.
* First-time runners (and any entity without history): counts 0, percentages / A/E null,
  ``horse_days_since_last_run`` and every "last run" column null, ``horse_last6`` null, winner flags False.
  A null id (e.g. jockey not yet declared) leaves that entity's columns null, counts included.
* ``horse_last6``: the last six runs' positions, oldest first, joined by "-"; non-finishers keep their code
  (``"1-3-PU-2"``).
* ``horse_mean_btn_last5``: mean of ``ovr_btn_lengths`` (lengths behind the winner, 0 for a winner) over the
  last five runs, non-finishers (null) skipped; null when none of them finished.
* Rating columns from the horse's results: ``rpr`` and ``tsr`` (last and best); ``horse_last_or`` is the
  OR carried at its last run, ``or_change`` = today's declared OR − that.
* ``class_change`` = today's class − last run's class (positive: dropping in class);
  ``distance_change_f`` = today's distance − last run's.
* Winner flags: ``course_winner`` (won at this course), ``distance_winner`` (won over a distance within
  ±0.5f of today's), ``cd_winner`` (one win satisfying both).
* Ranks inside the race, dense, 1 = highest, nulls stay null, among runners not marked non-runner
  (``is_non_runner``): ``rank_or`` (declared OR), ``rank_weight`` (weight carried), ``rank_rpr``
  (declared RPR). ``field_size`` is the number of declared runners not marked non-runner (from the
  racecard, never from the day's result: clean races' ``field_size`` counts who actually ran);
  ``draw_pct`` = draw ÷ field_size.
* People and pedigree ids of past runs come from the results (the declaration fills gaps, from the
  ``runners`` of every history day given, not only the target days); today's come from the declaration.
* The race's own context is the racecard's: class, distance (and its band), going, going group and surface
  come from clean races' ``declared_*`` columns (`DECLARED_CONTEXT`), never from the merged columns, which
  prefer the day's result (official going, distance after rail movements). Course, region, type and handicap
  flag identify the race and are the merged ones. Past runs (history) use the merged, official values.
* The last two blocks come from their own modules: draw bias (`transforms.draw_bias`) and speed figures
  (`transforms.speed`: ``speed_last``, ``speed_best``, ``speed_mean3`` and ``speed_runs`` from the horse's speed
  figures in races strictly before the race date).
* Every float feature (percentages, A/E, draw bias, speed figures, mean lengths, distance changes) is rounded
  to `FEATURE_DECIMALS` places.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import reduce

import polars as pl
import polars.selectors as cs

from darkhorses_assets.transforms.draw_bias import DRAW_BIAS_SCHEMA, draw_bias
from darkhorses_assets.transforms.speed import SPEED_FEATURE_SCHEMA, SPEED_INPUT_COLUMNS, figure_rows, speed_features
from darkhorses_assets.transforms.stats import (
    HISTORY_RACE_COLUMNS,
    HISTORY_RESULT_COLUMNS,
    actual_over_expected,
    distance_band,
    key_of,
    latest_before,
    pct,
    run_events,
    windowed_sums,
    with_keys,
)

KEYED_IDS = (
    "horse_id",
    "jockey_id",
    "trainer_id",
    "owner_id",
    "sire_id",
    "dam_id",
    "damsire_id",
    "course_id",
    "going_group",
    "surface",
    "distance_band",
)
"""Columns matched through integer keys (`stats.with_keys`)."""
_HORSE = key_of("horse_id")
DISTANCE_WINNER_TOLERANCE_F = 0.5
FORM_RUNS = 6
BTN_RUNS = 5

DECLARED_CONTEXT = {
    "race_class": "declared_race_class",
    "distance_f": "declared_distance_f",
    "going": "declared_going",
    "going_group": "declared_going_group",
    "surface": "declared_surface",
}
"""Feature column → the clean races column it is read from for the race being described: the racecard's value,
never the merged one (which prefers the day's result: going and distance change on the day)."""
RACE_COLUMNS = (
    "race_date",
    "course_id",
    "region",
    "type",
    "race_class",
    "distance_f",
    "going",
    "going_group",
    "surface",
    "is_handicap",
)
RUNNER_COLUMNS = (
    "race_id",
    "horse_id",
    "number",
    "draw",
    "weight_lbs",
    "age",
    "official_rating",
    "rpr",
    "ts",
    "jockey_id",
    "trainer_id",
    "owner_id",
    "sire_id",
    "dam_id",
    "damsire_id",
)
FEATURE_INPUT_COLUMNS = {
    "races": tuple(dict.fromkeys(("race_id", *RACE_COLUMNS, *DECLARED_CONTEXT.values(), *HISTORY_RACE_COLUMNS,
                                  *SPEED_INPUT_COLUMNS["races"]))),
    "runners": (*RUNNER_COLUMNS, "is_non_runner", "race_date"),
    "results": (*HISTORY_RESULT_COLUMNS, "draw"),
}
"""The columns `runner_features` reads of each clean input (its asset loads only these)."""


@dataclass(frozen=True)
class RecordSpec:
    """A block of windowed record columns: ``{prefix}_{runs,wins,…}{suffix}`` per entity key."""

    prefix: str
    keys: tuple[str, ...]
    windows: dict[str, int | None]
    places: bool = False
    ae_windows: tuple[str, ...] = ()

    @property
    def values(self) -> list[str]:
        extra = ["sp_wins", "inv_sp"] if self.ae_windows else []
        return ["runs", "wins", *(["places"] if self.places else []), *extra]


FEATURE_DECIMALS = 4
"""Decimal places of every float feature: a win % to 0.0001 points, an A/E to 0.0001, more than any model can use.
Full doubles (17 digits) made the 1.3M × 151 table's COPY 36 s where 4 places take 27 s (10 synthetic years, the
server's float parsing), and kept run-to-run float noise (±1e-13, from summation order) in the stored values."""
LIFETIME = {"": None}
PEOPLE_WINDOWS = {"_14d": 14, "_30d": 30, "_365d": 365}
RECORDS: tuple[RecordSpec, ...] = (
    RecordSpec("horse", ("horse_id",), {"": None, "_365d": 365}, places=True),
    RecordSpec("horse_going", ("horse_id", "going_group"), LIFETIME),
    RecordSpec("horse_surface", ("horse_id", "surface"), LIFETIME),
    RecordSpec("jockey", ("jockey_id",), PEOPLE_WINDOWS, places=True, ae_windows=("_365d",)),
    RecordSpec("trainer", ("trainer_id",), PEOPLE_WINDOWS, places=True, ae_windows=("_365d",)),
    RecordSpec("trainer_jockey", ("trainer_id", "jockey_id"), {"_365d": 365}),
    RecordSpec("trainer_course", ("trainer_id", "course_id"), {"_5y": 1826}),
    RecordSpec("owner", ("owner_id",), {"_365d": 365}, places=True),
    *(
        RecordSpec(f"{ancestor}{label}", (f"{ancestor}_id", *dimension), LIFETIME)
        for ancestor in ("sire", "dam", "damsire")
        for label, dimension in (("", ()), ("_surface", ("surface",)), ("_band", ("distance_band",)))
    ),
)
"""Every windowed record in the features; pedigree ones are the progeny's (grand-offspring for damsires)."""


def runner_features(
    races: pl.DataFrame | pl.LazyFrame,
    runners: pl.DataFrame | pl.LazyFrame,
    results: pl.DataFrame | pl.LazyFrame,
    *,
    feature_days: pl.Series | tuple[date, date],
) -> pl.DataFrame:
    """Features of every declared runner in the races on ``feature_days`` (a Series of dates, or an
    inclusive ``(first, last)`` range), from results strictly before each race's date. See the module
    docstring for the definitions; columns are `feature_columns()`.

    ``runners`` are the declarations of the target days (more days are fine): a result lacking a people or
    pedigree id takes its declared one (`stats.run_events`). Clean results already carry them (`clean_layer`
    fills a missing id from the same day's racecard), so the asset passes the target days' runners only.
    """
    days = target_days(feature_days)
    features = _records_and_form(races, runners, results, days)
    bias = draw_bias(races, runners, results, feature_days=days).select("race_id", "horse_id", *DRAW_FEATURE_COLUMNS)
    figures = figure_rows(races, results, before=days.max())
    speed = speed_features(figures, features.select("race_id", "horse_id", "race_date")).drop("race_id", "horse_id")
    return _attach(features, [(bias.lazy().with_columns(_rounded()), ["race_id", "horse_id"]),
                              (speed.lazy().with_columns(_rounded()), None)])  # one row per runner, in order


def _rounded() -> pl.Expr:
    return cs.float().round(FEATURE_DECIMALS)


def _records_and_form(
    races: pl.DataFrame | pl.LazyFrame,
    runners: pl.DataFrame | pl.LazyFrame,
    results: pl.DataFrame | pl.LazyFrame,
    days: pl.Series,
) -> pl.DataFrame:
    """The feature columns up to the winner flags (all but the draw-bias and speed blocks); the history it
    builds is freed on return, before those blocks build their own."""
    targets = with_keys(_target_runners(races, runners, days), KEYED_IDS).collect()
    history = run_events(races, results, runners).filter(pl.col("race_date") < days.max())
    events = with_keys(history, KEYED_IDS).collect().lazy()
    blocks: list[tuple[pl.LazyFrame, list[str] | None]] = [(_record(targets.lazy(), events, spec), None)
                                                           for spec in RECORDS]
    blocks.append((_last_run_form(targets.lazy(), events), [_HORSE, "ref_date"]))
    blocks.append((_winner_flags(targets.lazy(), events), _WINNER_KEYS))
    return (
        _attach(targets, blocks)
        .lazy()
        .pipe(_with_form)
        .pipe(_with_winner_flags)
        .select(feature_columns()[: -len(DRAW_FEATURE_COLUMNS) - len(SPEED_FEATURE_COLUMNS)])
        .with_columns(_rounded())
        .collect()
    )


def _attach(targets: pl.DataFrame, blocks: list[tuple[pl.LazyFrame, list[str] | None]]) -> pl.DataFrame:
    """``targets`` with every block's columns, each looked up by its keys (or, keys None, already one row per
    target in its order): row order kept, and each block is computed and dropped in turn, so only the
    looked-up columns stay in memory (the targets' own columns are shared, never copied: a join would copy the
    whole wide frame)."""
    looked_up = [
        block.collect() if keys is None
        else targets.select(keys).join(block.collect(), on=keys, how="left", maintain_order="left", nulls_equal=True)
        .drop(keys)
        for block, keys in blocks
    ]
    return pl.concat([targets, *looked_up], how="horizontal")


def race_outcomes(
    races: pl.DataFrame | pl.LazyFrame,
    results: pl.DataFrame | pl.LazyFrame,
    feature_days: pl.Series | tuple[date, date],
) -> pl.DataFrame:
    """Labels for the runs on ``feature_days``: race_id, horse_id, race_date, finish_position,
    finish_status, won, placed (top 3), each_way_placed, sp_decimal.

    Each-way places follow UK terms on the number of runners that ran (result rows of the race):
    ≤ 4 none, 5–7 two, 8–15 three, 16+ four in handicaps and three otherwise.
    """
    days = target_days(feature_days)
    runs = run_events(races, results).filter(pl.col("race_date").is_in(days.implode()))
    ran = pl.len().over("race_id")
    places = (
        pl.when(ran <= 4)
        .then(0)
        .when(ran <= 7)
        .then(2)
        .when((ran >= 16) & pl.col("is_handicap").fill_null(False))
        .then(4)
        .otherwise(3)
    )
    return (
        runs.select(
            "race_id",
            "horse_id",
            "race_date",
            "finish_position",
            "finish_status",
            (pl.col("wins") == 1).alias("won"),
            (pl.col("places") == 1).alias("placed"),
            (pl.col("finish_position") <= places).fill_null(False).alias("each_way_placed"),
            "sp_decimal",
        )
        .sort("race_date", "race_id", "finish_position", "horse_id", nulls_last=True)
        .collect()
    )


def target_days(feature_days: pl.Series | tuple[date, date]) -> pl.Series:
    """The target race dates as a sorted, distinct Date Series."""
    if isinstance(feature_days, pl.Series):
        return feature_days.cast(pl.Date).unique().sort().alias("race_date")
    first, last = feature_days
    return pl.date_range(first, last, "1d", eager=True).alias("race_date")


def feature_columns() -> list[str]:
    """Output columns of `runner_features`, in order."""
    return [
        "race_id",
        "horse_id",
        "race_date",
        "number",
        *_CONTEXT_COLUMNS,
        *(c for spec in RECORDS for c in _record_columns(spec)),
        *_FORM_COLUMNS,
        "course_winner",
        "distance_winner",
        "cd_winner",
        *DRAW_FEATURE_COLUMNS,
        *SPEED_FEATURE_COLUMNS,
    ]


DRAW_FEATURE_COLUMNS = tuple(c for c in DRAW_BIAS_SCHEMA if c.startswith("draw_") or c == "field_band")
"""The draw-bias block (`transforms.draw_bias`: the record of the runner's draw third and stall at this course,
distance band and field-size band), next to last in the features."""
SPEED_FEATURE_COLUMNS = tuple(SPEED_FEATURE_SCHEMA)
"""The speed block (`transforms.speed`: last, best and mean of the last three speed figures before the race date,
and how many there are), last in the features."""
_CONTEXT_COLUMNS = (
    "course_id",
    "region",
    "type",
    "race_class",
    "distance_f",
    "distance_band",
    "going",
    "going_group",
    "surface",
    "field_size",
    "is_handicap",
    "draw",
    "draw_pct",
    "weight_lbs",
    "age",
    "official_rating",
    "rpr",
    "ts",
    "rank_or",
    "rank_weight",
    "rank_rpr",
    "jockey_id",
    "trainer_id",
    "owner_id",
    "sire_id",
    "dam_id",
    "damsire_id",
)
_FORM_COLUMNS = (
    "horse_last_run_date",
    "horse_days_since_last_run",
    "horse_last6",
    "horse_mean_btn_last5",
    "horse_last_rpr",
    "horse_best_rpr",
    "horse_last_tsr",
    "horse_best_tsr",
    "horse_last_or",
    "or_change",
    "class_change",
    "distance_change_f",
)


def _target_runners(
    races: pl.DataFrame | pl.LazyFrame, runners: pl.DataFrame | pl.LazyFrame, days: pl.Series
) -> pl.LazyFrame:
    """Declared runners of the target races with their race context, sorted by date, race and number."""
    race_frame = (
        races.lazy()
        .filter(pl.col("race_date").is_in(days.implode()))
        .select("race_id", *(pl.col(DECLARED_CONTEXT.get(c, c)).alias(c) for c in RACE_COLUMNS))
    )
    runner_frame = runners.lazy()
    non_runner = (
        pl.col("is_non_runner").fill_null(False)
        if "is_non_runner" in runner_frame.collect_schema().names()
        else pl.lit(False)
    )
    return (
        runner_frame.select(*RUNNER_COLUMNS, non_runner.alias("_non_runner"))
        .join(race_frame, on="race_id", how="inner")
        .sort("race_date", "race_id", "number")
        .with_columns(
            pl.col("race_date").alias("ref_date"),
            distance_band(pl.col("distance_f")).alias("distance_band"),
            pl.col("race_id").ne_missing(pl.col("race_id").shift()).cum_sum().alias("_race"),
        )
        .with_columns(_race_context())
    )


def _record_columns(spec: RecordSpec) -> list[str]:
    columns = []
    for suffix in spec.windows:
        columns += [f"{spec.prefix}_runs{suffix}", f"{spec.prefix}_wins{suffix}"]
        if spec.places:
            columns.append(f"{spec.prefix}_places{suffix}")
        columns.append(f"{spec.prefix}_win_pct{suffix}")
        if spec.places:
            columns.append(f"{spec.prefix}_place_pct{suffix}")
        if suffix in spec.ae_windows:
            columns.append(f"{spec.prefix}_ae{suffix}")
    return columns


def _record(targets: pl.LazyFrame, events: pl.LazyFrame, spec: RecordSpec) -> pl.LazyFrame:
    """The spec's record columns, one row per target in its order (null where a key is null)."""
    keys = _keys(spec.keys)
    sums = windowed_sums(events, targets, keys=keys, values=spec.values, windows=spec.windows, per_row=True)
    derived = []
    for suffix in spec.windows:
        named = {v: f"{v}{suffix}" for v in ("runs", "wins", "places", "sp_wins", "inv_sp")}
        derived += [
            pl.col(named["runs"]).cast(pl.Int32).alias(f"{spec.prefix}_runs{suffix}"),
            pl.col(named["wins"]).cast(pl.Int32).alias(f"{spec.prefix}_wins{suffix}"),
            pct(named["wins"], named["runs"]).alias(f"{spec.prefix}_win_pct{suffix}"),
        ]
        if spec.places:
            derived += [
                pl.col(named["places"]).cast(pl.Int32).alias(f"{spec.prefix}_places{suffix}"),
                pct(named["places"], named["runs"]).alias(f"{spec.prefix}_place_pct{suffix}"),
            ]
        if suffix in spec.ae_windows:
            derived.append(
                actual_over_expected(named["sp_wins"], named["inv_sp"]).alias(f"{spec.prefix}_ae{suffix}")
            )
    return sums.select(*derived)


def _keys(columns: Sequence[str]) -> list[str]:
    return [key_of(c) for c in columns]


def _earlier_run(column: str, lag: int) -> pl.Expr:
    """``column`` of the horse's run ``lag`` runs back (rows sorted by horse and time; ``_run_index`` set)."""
    return pl.when(pl.col("_run_index") >= lag).then(pl.col(column).shift(lag))


def _horse_form_rows(events: pl.LazyFrame) -> pl.LazyFrame:
    """Per horse and day (its last run of the day): what a later race sees of the horse's form *after*
    that run — last six positions, mean beaten lengths over five, best ratings, and the run's own data."""
    position = pl.coalesce(pl.col("finish_position").cast(pl.Utf8), pl.col("finish_status"), pl.lit("?"))
    recent_btn = [_earlier_run("ovr_btn_lengths", lag) for lag in range(BTN_RUNS)]
    btn_sum = reduce(operator.add, [btn.fill_null(0.0) for btn in recent_btn])
    finished = reduce(operator.add, [btn.is_not_null().cast(pl.Int64) for btn in recent_btn])
    form = pl.concat_str(
        [_earlier_run("_position", lag) for lag in reversed(range(FORM_RUNS))],
        separator="-",
        ignore_nulls=True,
    )
    return (
        events.sort(_HORSE, "race_date", "off_dt")
        .with_columns(
            position.alias("_position"),
            pl.int_range(pl.len()).over(_HORSE).alias("_run_index"),
        )
        .with_columns(
            form.alias("horse_last6"),
            pl.when(finished > 0).then(btn_sum / finished).alias("horse_mean_btn_last5"),
            pl.col("rpr").alias("horse_last_rpr"),
            pl.col("rpr").cum_max().forward_fill().over(_HORSE).alias("horse_best_rpr"),
            pl.col("tsr").alias("horse_last_tsr"),
            pl.col("tsr").cum_max().forward_fill().over(_HORSE).alias("horse_best_tsr"),
            pl.col("official_rating").alias("horse_last_or"),
            pl.col("race_class").alias("_last_class"),
            pl.col("distance_f").alias("_last_distance_f"),
        )
        .unique([_HORSE, "race_date"], keep="last", maintain_order=True)
    )


_FORM_ROW_COLUMNS = (
    "horse_last6",
    "horse_mean_btn_last5",
    "horse_last_rpr",
    "horse_best_rpr",
    "horse_last_tsr",
    "horse_best_tsr",
    "horse_last_or",
    "_last_class",
    "_last_distance_f",
)


def _last_run_form(targets: pl.LazyFrame, events: pl.LazyFrame) -> pl.LazyFrame:
    """Per (horse_id, ref_date): the form rows of the horse's latest run before ref_date."""
    return latest_before(
        _horse_form_rows(events),
        targets,
        keys=[_HORSE],
        columns=_FORM_ROW_COLUMNS,
        date_alias="horse_last_run_date",
    )


def _with_form(frame: pl.LazyFrame) -> pl.LazyFrame:
    return frame.with_columns(
        (pl.col("ref_date") - pl.col("horse_last_run_date"))
        .dt.total_days()
        .alias("horse_days_since_last_run"),
        (pl.col("official_rating") - pl.col("horse_last_or")).alias("or_change"),
        (pl.col("race_class") - pl.col("_last_class")).alias("class_change"),
        (pl.col("distance_f") - pl.col("_last_distance_f")).alias("distance_change_f"),
    )


_COURSE = key_of("course_id")
_WINNER_KEYS = [_HORSE, "ref_date", _COURSE, "distance_f"]


def _winner_flags(targets: pl.LazyFrame, events: pl.LazyFrame) -> pl.LazyFrame:
    """Course / distance / course-and-distance winner: any earlier win of the horse matching today's race.

    Only (target, earlier win) pairs of the same horse are formed: wins are few per horse.
    """
    wins = events.filter(pl.col("wins") == 1).select(
        _HORSE,
        pl.col("race_date").alias("_win_date"),
        pl.col(_COURSE).alias("_win_course"),
        pl.col("distance_f").alias("_win_distance_f"),
    )
    same_course = (pl.col("_win_course") == pl.col(_COURSE)).fill_null(False)
    distance_gap = (pl.col("_win_distance_f") - pl.col("distance_f")).abs()
    near_distance = (distance_gap <= DISTANCE_WINNER_TOLERANCE_F).fill_null(False)
    return (
        targets.select(_WINNER_KEYS)
        .unique()
        .join(wins, on=_HORSE, how="inner")
        .filter(pl.col("_win_date") < pl.col("ref_date"))
        .group_by(_WINNER_KEYS)
        .agg(
            same_course.any().alias("course_winner"),
            near_distance.any().alias("distance_winner"),
            (same_course & near_distance).any().alias("cd_winner"),
        )
    )


def _with_winner_flags(frame: pl.LazyFrame) -> pl.LazyFrame:
    return frame.with_columns(
        pl.col(c).fill_null(False) for c in ("course_winner", "distance_winner", "cd_winner")
    )


def _field_rank(column: str) -> pl.Expr:
    return (
        pl.when(~pl.col("_non_runner"))
        .then(pl.col(column))
        .rank("dense", descending=True)
        .over("_race")
        .cast(pl.Int32)
    )


def _race_context() -> Sequence[pl.Expr]:
    field_size = (~pl.col("_non_runner")).sum().over("_race").cast(pl.Int32)
    return [
        field_size.alias("field_size"),
        (pl.col("draw") / field_size).alias("draw_pct"),
        _field_rank("official_rating").alias("rank_or"),
        _field_rank("weight_lbs").alias("rank_weight"),
        _field_rank("rpr").alias("rank_rpr"),
    ]
