"""speed: hand-computed standards, allowances and figures; a brute-force reference for every column; nothing on or
after the race date counts; null under the minimum number of races; pandera rules; signal on the synthetic world;
ability shows in the simulator's times."""

from __future__ import annotations

import math
import random
import statistics
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from darkhorses_assets.schemas.validation import validate
from darkhorses_assets.transforms.races import RACES_SCHEMA
from darkhorses_assets.transforms.results import RESULTS_SCHEMA
from darkhorses_assets.transforms.speed import (
    CLASS_STEP_S_PER_F,
    LBS_SECOND_FURLONGS,
    LENGTHS_PER_SECOND,
    MIN_MEETING_RACES,
    MIN_STANDARD_RACES,
    REFERENCE_CLASS,
    SPEED_BASE,
    SPEED_FEATURE_SCHEMA,
    SPEED_FIGURE_SCHEMA,
    STANDARD_RACES,
    TYPICAL_ALLOWANCE_S_PER_F,
    speed_features,
    speed_figures,
)
from darkhorses_assets_tests.synthetic import synthetic_history
from darkhorses_assets_tests.test_transforms_features import scrambled

FIRST, LAST = date(2016, 9, 1), date(2016, 9, 4)
START = date(2024, 5, 1)


# ---------------------------------------------------------------------------------------------------------
# Small hand-computed worlds
# ---------------------------------------------------------------------------------------------------------


def _races(rows: list[dict]) -> pl.DataFrame:
    base = {"course_id": "crs_1", "type": "Flat", "surface": "Turf", "distance_f": 8.0, "race_class": 4,
            "going": "Good", "going_group": "good", "is_abandoned": False, "has_result": True}  # fmt: skip
    full = []
    for i, row in enumerate(rows):
        merged = {**base, **row}
        merged.setdefault("race_id", f"rac_{i}")
        merged["off_dt"] = datetime.combine(merged["race_date"], datetime.min.time(), UTC) + timedelta(
            hours=12, minutes=i
        )
        full.append(merged)
    frame = pl.DataFrame(full)
    return frame.select(
        pl.col(c).cast(t) if c in frame.columns else pl.lit(None, t).alias(c) for c, t in RACES_SCHEMA.items()
    )


def _results(rows: list[dict]) -> pl.DataFrame:
    frame = pl.DataFrame(rows)
    return frame.select(
        pl.col(c).cast(t) if c in frame.columns else pl.lit(None, t).alias(c) for c, t in RESULTS_SCHEMA.items()
    )


def _winners(races: pl.DataFrame) -> list[dict]:
    return [{"race_id": r, "horse_id": f"hrs_w{r}", "finish_position": 1, "finish_status": "FIN",
             "ovr_btn_lengths": 0.0} for r in races["race_id"]]  # fmt: skip


def _earlier(days: int) -> list[dict]:
    """One class-4 good-ground race a day over 8f: 100, 101, 99, 102, 98 s … (median 100 s = 12.5 s/f)."""
    times = [100.0, 101.0, 99.0, 102.0, 98.0, 100.0, 100.0]
    return [{"race_id": f"rac_e{d}", "race_date": START + timedelta(days=d), "winning_time_s": times[d]}
            for d in range(days)]  # fmt: skip


def test_standard_allowance_and_figures_by_hand():
    """Standard = median of five earlier 8f winners = 12.5 s/f (100 s). The soft meeting's three races: 104 s
    (class 4), 102 s (class 4) and 103 s (class 1: as a class-4 time 103 + 8 × 0.15 = 104.2 s); deviations 0.5,
    0.25 and 0.525 s/f → allowance 0.5 s/f; par 8 × 13.0 = 104 s, 11.25 lb a second over 8f."""
    day = START + timedelta(days=5)
    races = _races([
        *_earlier(5),
        {"race_id": "rac_a", "race_date": day, "winning_time_s": 104.0, "going": "Soft", "going_group": "soft"},
        {"race_id": "rac_b", "race_date": day, "winning_time_s": 102.0, "going": "Soft", "going_group": "soft"},
        {"race_id": "rac_c", "race_date": day, "winning_time_s": 103.0, "going": "Soft", "going_group": "soft",
         "race_class": 1},
    ])  # fmt: skip
    results = _results([
        *_winners(races),
        {"race_id": "rac_a", "horse_id": "hrs_2", "finish_position": 2, "finish_status": "FIN",
         "ovr_btn_lengths": 2.0},
        {"race_id": "rac_a", "horse_id": "hrs_pu", "finish_position": None, "finish_status": "PU"},
    ])  # fmt: skip
    figures = speed_figures(races, results, figure_days=(day, day))
    by_horse = {r["horse_id"]: r for r in figures.to_dicts()}
    assert figures.columns == list(SPEED_FIGURE_SCHEMA) and figures.height == 5
    assert {r["standard_races"] for r in by_horse.values()} == {5}
    assert {r["meeting_races"] for r in by_horse.values()} == {3}
    assert all(math.isclose(r["standard_time_s"], 100.0) for r in by_horse.values())
    assert all(math.isclose(r["going_allowance_s_per_f"], 0.5) for r in by_horse.values())
    expected = {"hrs_wrac_a": 100.0, "hrs_wrac_b": 100 + 2 * 11.25, "hrs_wrac_c": 100 + 11.25,
                "hrs_2": 100 - 11.25 * 2 / 5.5}  # fmt: skip
    for horse, figure in expected.items():
        assert math.isclose(by_horse[horse]["speed_figure"], figure), (horse, by_horse[horse])
    assert math.isclose(by_horse["hrs_2"]["seconds_per_length"], 1 / 5.5)
    assert by_horse["hrs_pu"]["speed_figure"] is None and by_horse["hrs_pu"]["standard_races"] == 5


def test_too_few_earlier_races_means_no_figure_and_a_small_meeting_takes_the_typical_allowance():
    """Four earlier races: no standard, no figure. Five: a figure; a meeting of one race takes the typical
    allowance of its going (soft: +0.25 s/f): 8 × 12.75 = 102 s is par, the winner's 101 s rates 111.25."""
    for earlier, figure in ((MIN_STANDARD_RACES - 1, None), (MIN_STANDARD_RACES, 100 + 11.25)):
        day = START + timedelta(days=earlier)
        races = _races([*_earlier(earlier), {"race_id": "rac_x", "race_date": day, "winning_time_s": 101.0,
                                              "going": "Soft", "going_group": "soft"}])  # fmt: skip
        row = speed_figures(races, _results(_winners(races)), figure_days=(day, day)).row(0, named=True)
        assert row["standard_races"] == earlier and row["meeting_races"] == (earlier >= MIN_STANDARD_RACES)
        assert row["going_allowance_s_per_f"] == TYPICAL_ALLOWANCE_S_PER_F["soft"]
        assert (row["speed_figure"] is None) if figure is None else math.isclose(row["speed_figure"], figure)
        assert (row["standard_time_s"] is None) == (figure is None)


def test_the_standard_uses_only_the_latest_races_before_the_day():
    """Races on the figure's own day never enter its standard; only the group's last 20 earlier races do."""
    old = [{"race_id": f"rac_o{d}", "race_date": START + timedelta(days=d), "winning_time_s": 200.0}
           for d in range(10)]  # fmt: skip
    recent = [{"race_id": f"rac_r{d}", "race_date": START + timedelta(days=10 + d), "winning_time_s": 96.0}
              for d in range(STANDARD_RACES)]  # fmt: skip
    day = START + timedelta(days=10 + STANDARD_RACES)
    same_day = [{"race_id": f"rac_s{i}", "race_date": day, "winning_time_s": 300.0} for i in range(3)]
    races = _races([*old, *recent, *same_day])
    figures = speed_figures(races, _results(_winners(races)), figure_days=(day, day))
    assert figures.height == 3 and (figures["standard_races"] == STANDARD_RACES).all()
    assert figures["standard_time_s"].round(6).unique().to_list() == [96.0]


def test_speed_features_by_hand():
    """Figures 80, 100, 90, 70 on days 1–4 (a null on day 5 is skipped): on day 5 last 70, best 100, mean of the last
    three 86.67, four runs; on day 3 (strictly before): last 100, best 100, mean 90, two runs; a newcomer: 0 runs."""
    figures = pl.DataFrame({
        "horse_id": ["h"] * 5, "race_id": [f"r{d}" for d in range(1, 6)],
        "race_date": [START + timedelta(days=d) for d in range(1, 6)],
        "speed_figure": [80.0, 100.0, 90.0, 70.0, None],
    })  # fmt: skip
    targets = pl.DataFrame({"race_id": ["t5", "t3", "t9"], "horse_id": ["h", "h", "new"],
                            "race_date": [START + timedelta(days=6), START + timedelta(days=3), START]})
    got = speed_features(figures, targets).rows()
    assert got[0][:4] == ("t5", "h", 70.0, 100.0) and math.isclose(got[0][4], 260 / 3) and got[0][5] == 4
    assert got[1] == ("t3", "h", 100.0, 100.0, 90.0, 2)
    assert got[2] == ("t9", "new", None, None, None, 0)


# ---------------------------------------------------------------------------------------------------------
# Brute force on the synthetic world
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def history():
    races, runners, results = synthetic_history(2, 11)
    rng = random.Random(8)
    voided = set(rng.sample(results["race_id"].unique().sort().to_list(), 200))
    results = results.with_columns(
        pl.when(pl.col("race_id").is_in(list(voided))).then(pl.lit("VOI")).otherwise(pl.col("finish_status"))
        .alias("finish_status")
    )  # fmt: skip
    untimed = set(rng.sample(races["race_id"].to_list(), 300))
    races = races.with_columns(
        pl.when(pl.col("race_id").is_in(list(untimed))).then(None).otherwise(pl.col("winning_time_s"))
        .alias("winning_time_s")
    )  # fmt: skip
    return races, runners, results


def _median_of_latest(values: list[tuple], before: date) -> tuple[float | None, int]:
    earlier = [v for d, v in values if d < before][-STANDARD_RACES:]
    return (statistics.median(earlier) if len(earlier) >= MIN_STANDARD_RACES else None), len(earlier)


def reference_figures(races: pl.DataFrame, results: pl.DataFrame) -> dict[tuple[str, str], dict]:
    """Every column of `speed_figures`, with loops: two passes of standards and allowances, then the figures."""
    timed = [r for r in races.to_dicts()
             if not r["is_abandoned"] and (r["winning_time_s"] or 0) > 0 and (r["distance_f"] or 0) > 0
             and r["course_id"] is not None and r["race_date"] is not None]  # fmt: skip
    timed.sort(key=lambda r: (r["race_date"], r["off_dt"], r["race_id"]))
    for race in timed:
        klass = REFERENCE_CLASS if race["race_class"] is None else race["race_class"]
        race["adjusted"] = race["winning_time_s"] / race["distance_f"] - CLASS_STEP_S_PER_F * (klass - REFERENCE_CLASS)
        race["group"] = (race["course_id"], race["type"], race["surface"], round(race["distance_f"] * 2) / 2)
        race["meeting"] = (race["course_id"], race["race_date"], race["surface"])
    value_of = lambda race: race["adjusted"]  # noqa: E731
    for _ in range(2):
        by_group = defaultdict(list)
        for race in timed:
            by_group[race["group"]].append((race["race_date"], value_of(race)))
        for race in timed:
            race["standard"], race["standard_races"] = _median_of_latest(by_group[race["group"]], race["race_date"])
        by_meeting = defaultdict(list)
        for race in timed:
            if race["standard"] is not None:
                by_meeting[race["meeting"]].append(race["adjusted"] - race["standard"])
        for race in timed:
            deviations = by_meeting[race["meeting"]]
            race["meeting_races"] = len(deviations)
            race["allowance"] = (statistics.median(deviations) if len(deviations) >= MIN_MEETING_RACES
                                 else TYPICAL_ALLOWANCE_S_PER_F.get(race["going_group"], 0.0))  # fmt: skip
        for race in timed:
            race["corrected"] = race["adjusted"] - race["allowance"]
        value_of = lambda race: race["corrected"]  # noqa: E731
    race_by_id = {r["race_id"]: r for r in timed}
    expected = {}
    for result in results.to_dicts():
        race = race_by_id.get(result["race_id"])
        if race is None or result["finish_status"] == "VOI":
            continue
        code = "flat" if race["type"] == "Flat" else "jumps"
        table = LENGTHS_PER_SECOND[code]
        spl = 1 / table.get(race["going_group"], table["good"])
        lbs = LBS_SECOND_FURLONGS / race["distance_f"]
        btn = (result["ovr_btn_lengths"] or 0.0) if result["finish_position"] == 1 else (
            result["ovr_btn_lengths"] if result["finish_position"] is not None else None)
        versus = None
        if btn is not None and race["standard"] is not None:
            versus = race["winning_time_s"] + btn * spl - race["distance_f"] * (race["standard"] + race["allowance"])
        expected[(result["race_id"], result["horse_id"])] = {
            "race_date": race["race_date"], "course_id": race["course_id"], "type": race["type"],
            "surface": race["surface"], "distance_f": race["distance_f"], "race_class": race["race_class"],
            "going": race["going"], "finish_position": result["finish_position"],
            "ovr_btn_lengths": result["ovr_btn_lengths"], "winning_time_s": race["winning_time_s"],
            "standard_races": race["standard_races"],
            "standard_time_s": None if race["standard"] is None else race["distance_f"] * race["standard"],
            "meeting_races": race["meeting_races"], "going_allowance_s_per_f": race["allowance"],
            "seconds_per_length": spl, "lbs_per_second": lbs, "time_vs_standard_s": versus,
            "speed_figure": None if versus is None else SPEED_BASE - versus * lbs,
        }  # fmt: skip
    return expected


def _same(a, b) -> bool:
    return a == b or (isinstance(a, float) and isinstance(b, float) and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9))


@pytest.fixture(scope="module")
def reference(history):
    races, _, results = history
    return reference_figures(races, results)


def test_figures_match_a_brute_force_reference(history, reference):
    races, _, results = history
    figures = speed_figures(races, results)
    assert figures.height == len(reference) > 100_000
    mismatches = [
        (got["race_id"], got["horse_id"], column, got[column], want[column])
        for got in figures.to_dicts()
        for want in [reference[(got["race_id"], got["horse_id"])]]
        for column in SPEED_FIGURE_SCHEMA
        if column not in ("race_id", "horse_id") and not _same(got[column], want[column])
    ]
    assert not mismatches, mismatches[:20]
    late = figures.filter(pl.col("race_date") >= date(2016, 1, 1))
    assert late["speed_figure"].is_not_null().mean() > 0.3
    assert (figures["meeting_races"] >= MIN_MEETING_RACES).any() and (figures["standard_races"] == 0).any()


def test_runner_features_match_a_brute_force_reference(history, reference):
    from darkhorses_assets.transforms.features import SPEED_FEATURE_COLUMNS, runner_features
    from darkhorses_assets_tests.test_transforms_features import rounded_from

    races, runners, results = history
    features = runner_features(races, runners, results, feature_days=(FIRST, LAST))
    assert features.columns[-len(SPEED_FEATURE_COLUMNS):] == list(SPEED_FEATURE_COLUMNS) == list(SPEED_FEATURE_SCHEMA)
    by_horse = defaultdict(list)
    for (race_id, horse_id), row in reference.items():
        if row["speed_figure"] is not None:
            by_horse[horse_id].append((row["race_date"], race_id, row["speed_figure"]))
    for figures in by_horse.values():
        figures.sort()
    mismatches = []
    for target in features.select("race_id", "horse_id", "race_date", *SPEED_FEATURE_COLUMNS).to_dicts():
        earlier = [f for d, _, f in by_horse.get(target["horse_id"], []) if d < target["race_date"]]
        want = {"speed_last": earlier[-1] if earlier else None, "speed_best": max(earlier, default=None),
                "speed_mean3": statistics.fmean(earlier[-3:]) if earlier else None, "speed_runs": len(earlier)}
        mismatches += [(target["race_id"], target["horse_id"], c, target[c], w)
                       for c, w in want.items() if not (_same(target[c], w) or rounded_from(target[c], w))]  # fmt: skip
    assert not mismatches, mismatches[:20]
    assert (features["speed_runs"] > 0).mean() > 0.5 and (features["speed_runs"] == 0).any()


def test_results_and_races_on_or_after_the_race_date_change_nothing(history):
    """Every result column of every run on or after D rewritten (or deleted), every race column after D and the
    result-given ones of D's races (winning time, official going, distance, class …) rewritten: D's speed columns
    and the figures of the days before D do not change."""
    from darkhorses_assets.transforms.features import SPEED_FEATURE_COLUMNS, runner_features

    races, runners, results = history
    day = FIRST + timedelta(days=1)
    keys = ("race_id", "horse_id")

    def speed_block(variant_races, variant_results):
        features = runner_features(variant_races, runners, variant_results, feature_days=(day, day))
        return features.select(*keys, *SPEED_FEATURE_COLUMNS)

    baseline = speed_block(races, results)
    earlier_figures = speed_figures(races, results, before=day)
    later = pl.col("race_date") >= day
    card = ("race_id", "race_date", "off_dt", "course_id", "region", "type", "is_handicap", "is_abandoned")
    rewritten_races = scrambled(scrambled(races, pl.col("race_date") > day, ("race_id", "race_date")),
                                pl.col("race_date") == day, card)  # fmt: skip
    rewritten_results = scrambled(results, later, ("race_id", "horse_id", "race_date"))
    for variant_races, variant_results in (
        (races, rewritten_results),
        (races, results.filter(~later)),
        (rewritten_races, rewritten_results),
    ):
        assert_frame_equal(speed_block(variant_races, variant_results), baseline)
        assert_frame_equal(speed_figures(variant_races, variant_results, before=day), earlier_figures)
    assert baseline["speed_best"].is_not_null().sum() > 20


def test_a_range_equals_each_day_computed_alone(history):
    races, _, results = history
    days = pl.date_range(FIRST, LAST, eager=True)
    one_by_one = pl.concat([speed_figures(races, results, figure_days=(d, d)) for d in days])
    assert_frame_equal(one_by_one, speed_figures(races, results, figure_days=(FIRST, LAST)))


def test_the_better_figures_win_more_often(history):
    """On the synthetic world (winning times carry the winner's performance), a runner's best and latest figures rank
    it: win rate rises across the deciles, the top decile wins several times as often as the bottom one."""
    from darkhorses_assets.transforms.features import runner_features
    from darkhorses_assets.transforms.signal import decile_win_rates, monotone_trend

    races, runners, results = history
    features = runner_features(races, runners, results, feature_days=(date(2016, 7, 1), date(2016, 9, 30)))
    won = results.select("race_id", "horse_id", (pl.col("finish_position") == 1).alias("won"))
    for column in ("speed_best", "speed_last", "speed_mean3"):
        rates = decile_win_rates(features, won, column)["win_rate"]
        assert monotone_trend(decile_win_rates(features, won, column)) > 0.8, (column, rates.to_list())
        assert rates[-1] > 2.5 * rates[0], (column, rates.to_list())


# ---------------------------------------------------------------------------------------------------------
# Rules
# ---------------------------------------------------------------------------------------------------------


def _hard_failures(frame: pl.DataFrame, table: str) -> dict[str, int]:
    return {rule.name: rule.failing_rows for rule in validate(frame, table).hard_rules if rule.failing_rows}


def _broken(frame: pl.DataFrame, row: int, **values) -> pl.DataFrame:
    return frame.with_columns(
        pl.when(pl.int_range(pl.len()) == row).then(pl.lit(v)).otherwise(pl.col(c)).cast(frame.schema[c]).alias(c)
        for c, v in values.items()
    )


def test_speed_figure_hard_rules_fail_on_a_broken_row(history):
    races, _, results = history
    figures = speed_figures(races, results, figure_days=(FIRST, LAST))
    assert _hard_failures(figures, "speed_figures") == {}
    row = figures.with_row_index("_i").filter(pl.col("speed_figure").is_not_null())["_i"][0]
    assert _hard_failures(_broken(figures, row, standard_races=MIN_STANDARD_RACES - 1), "speed_figures") == {
        "figure_needs_a_standard": 1}
    assert "standard_races:greater_than_or_equal_to(0)" in _hard_failures(_broken(figures, row, standard_races=-1),
                                                                           "speed_figures")
    assert "meeting_races" in " ".join(_hard_failures(_broken(figures, row, meeting_races=None), "speed_figures"))


def test_runner_features_speed_rules_fail_on_a_broken_row(history):
    from darkhorses_assets.transforms.features import runner_features

    races, runners, results = history
    features = runner_features(races, runners, results, feature_days=(FIRST, FIRST))
    assert _hard_failures(features, "runner_features") == {}
    row = features.with_row_index("_i").filter(pl.col("speed_runs") > 1)["_i"][0]
    best = features["speed_best"][row]
    assert _hard_failures(_broken(features, row, speed_last=best + 1), "runner_features") == {"speed_best_is_best": 1}
    assert _hard_failures(_broken(features, row, speed_mean3=best + 1), "runner_features") == {
        "speed_best_is_best": 1}
    assert _hard_failures(_broken(features, row, speed_runs=0), "runner_features") == {"speed_runs_match": 1}


# ---------------------------------------------------------------------------------------------------------
# The simulator's world
# ---------------------------------------------------------------------------------------------------------


def test_the_simulators_winners_run_faster_the_stronger_they_are():
    """30 simulated days: the winner's time per furlong, less what the distance, type, surface and going explain,
    falls as the winner's strength rises; and every finisher's time follows its own performance."""
    from darkhorses_assets.racing_api.simulator.model import GOING_VALUE, SECONDS_PER_FURLONG
    from darkhorses_assets.racing_api.simulator.world import World

    world = World(7)
    strengths, residuals = [], []
    for back in range(30):
        for race in world.races_on(date(2025, 10, 31) - timedelta(days=back)):
            if race.abandoned or not race.starters:
                continue
            winner = next(r for r in race.starters if r.position == 1)
            furlongs = race.distance_y / 220
            spf = SECONDS_PER_FURLONG[race.type] * (0.99 if race.surface == "AW" else 1.0)
            going_time = furlongs * spf * (1 + 0.025 * GOING_VALUE.get(race.going, 0.0))
            strengths.append(winner.strength)
            residuals.append((race.winning_time_s - going_time) / furlongs)
    assert len(strengths) > 500
    assert statistics.correlation(strengths, residuals) < -0.25
    strong = [r for s, r in zip(strengths, residuals, strict=True) if s > statistics.quantiles(strengths, n=4)[2]]
    weak = [r for s, r in zip(strengths, residuals, strict=True) if s < statistics.quantiles(strengths, n=4)[0]]
    assert statistics.mean(strong) < statistics.mean(weak) - 0.05


def test_speed_figures_carry_signal_on_the_simulators_world():
    """240 simulated days straight from the world's races (no API): the figures of the last 60 days' runners, from
    their earlier runs, rank them — win rate rises across the deciles of speed_last, speed_best and speed_mean3, the
    top decile winning about twice as often as the bottom one or more."""
    from darkhorses_assets.racing_api.simulator.world import World
    from darkhorses_assets.transforms.parsing import going_group
    from darkhorses_assets.transforms.signal import decile_win_rates, monotone_trend

    world, last = World(7), date(2025, 10, 31)
    races, results = [], []
    for back in range(240):
        for race in world.races_on(last - timedelta(days=back)):
            races.append({"race_id": race.race_id, "race_date": race.day, "off_dt": race.off_dt,
                          "course_id": race.course.id, "type": race.type, "surface": race.surface,
                          "distance_f": race.distance_y / 220, "race_class": race.race_class, "going": race.going,
                          "winning_time_s": None if race.abandoned else race.winning_time_s,
                          "is_abandoned": race.abandoned})  # fmt: skip
            results += [{"race_id": race.race_id, "horse_id": runner.horse.id, "finish_position": runner.position,
                         "finish_status": runner.status or None,
                         "ovr_btn_lengths": runner.ovr_btn if runner.position else None}
                        for runner in ([] if race.abandoned else race.starters)]  # fmt: skip
    races_frame = pl.DataFrame(races).with_columns(going_group("going").alias("going_group"))
    results_frame = pl.DataFrame(results)
    figures = speed_figures(races_frame, results_frame)
    recent = figures.filter(pl.col("race_date") > last - timedelta(days=60))
    features = speed_features(figures, recent.select("race_id", "horse_id", "race_date"))
    assert (features["speed_runs"] > 0).mean() > 0.4
    won = results_frame.select("race_id", "horse_id", (pl.col("finish_position") == 1).alias("won"))
    for column in ("speed_last", "speed_best", "speed_mean3"):
        rates = decile_win_rates(features, won, column)
        assert monotone_trend(rates) > 0.85, (column, rates["win_rate"].to_list())
        assert rates["win_rate"][-1] > 2 * rates["win_rate"][0], (column, rates["win_rate"].to_list())
