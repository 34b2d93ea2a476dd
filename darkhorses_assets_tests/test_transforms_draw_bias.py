"""draw_bias: agreement with a brute-force reference, nothing on or after the race date counts, each day alone,
and signal on a world where some courses favour low draws."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from datetime import date, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from darkhorses_assets.transforms.draw_bias import DRAW_BIAS_SCHEMA, draw_bias
from darkhorses_assets_tests.synthetic import synthetic_history
from darkhorses_assets_tests.test_transforms_features import band, scrambled

FIRST, LAST = date(2016, 3, 1), date(2016, 3, 4)


@pytest.fixture(scope="module")
def history():
    races, runners, results = synthetic_history(2, 11)
    rng = random.Random(8)
    runners = runners.with_columns(pl.Series("is_non_runner", [rng.random() < 0.06 for _ in range(runners.height)]))
    voided = set(rng.sample(results["race_id"].unique().sort().to_list(), 200))
    results = results.with_columns(
        pl.when(pl.col("race_id").is_in(list(voided))).then(pl.lit("VOI")).otherwise(pl.col("finish_status"))
        .alias("finish_status")
    )  # fmt: skip
    return races, runners, results


@pytest.fixture(scope="module")
def bias(history):
    return draw_bias(*history, feature_days=(FIRST, LAST))


def field_band(field: int) -> str:
    return "small" if field <= 7 else "medium" if field <= 11 else "large"


def third(draw: int | None, field: int) -> int | None:
    if draw is None or draw < 1 or field < 1:
        return None
    return min(3, 1 + 3 * (draw - 1) // field)


def reference(races: pl.DataFrame, runners: pl.DataFrame, results: pl.DataFrame) -> dict[tuple, dict]:
    race_by_id = {r["race_id"]: r for r in races.to_dicts()}
    runs_by_race = defaultdict(list)
    for result in results.to_dicts():
        race = race_by_id.get(result["race_id"])
        if race is None or race["is_abandoned"] or result["finish_status"] == "VOI":
            continue
        runs_by_race[result["race_id"]].append(result)
    runs = []
    for race_id, rows in runs_by_race.items():
        race = race_by_id[race_id]
        group = (race["course_id"], band(race["distance_f"]), field_band(len(rows)))
        for row in rows:
            t = third(row["draw"], len(rows))
            if t is not None:
                runs.append({"day": race["race_date"], "group": group, "third": t, "draw": row["draw"],
                             "won": row["finish_position"] == 1,
                             "placed": row["finish_position"] is not None and row["finish_position"] <= 3})  # fmt: skip
    declared = defaultdict(list)
    for runner in runners.to_dicts():
        race = race_by_id.get(runner["race_id"])
        if race is not None and FIRST <= race["race_date"] <= LAST:
            declared[runner["race_id"]].append(runner)

    def record(rows):
        n, w, p = len(rows), sum(r["won"] for r in rows), sum(r["placed"] for r in rows)
        return n, w, p, (100 * w / n if n else None), (100 * p / n if n else None)

    expected = {}
    for race_id, field_rows in declared.items():
        race = race_by_id[race_id]
        field = sum(not r["is_non_runner"] for r in field_rows)
        group = (race["course_id"], band(race["declared_distance_f"]), field_band(field))
        earlier = [r for r in runs if r["day"] < race["race_date"] and r["group"] == group]
        for runner in field_rows:
            t = third(runner["draw"], field)
            row = {"race_date": race["race_date"], "course_id": group[0], "distance_band": group[1],
                   "field_band": group[2], "draw": runner["draw"], "draw_third": t}  # fmt: skip
            if t is not None:
                tr, tw, tp, twp, tpp = record([r for r in earlier if r["third"] == t])
                gr, _, _, gwp, gpp = record(earlier)
                sr, sw, _, swp, _ = record([r for r in earlier if r["draw"] == runner["draw"]])
                row.update(draw_third_runs=tr, draw_third_wins=tw, draw_third_places=tp, draw_third_win_pct=twp,
                           draw_third_place_pct=tpp, draw_group_runs=gr, draw_group_win_pct=gwp,
                           draw_group_place_pct=gpp, draw_stall_runs=sr, draw_stall_wins=sw, draw_stall_win_pct=swp,
                           draw_bias_win=twp / gwp if twp is not None and gwp else None,
                           draw_bias_place=tpp / gpp if tpp is not None and gpp else None)  # fmt: skip
            expected[(race_id, runner["horse_id"])] = row
    return expected


def test_draw_bias_matches_a_brute_force_reference(history, bias):
    expected = reference(*history)
    assert bias.height == len(expected) > 300 and bias.columns == list(DRAW_BIAS_SCHEMA)
    mismatches = []
    for got in bias.to_dicts():
        want = expected[(got["race_id"], got["horse_id"])]
        for column in DRAW_BIAS_SCHEMA:
            if column in ("race_id", "horse_id"):
                continue
            a, b = got[column], want.get(column)
            if not (a == b or (isinstance(a, float) and b is not None and math.isclose(a, b, rel_tol=1e-12))):
                mismatches.append((got["race_id"], got["horse_id"], column, a, b))
    assert not mismatches, mismatches[:20]
    drawn = bias.filter(pl.col("draw_third").is_not_null())
    assert drawn.height > 200 and set(drawn["draw_third"]) == {1, 2, 3}
    assert (drawn["draw_third_runs"] > 0).mean() > 0.8 and bias["draw_third"].null_count() > 0


def test_results_on_or_after_the_race_date_change_nothing(history):
    races, runners, results = history
    day = FIRST + timedelta(days=1)
    baseline = draw_bias(races, runners, results, feature_days=(day, day))
    later = pl.col("race_date") >= day
    on_day_results = ("race_id", "horse_id", "race_date")
    card = ("race_id", "race_date", "course_id", "declared_distance_f", "is_abandoned")
    variants = [
        (races, scrambled(results, later, on_day_results)),
        (races, results.filter(~later)),
        (scrambled(scrambled(races, pl.col("race_date") > day, ("race_id", "race_date")),
                   pl.col("race_date") == day, card), results),
    ]  # fmt: skip
    for variant_races, variant_results in variants:
        assert_frame_equal(draw_bias(variant_races, runners, variant_results, feature_days=(day, day)), baseline)
    assert baseline["draw_third_runs"].max() > 0


def test_a_range_equals_each_day_computed_alone(history, bias):
    days = pl.date_range(FIRST, LAST, eager=True)
    one_by_one = pl.concat([draw_bias(*history, feature_days=(d, d)) for d in days])
    assert_frame_equal(one_by_one, bias)


def test_low_draws_win_more_at_the_biased_courses(history):
    """The synthetic world favours low draws at every fifth course: their low third's bias index is above 1."""
    from darkhorses_assets.transforms.signal import decile_win_rates, monotone_trend

    races, runners, results = history
    year = draw_bias(races, runners, results, feature_days=(date(2016, 1, 1), date(2016, 12, 30)))
    biased = pl.col("course_id").str.strip_prefix("crs_").cast(pl.Int64) % 5 == 0
    low = year.filter(biased, pl.col("draw_third") == 1, pl.col("draw_third_runs") >= 30)
    high = year.filter(biased, pl.col("draw_third") == 3, pl.col("draw_third_runs") >= 30)
    assert low["draw_bias_win"].median() > 1.3 > 0.8 > high["draw_bias_win"].median()
    won = results.select("race_id", "horse_id", (pl.col("finish_position") == 1).alias("won"))
    assert monotone_trend(decile_win_rates(year, won, "draw_bias_win")) > 0.7


def test_the_simulators_world_gives_some_courses_a_draw_bias():
    """Flat races over 100 simulated days: at courses favouring low draws the low third wins clearly more often
    than the high third; at fair courses about as often."""
    from darkhorses_assets.racing_api.simulator.races import draw_edge
    from darkhorses_assets.racing_api.simulator.world import World

    world = World(7)
    wins = defaultdict(lambda: [0, 0])  # (edge sign, third) -> [wins, runs]
    for back in range(100):
        for race in world.races_on(date(2025, 10, 31) - timedelta(days=back)):
            starters = race.starters
            if race.type != "Flat" or race.abandoned or len(starters) < 6:
                continue
            sign = (edge := draw_edge(world.seed, race.course)) and (1 if edge > 0 else -1)
            for runner in starters:
                t = third(runner.draw, len(race.runners))
                wins[(sign, t)][0] += runner.position == 1
                wins[(sign, t)][1] += 1
    rate = {key: w / n for key, (w, n) in wins.items()}
    assert wins[(1, 1)][1] > 200 and wins[(-1, 3)][1] > 200, dict(wins)
    assert rate[(1, 1)] > 1.4 * rate[(1, 3)] and rate[(-1, 3)] > 1.4 * rate[(-1, 1)], rate
    assert 0.7 < rate[(0, 1)] / rate[(0, 3)] < 1.3, rate


def test_runner_features_carry_the_draw_bias_block(history, bias):
    from darkhorses_assets.transforms.features import (
        DRAW_FEATURE_COLUMNS,
        FEATURE_DECIMALS,
        SPEED_FEATURE_COLUMNS,
        runner_features,
    )

    features = runner_features(*history, feature_days=(FIRST, LAST))
    block_end = features.columns.index(SPEED_FEATURE_COLUMNS[0])  # the speed block comes last
    assert features.columns[block_end - len(DRAW_FEATURE_COLUMNS):block_end] == list(DRAW_FEATURE_COLUMNS)
    block = features.select("race_id", "horse_id", *DRAW_FEATURE_COLUMNS).sort("race_id", "horse_id")
    rounded = bias.select(block.columns).with_columns(pl.selectors.float().round(FEATURE_DECIMALS))
    assert_frame_equal(block, rounded.sort("race_id", "horse_id"))
