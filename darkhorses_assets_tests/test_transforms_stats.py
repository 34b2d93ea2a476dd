"""Entity statistics against a brute-force reference, and the counting machinery's edge cases."""

from __future__ import annotations

import math
import random
from datetime import date, timedelta

import polars as pl
import pytest

from darkhorses_assets.transforms import stats
from darkhorses_assets_tests.synthetic import synthetic_history
from darkhorses_assets_tests.test_transforms_features import band, history_rows, index_by, placed, won

AS_OF = date(2016, 5, 31)


@pytest.fixture(scope="module")
def history():
    return synthetic_history(2, 23)


@pytest.fixture(scope="module")
def runs_to_date(history):
    races, _, results = history
    return [r for r in history_rows(races, results) if r["race_date"] <= AS_OF]


def percent(part: int, runs: int) -> float | None:
    return 100 * part / runs if runs else None


def actual_over_expected(rows: list[dict]) -> float | None:
    with_sp = [r for r in rows if r["sp_decimal"] is not None and r["sp_decimal"] > 0]
    expected = sum(1 / r["sp_decimal"] for r in with_sp)
    return sum(map(won, with_sp)) / expected if expected else None


def reference_entity(rows: list[dict]) -> dict:
    last_run = max(r["race_date"] for r in rows)
    win_dates = [r["race_date"] for r in rows if won(r)]
    expected = {
        "runs": len(rows),
        "wins": sum(map(won, rows)),
        "places": sum(map(placed, rows)),
        "seconds": sum(r["finish_position"] == 2 for r in rows),
        "thirds": sum(r["finish_position"] == 3 for r in rows),
        "win_pct": percent(sum(map(won, rows)), len(rows)),
        "place_pct": percent(sum(map(placed, rows)), len(rows)),
        "ae": actual_over_expected(rows),
        "last_run_date": last_run,
        "last_win_date": max(win_dates) if win_dates else None,
        "days_since_last_run": (AS_OF - last_run).days,
        "days_since_last_win": (AS_OF - max(win_dates)).days if win_dates else None,
    }
    return expected | reference_windows(rows)


def reference_windows(rows: list[dict]) -> dict:
    expected = {}
    for days in (14, 30, 365):
        recent = [r for r in rows if r["race_date"] > AS_OF - timedelta(days=days)]
        wins = sum(map(won, recent))
        expected |= {
            f"runs_{days}d": len(recent),
            f"wins_{days}d": wins,
            f"win_pct_{days}d": percent(wins, len(recent)),
        }
    return expected


def reference_pedigree(rows: list[dict]) -> dict:
    expected = {
        "runners": len({r["horse_id"] for r in rows}),
        "runs": len(rows),
        "wins": sum(map(won, rows)),
        "seconds": sum(r["finish_position"] == 2 for r in rows),
        "thirds": sum(r["finish_position"] == 3 for r in rows),
        "win_pct": percent(sum(map(won, rows)), len(rows)),
        "ae": actual_over_expected(rows),
    }
    by_class = {c: [r for r in rows if r["race_class"] == c] for c in range(1, 8)}
    by_band = {b: [r for r in rows if r["distance_band"] == b] for b in stats.DISTANCE_BANDS}
    for label, groups in (("class", by_class), ("band", by_band)):
        for category, group in groups.items():
            expected[f"runs_{label}_{category}"] = len(group)
            expected[f"win_pct_{label}_{category}"] = percent(sum(map(won, group)), len(group))
    expected["runs_surface_aw"] = sum(r["surface"] == "AW" for r in rows)
    expected["best_class"] = best_by_ae(by_class)
    expected["best_distance_band"] = best_by_ae(by_band)
    return expected | reference_windows(rows)


def best_by_ae(groups: dict) -> object:
    qualified = [(actual_over_expected(g), i, c) for i, (c, g) in enumerate(groups.items()) if len(g) >= 10]
    qualified = [q for q in qualified if q[0] is not None]
    return max(qualified, key=lambda q: (q[0], -q[1]))[2] if qualified else None


def assert_matches(actual: dict, expected: dict) -> None:
    for name, want in expected.items():
        got = actual[name]
        if name.startswith("ae") and want is not None and got is not None:
            assert math.isclose(got, want, rel_tol=1e-9), (name, got, want)
        else:
            assert got == want, (name, got, want)


@pytest.mark.parametrize(
    ("function", "entity"),
    [
        (stats.jockey_stats, "jockey_id"),
        (stats.trainer_stats, "trainer_id"),
        (stats.owner_stats, "owner_id"),
        (stats.horse_stats, "horse_id"),
    ],
)
def test_entity_stats_match_a_brute_force_reference(history, runs_to_date, function, entity):
    races, _, results = history
    table = function(races, results, AS_OF)
    by_entity = index_by(runs_to_date, entity)
    assert table.height == len(by_entity)
    assert (table["as_of"] == AS_OF).all()
    for entity_id in random.Random(1).sample(sorted(k[0] for k in by_entity), 25):
        rows = by_entity[(entity_id,)]
        actual = table.filter(pl.col(entity) == entity_id).row(0, named=True)
        expected = reference_entity(rows)
        if entity == "owner_id":
            expected["horses"] = len({r["horse_id"] for r in rows})
        assert_matches(actual, expected)


@pytest.mark.parametrize(
    ("function", "ancestor"),
    [(stats.sire_stats, "sire_id"), (stats.dam_stats, "dam_id"), (stats.damsire_stats, "damsire_id")],
)
def test_pedigree_stats_match_a_brute_force_reference(history, runs_to_date, function, ancestor):
    races, _, results = history
    table = function(races, results, AS_OF)
    by_ancestor = index_by(runs_to_date, ancestor)
    assert table.height == len(by_ancestor)
    for ancestor_id in random.Random(2).sample(sorted(k[0] for k in by_ancestor), 15):
        actual = table.filter(pl.col(ancestor) == ancestor_id).row(0, named=True)
        assert_matches(actual, reference_pedigree(by_ancestor[(ancestor_id,)]))


def test_stats_as_of_include_that_day_and_ignore_later_ones(history):
    races, _, results = history
    later = results.join(races.select("race_id", pl.col("race_date").alias("_day")), on="race_id").filter(
        pl.col("_day") > AS_OF
    )
    truncated = results.join(later.select("race_id", "horse_id"), on=["race_id", "horse_id"], how="anti")
    assert stats.jockey_stats(races, results, AS_OF).equals(stats.jockey_stats(races, truncated, AS_OF))
    ran_on_the_day = stats.jockey_stats(races, results, AS_OF).filter(pl.col("last_run_date") == AS_OF)
    assert ran_on_the_day.height > 0 and (ran_on_the_day["days_since_last_run"] == 0).all()


RUNS_DAY = date(2024, 1, 31)


def _runs_of_a_and_b() -> pl.LazyFrame:
    """"a" ran on RUNS_DAY and 1, 14 and 15 days before it; "b" 3 days before."""
    return pl.LazyFrame(
        {"who": ["a", "a", "a", "a", "b"], "race_date": [RUNS_DAY - timedelta(days=d) for d in (0, 1, 14, 15, 3)],
         "runs": [1, 1, 1, 1, 1]}
    )  # fmt: skip


def test_windowed_sums_count_the_days_before_the_reference_date():
    day = RUNS_DAY
    events = _runs_of_a_and_b()
    queries = pl.LazyFrame({"who": ["a", "b", "c", None], "ref_date": [day] * 4})
    sums = stats.windowed_sums(events, queries, keys=["who"], values=["runs"], windows={"": None, "_14d": 14})
    got = {row["who"]: (row["runs"], row["runs_14d"]) for row in sums.collect().iter_rows(named=True)}
    assert got == {"a": (3, 2), "b": (1, 1), "c": (0, 0)}, (
        "same day excluded, [D-14, D-1] counted, null key absent"
    )


def test_windowed_sums_per_row_follow_the_queries_rows_in_their_order():
    day = RUNS_DAY
    events = _runs_of_a_and_b()
    queries = pl.LazyFrame({  # repeated points, a null key, a null date, later and earlier dates, unsorted
        "who": ["b", "a", None, "c", "a", "a", "b"],
        "ref_date": [day, day, day, day, None, day - timedelta(days=14), day],
    })
    sums = stats.windowed_sums(events, queries, keys=["who"], values=["runs"], windows={"": None, "_14d": 14},
                               per_row=True).collect()
    assert sums.columns == ["runs", "runs_14d"]
    assert list(sums.iter_rows()) == [(1, 1), (3, 2), (None, None), (0, 0), (None, None), (1, 1), (1, 1)]


def test_distance_bands():
    frame = pl.DataFrame({"distance_f": [5.0, 6.99, 7.0, 9.5, 9.51, 13.0, 13.5, None]})
    got = frame.select(stats.distance_band(pl.col("distance_f")).alias("band"))["band"].to_list()
    assert got == ["sprint", "sprint", "mile", "mile", "middle", "middle", "staying", None]
    assert [band(d) for d in frame["distance_f"]] == got
