"""pandera models for the feature tables: hard rules (keys) block downstream, soft rules (ranges) warn."""

import re

import pandera.polars as pa
import polars as pl

from darkhorses_assets.transforms.speed import MIN_STANDARD_RACES, SPEED_FEATURE_SCHEMA

SPEED_FIGURE_RANGE = (-150, 200)
"""Plausible speed figures: a class-4 winner on standard is 100; a horse tailed off 30 lengths over 5f rates ≈ 10."""

_KEYS = {
    "race_id": pa.Column(pl.Utf8, nullable=False),
    "horse_id": pa.Column(pl.Utf8, nullable=False),
    "race_date": pa.Column(pl.Date, nullable=False),
}
_PERCENT = pa.Column(checks=pa.Check.in_range(0, 100), nullable=True, regex=True, required=False)
_COUNT = pa.Column(checks=pa.Check.ge(0), nullable=True, regex=True, required=False)

_SPEED_FIGURE = pa.Column(checks=pa.Check.in_range(SPEED_FIGURE_RANGE[0], SPEED_FIGURE_RANGE[1]), nullable=True,
                          regex=True, required=False)
_ROUNDING = 1e-9


def _best_is_best(data) -> pl.LazyFrame:
    """speed_best is at least speed_last and speed_mean3 (both are among or means of the figures it is the max of)."""
    if not set(SPEED_FEATURE_SCHEMA) <= set(data.lazyframe.collect_schema().names()):
        return data.lazyframe.select(pl.lit(True).alias("speed_best_is_best"))
    best = pl.col("speed_best") + _ROUNDING
    return data.lazyframe.select(
        ((pl.col("speed_last") <= best) & (pl.col("speed_mean3") <= best)).fill_null(True).alias("speed_best_is_best")
    )


def _figures_need_history(data) -> pl.LazyFrame:
    """A horse with speed figures has a best one; one without has none (speed_runs = 0 ⇔ speed_best null)."""
    if not set(SPEED_FEATURE_SCHEMA) <= set(data.lazyframe.collect_schema().names()):
        return data.lazyframe.select(pl.lit(True).alias("speed_runs_match"))
    return data.lazyframe.select(
        ((pl.col("speed_runs") > 0) == pl.col("speed_best").is_not_null()).fill_null(True).alias("speed_runs_match")
    )


RUNNER_FEATURES_HARD = pa.DataFrameSchema(
    _KEYS,
    unique=["race_id", "horse_id"],
    checks=[pa.Check(_best_is_best, name="speed_best_is_best", error="speed_best_is_best"),
            pa.Check(_figures_need_history, name="speed_runs_match", error="speed_runs_match")],
    name="runner_features_hard",
)
"""Keys; the speed block is consistent (best ≥ last and mean of three; figures counted ⇔ a best figure)."""
RUNNER_FEATURES_SOFT = pa.DataFrameSchema(
    {
        r"^.*_(win|place)_pct.*$": _PERCENT,
        r"^.*_runs(_.*)?$": _COUNT,
        "field_size": pa.Column(checks=pa.Check.in_range(1, 40), nullable=True),
        r"^speed_(last|best|mean3)$": _SPEED_FIGURE,
    },
    name="runner_features_soft",
)
RACE_OUTCOMES_HARD = pa.DataFrameSchema(
    {**_KEYS, "won": pa.Column(pl.Boolean, nullable=False), "placed": pa.Column(pl.Boolean, nullable=False)},
    unique=["race_id", "horse_id"],
    name="race_outcomes_hard",
)
RACE_OUTCOMES_SOFT = pa.DataFrameSchema(
    {"sp_decimal": pa.Column(checks=pa.Check.gt(1), nullable=True)},
    checks=[pa.Check(lambda data: data.lazyframe.select(~pl.col("won") | pl.col("placed")),
                     name="winners_are_placed", error="winners_are_placed")],
    name="race_outcomes_soft",
)

MARKET_MOVES_HARD = pa.DataFrameSchema(
    {**_KEYS, "market_bookmakers": pa.Column(pl.UInt32, nullable=False),
     "market_move": pa.Column(pl.Utf8, pa.Check.isin(["steamer", "drifter", "steady"]), nullable=True),
     "early_at": pa.Column(pl.Datetime("us", "UTC"), nullable=True),
     "late_at": pa.Column(pl.Datetime("us", "UTC"), nullable=True)},
    unique=["race_id", "horse_id"],
    checks=[pa.Check(lambda data: data.lazyframe.select((pl.col("early_at") <= pl.col("late_at")).fill_null(True)),
                     name="opening_before_latest", error="opening_before_latest")],
    name="market_moves_hard",
)
"""Keys; the move is one of three words; the opening show is never stamped after the latest."""
MARKET_MOVES_SOFT = pa.DataFrameSchema(
    {
        "early_price": pa.Column(checks=pa.Check.in_range(1, 1001, include_min=False), nullable=True),
        "late_price": pa.Column(checks=pa.Check.in_range(1, 1001, include_min=False), nullable=True),
        "consensus_prob": pa.Column(checks=pa.Check.in_range(0, 1), nullable=True),
        # A book of *median* prices (each runner's from possibly different bookmakers) can fall under 100 % in the
        # morning, when prices disagree: the simulator's 08:00 markets reach ~0.79. Under 0.75 is a parsing error.
        "race_overround": pa.Column(checks=pa.Check.in_range(0.75, 2.0), nullable=True),
        "market_rank": pa.Column(checks=pa.Check.in_range(1, 40), nullable=True),
    },
    name="market_moves_soft",
)
"""Decimal prices in (1, 1001], probabilities 0–1, a book between 75 % and 200 %, ranks 1–40."""


def _figures_need_a_standard(data) -> pl.LazyFrame:
    """No speed figure without a standard resting on at least `MIN_STANDARD_RACES` earlier races."""
    return data.lazyframe.select(
        (pl.col("speed_figure").is_null() | (pl.col("standard_races") >= MIN_STANDARD_RACES)).fill_null(False)
    )


SPEED_FIGURES_HARD = pa.DataFrameSchema(
    {**_KEYS, "standard_races": pa.Column(pl.Int32, pa.Check.ge(0), nullable=False),
     "meeting_races": pa.Column(pl.Int32, pa.Check.ge(0), nullable=False),
     "speed_figure": pa.Column(pl.Float64, nullable=True)},
    unique=["race_id", "horse_id"],
    checks=[pa.Check(_figures_need_a_standard, name="figure_needs_a_standard", error="figure_needs_a_standard")],
    name="speed_figures_hard",
)
"""Keys; race counts present and non-negative; a figure only where the standard rests on enough races."""
SPEED_FIGURES_SOFT = pa.DataFrameSchema(
    {
        "speed_figure": pa.Column(checks=pa.Check.in_range(*SPEED_FIGURE_RANGE), nullable=True),
        "standard_time_s": pa.Column(checks=pa.Check.in_range(40, 700), nullable=True),
        "going_allowance_s_per_f": pa.Column(checks=pa.Check.in_range(-1.5, 2.5), nullable=True),
        "seconds_per_length": pa.Column(checks=pa.Check.in_range(0.1, 0.3), nullable=True),
    },
    name="speed_figures_soft",
)
"""Figures −150…200, standards 40–700 s (the winning-time range), allowances −1.5…+2.5 s/f, 0.1–0.3 s a length."""


def _statistics_hard(entity_id: str) -> pa.DataFrameSchema:
    return pa.DataFrameSchema(
        {entity_id: pa.Column(pl.Utf8, nullable=False), "as_of": pa.Column(pl.Date, nullable=False)},
        unique=[entity_id],
        name=f"{entity_id.removesuffix('_id')}_stats_hard",
    )


def _wins_within_runs(data) -> pl.LazyFrame:
    if not {"wins", "runs"} <= set(data.lazyframe.collect_schema().names()):
        return data.lazyframe.select(pl.lit(True).alias("wins_within_runs"))
    return data.lazyframe.select((pl.col("wins") <= pl.col("runs")).fill_null(True))


STATISTICS_SOFT = pa.DataFrameSchema(
    {
        r"^(win|place)_pct(_.*)?$": _PERCENT,
        r"^(runs|wins|places|seconds|thirds|runners)(_.*)?$": _COUNT,
        r"^ae(_.*)?$": _COUNT,
        r"^days_since_last_(run|win)$": _COUNT,
    },
    checks=[pa.Check(_wins_within_runs, name="wins_within_runs", error="wins_within_runs")],
    name="statistics_soft",
)
"""Percentages 0–100, counts and A/E non-negative, wins never above runs (every entity's statistics)."""
STATISTICS_ENTITIES = {
    "jockey_stats": "jockey_id", "trainer_stats": "trainer_id", "owner_stats": "owner_id", "horse_stats": "horse_id",
    "sire_stats": "sire_id", "dam_stats": "dam_id", "damsire_stats": "damsire_id",
}
STATISTICS_HARD = {table: _statistics_hard(entity_id) for table, entity_id in STATISTICS_ENTITIES.items()}


# Column descriptions of the feature and statistics tables, whose columns are generated from specs
# (`transforms.features.RECORDS`, `transforms.stats`): named columns first, then the name patterns.
_SUBJECTS = {
    "horse": "the horse's", "horse_going": "the horse's, on this going group",
    "horse_surface": "the horse's, on this surface", "jockey": "the jockey's", "trainer": "the trainer's",
    "trainer_jockey": "this trainer × jockey pair's", "trainer_course": "the trainer's at this course",
    "owner": "the owner's",
    **{f"{ancestor}{suffix}": f"the {ancestor}'s {'grand-offspring' if ancestor == 'damsire' else 'progeny'}{where}"
       for ancestor in ("sire", "dam", "damsire")
       for suffix, where in (("", ""), ("_surface", " on this surface"), ("_band", " in this distance band"))},
}
_METRICS = {
    "runs": "runs", "wins": "wins", "places": "places (top 3)", "seconds": "second places",
    "thirds": "third places", "win_pct": "win % (null without runs)", "place_pct": "place % (top 3; null without runs)",
    "ae": "A/E: wins ÷ Σ 1/SP (above 1: wins more often than the market expected)",
}
_WINDOWS = {"": "lifetime", "_14d": "over the 14 days before", "_30d": "over the 30 days before",
            "_365d": "over the 365 days before", "_5y": "over the 5 years before"}
_FEATURE_PATTERN = re.compile(
    rf"^(?P<subject>{'|'.join(sorted(_SUBJECTS, key=len, reverse=True))})_"
    rf"(?P<metric>{'|'.join(_METRICS)})(?P<window>_14d|_30d|_365d|_5y)?$"
)
_STATS_PATTERN = re.compile(
    rf"^(?P<metric>{'|'.join(_METRICS)})"
    r"(?:_(?P<window>14d|30d|365d)|_class_(?P<race_class>\d)|_band_(?P<band>\w+)|_surface_(?P<surface>\w+))?$"
)
RUNNER_FEATURE_DESCRIPTIONS = {
    "distance_band": "Distance band of the race: sprint, mile, middle or staying.",
    "draw_pct": "Draw ÷ field size (0–1: low draws near 0).",
    "rank_or": "Rank of the runner's official rating in the race (1 = highest).",
    "rank_weight": "Rank of the weight carried in the race (1 = heaviest).",
    "rank_rpr": "Rank of the runner's RPR in the race (1 = highest).",
    "horse_last_run_date": "Race day of the horse's previous run.",
    "horse_days_since_last_run": "Days since the horse's previous run (from results before the race date).",
    "horse_last6": "Finishing positions of the horse's last 6 runs, latest last (form string).",
    "horse_mean_btn_last5": "Mean lengths beaten by the winner over the horse's last 5 runs.",
    "horse_last_rpr": "RPR the horse earned in its previous run.",
    "horse_best_rpr": "Best RPR the horse earned before this race.",
    "horse_last_tsr": "Topspeed rating the horse earned in its previous run.",
    "horse_best_tsr": "Best Topspeed rating the horse earned before this race.",
    "horse_last_or": "Official rating the horse ran off in its previous run.",
    "or_change": "Official rating now minus the one of the previous run.",
    "class_change": "Race class now minus the class of the previous run (negative: up in class).",
    "distance_change_f": "Distance now minus the distance of the previous run, in furlongs.",
    "course_winner": "True when the horse won at this course before the race date (from results).",
    "distance_winner": "True when the horse won within half a furlong of this distance before the race date.",
    "cd_winner": "True when the horse won at this course over this distance before the race date.",
    "field_band": "Declared field size band: small (≤ 7 runners), medium (8–11) or large (≥ 12).",
    "draw_third": "Third of the field the stall is in: 1 low, 2 middle, 3 high (null without a draw).",
    "draw_third_runs": "Runs from this draw third at this course, distance band and field band before the race date.",
    "draw_third_wins": "Wins from this draw third (course × distance band × field band) before the race date.",
    "draw_third_places": "Places (top 3) from this draw third (course × distance band × field band) before the race "
                         "date.",
    "draw_third_win_pct": "Win % of this draw third (course × distance band × field band) before the race date.",
    "draw_third_place_pct": "Place % of this draw third (course × distance band × field band) before the race date.",
    "draw_group_runs": "Drawn runs at this course, distance band and field band before the race date.",
    "draw_group_win_pct": "Win % of all drawn runs at this course, distance band and field band.",
    "draw_group_place_pct": "Place % of all drawn runs at this course, distance band and field band.",
    "draw_bias_win": "Draw bias: draw_third_win_pct ÷ draw_group_win_pct (1 = fair, above 1 = this third favoured).",
    "draw_bias_place": "draw_third_place_pct ÷ draw_group_place_pct (1 = fair).",
    "draw_stall_runs": "Runs from this stall number at this course, distance band and field band before the race date.",
    "draw_stall_wins": "Wins from this stall number (course × distance band × field band) before the race date.",
    "draw_stall_win_pct": "Win % of this stall number (course × distance band × field band) before the race date.",
    "speed_last": "Speed figure of the horse's latest run with one, before the race date (`speed_figures`).",
    "speed_best": "Best speed figure of the horse before the race date.",
    "speed_mean3": "Mean of the horse's last 3 speed figures before the race date (fewer when it has fewer).",
    "speed_runs": "Runs of the horse with a speed figure before the race date (0: the speed columns are null).",
}
SPEED_FIGURE_DESCRIPTIONS = {
    "standard_races": "Earlier races (at most 20) of the course × type × surface × distance the standard is the "
                      "median of; the figure is null under 5.",
    "standard_time_s": "Standard time: what a class-4 winner runs on normal ground over this course and distance "
                       "(median of earlier winners, class- and going-corrected), in seconds.",
    "meeting_races": "Races of the meeting (course × day × surface) with a standard; under 3 the going allowance is "
                     "the typical one of the official going.",
    "going_allowance_s_per_f": "Going allowance: seconds per furlong the meeting's ground added (median of its races' "
                               "deviations from standard; negative = fast).",
    "seconds_per_length": "Seconds per length used for this race (by code and going).",
    "lbs_per_second": "Pounds per second over this distance (90 ÷ furlongs).",
    "time_vs_standard_s": "Runner's time (winning time + beaten lengths in seconds) minus standard and going "
                          "allowance, in seconds (negative = faster).",
    "speed_figure": "Speed figure in lbs: 100 − time_vs_standard_s × lbs_per_second (a class-4 winner running to "
                    "standard rates 100); null without a standard or for a non-finisher.",
}
RACE_OUTCOME_DESCRIPTIONS = {
    "won": "True when the horse won (dead heats for first count).",
    "placed": "True when the horse finished in the first 3.",
    "each_way_placed": "True when the horse finished in the each-way places (UK terms on the runners that ran).",
}
STATS_DESCRIPTIONS = {
    "as_of": "Latest race day with results the statistics are computed to (inclusive).",
    "runners": "Distinct runners (progeny) that ran.",
    "horses": "Distinct horses the owner has run.",
    "best_class": "Race class with the best A/E (at least 10 runs).",
    "best_class_ae": "A/E in `best_class`.",
    "best_distance_band": "Distance band with the best A/E (at least 10 runs).",
    "best_distance_band_ae": "A/E in `best_distance_band`.",
    "last_run_date": "Race day of the latest run.",
    "last_win_date": "Race day of the latest win.",
    "days_since_last_run": "Days from the latest run to `as_of`.",
    "days_since_last_win": "Days from the latest win to `as_of`.",
}
MARKET_MOVE_DESCRIPTIONS = {
    "market_bookmakers": "Bookmakers with a price for the runner stamped before the off.",
    "early_price": "Opening show: median decimal price at the runner's earliest stamp before the off.",
    "early_at": "Stamp of the opening show (UTC).",
    "late_price": "Latest show: median over bookmakers of each one's latest decimal price before the off.",
    "late_at": "Latest stamp among the bookmakers' latest prices before the off (UTC).",
    "price_move_pct": "100 × (early_price ÷ late_price − 1): change of the implied chance; positive = shortened.",
    "market_move": "steamer (shortened by a factor ≥ 1.2), drifter (lengthened as much) or steady; null without a "
                   "price.",
    "consensus_prob": "Market's win probability: (1 ÷ late_price) ÷ race_overround (sums to 1 over the runners).",
    "race_overround": "Σ 1 ÷ late_price over the race's runners (the book; 1.15 = 15 % over-round).",
    "market_rank": "Rank of late_price in the race (1 = favourite; joint favourites share a rank).",
}
FEATURE_SIGNAL_DESCRIPTIONS = {
    "feature": "Feature the deciles are taken of.",
    "decile": "Decile of the feature (1 = lowest values).",
    "win_rate": "Share of runners in the decile that won.",
    "len": "Runners in the decile.",
}


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def describe_feature_column(table: str, column: str) -> str | None:
    """Description of a column of a features-schema table, or None when it is not one of its own
    (e.g. `race_id`, described with the clean columns)."""
    if table == "runner_features":
        if column in RUNNER_FEATURE_DESCRIPTIONS:
            return RUNNER_FEATURE_DESCRIPTIONS[column]
        if match := _FEATURE_PATTERN.match(column):
            window = _WINDOWS[match["window"] or ""]
            when = "lifetime, before the race date" if window == "lifetime" else f"{window} the race date"
            return f"{_capitalized(_METRICS[match['metric']])}: {_SUBJECTS[match['subject']]} record, {when}."
        return None
    if table == "market_moves":
        return MARKET_MOVE_DESCRIPTIONS.get(column)
    if table == "speed_figures":
        return SPEED_FIGURE_DESCRIPTIONS.get(column)
    if table == "race_outcomes":
        return RACE_OUTCOME_DESCRIPTIONS.get(column)
    if table == "feature_signal":
        return FEATURE_SIGNAL_DESCRIPTIONS.get(column)
    if table.endswith("_stats"):
        if column in STATS_DESCRIPTIONS:
            return STATS_DESCRIPTIONS[column]
        if match := _STATS_PATTERN.match(column):
            scope = (f"over the {match['window'][:-1]} days to `as_of`" if match["window"]
                     else f"in class {match['race_class']} races" if match["race_class"]
                     else f"in the {match['band']} distance band" if match["band"]
                     else f"on {match['surface']}" if match["surface"] else "lifetime, to `as_of`")
            return f"{_capitalized(_METRICS[match['metric']])}, {scope}."
    return None
