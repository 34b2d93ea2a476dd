"""runner_features / race_outcomes: no leakage, agreement with a brute-force reference, first-time runners,
signal on synthetic data, each-way terms."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from darkhorses_assets.transforms.features import race_outcomes, runner_features
from darkhorses_assets.transforms.signal import decile_win_rates, monotone_trend
from darkhorses_assets_tests.synthetic import synthetic_history

TARGET_FIRST = date(2016, 6, 1)
TARGET_LAST = date(2016, 6, 20)


@pytest.fixture(scope="module")
def history():
    return synthetic_history(2, 11)


@pytest.fixture(scope="module")
def features(history):
    races, runners, results = history
    return runner_features(races, runners, results, feature_days=(TARGET_FIRST, TARGET_LAST))


# ---------------------------------------------------------------------------------------------------------
# Brute-force reference: plain Python over one dict per run
# ---------------------------------------------------------------------------------------------------------


def band(distance_f: float | None) -> str | None:
    if distance_f is None:
        return None
    if distance_f < 7:
        return "sprint"
    if distance_f <= 9.5:
        return "mile"
    return "middle" if distance_f <= 13 else "staying"


RACE_CONTEXT = (
    "race_date",
    "off_dt",
    "course_id",
    "race_class",
    "distance_f",
    "going_group",
    "surface",
    "is_handicap",
)


def history_rows(races: pl.DataFrame, results: pl.DataFrame) -> list[dict]:
    """One dict per run (result in a race that took place), with its race's context."""
    race_by_id = {r["race_id"]: r for r in races.to_dicts()}
    rows = []
    for result in results.to_dicts():
        race = race_by_id.get(result["race_id"])
        if race is None or race["is_abandoned"] or result["finish_status"] == "VOI":
            continue
        context = {k: race[k] for k in RACE_CONTEXT}
        rows.append({**result, **context, "distance_band": band(race["distance_f"])})
    return sorted(rows, key=lambda r: (r["race_date"], r["off_dt"]))


def index_by(rows: list[dict], *columns: str) -> dict[tuple, list[dict]]:
    index: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        index[tuple(row[c] for c in columns)].append(row)
    return index


def before(rows: list[dict], day: date, days: int | None = None) -> list[dict]:
    start = date.min if days is None else day - timedelta(days=days)
    return [r for r in rows if start <= r["race_date"] < day]


def won(row: dict) -> bool:
    return row["finish_position"] == 1


def placed(row: dict) -> bool:
    return row["finish_position"] is not None and row["finish_position"] <= 3


def percent(part: int, runs: int) -> float | None:
    return 100 * part / runs if runs else None


def record(rows: list[dict]) -> dict:
    runs, wins, places = len(rows), sum(map(won, rows)), sum(map(placed, rows))
    with_sp = [r for r in rows if r["sp_decimal"] is not None and r["sp_decimal"] > 0]
    expected = sum(1 / r["sp_decimal"] for r in with_sp)
    return {
        "runs": runs,
        "wins": wins,
        "places": places,
        "win_pct": percent(wins, runs),
        "place_pct": percent(places, runs),
        "ae": sum(map(won, with_sp)) / expected if expected else None,
    }


def dense_rank_desc(value, field: list) -> int | None:
    if value is None:
        return None
    return sorted({v for v in field if v is not None}, reverse=True).index(value) + 1


def reference_features(target: dict, indexes: dict, field: list[dict]) -> dict:
    """The features of one declared runner, computed the slow, obvious way."""
    day = target["race_date"]
    horse_runs = before(indexes["horse"].get((target["horse_id"],), []), day)
    expected: dict = {}

    def put(prefix: str, rows: list[dict], suffix: str = "", *, places: bool = False, ae: bool = False):
        stats = record(rows)
        expected.update({f"{prefix}_runs{suffix}": stats["runs"], f"{prefix}_wins{suffix}": stats["wins"],
                         f"{prefix}_win_pct{suffix}": stats["win_pct"]})  # fmt: skip
        if places:
            expected.update(
                {
                    f"{prefix}_places{suffix}": stats["places"],
                    f"{prefix}_place_pct{suffix}": stats["place_pct"],
                }
            )
        if ae:
            expected[f"{prefix}_ae{suffix}"] = stats["ae"]

    def entity_rows(index: str, *values) -> list[dict]:
        return indexes[index].get(values, [])

    put("horse", horse_runs, places=True)
    put("horse", before(horse_runs, day, 365), "_365d", places=True)
    put("horse_going", [r for r in horse_runs if r["going_group"] == target["going_group"]])
    put("horse_surface", [r for r in horse_runs if r["surface"] == target["surface"]])
    for person in ("jockey", "trainer"):
        rows = entity_rows(person, target[f"{person}_id"])
        for days in (14, 30, 365):
            put(person, before(rows, day, days), f"_{days}d", places=True, ae=days == 365)
    put(
        "trainer_jockey",
        before(entity_rows("trainer_jockey", target["trainer_id"], target["jockey_id"]), day, 365),
        "_365d",
    )
    put(
        "trainer_course",
        before(entity_rows("trainer_course", target["trainer_id"], target["course_id"]), day, 1826),
        "_5y",
    )
    put("owner", before(entity_rows("owner", target["owner_id"]), day, 365), "_365d", places=True)
    for ancestor in ("sire", "dam", "damsire"):
        progeny = before(entity_rows(ancestor, target[f"{ancestor}_id"]), day)
        put(ancestor, progeny)
        put(f"{ancestor}_surface", [r for r in progeny if r["surface"] == target["surface"]])
        put(f"{ancestor}_band", [r for r in progeny if r["distance_band"] == band(target["distance_f"])])

    last = horse_runs[-1] if horse_runs else None
    recent_btn = [r["ovr_btn_lengths"] for r in reversed(horse_runs[-5:]) if r["ovr_btn_lengths"] is not None]
    rprs = [r["rpr"] for r in horse_runs if r["rpr"] is not None]
    positions = [
        str(r["finish_position"]) if r["finish_position"] is not None else r["finish_status"]
        for r in horse_runs[-6:]
    ]
    wins = [r for r in horse_runs if won(r)]
    near = [abs(r["distance_f"] - target["distance_f"]) <= 0.5 for r in wins]
    same_course = [r["course_id"] == target["course_id"] for r in wins]
    expected.update(
        {
            "horse_days_since_last_run": (day - last["race_date"]).days if last else None,
            "horse_last6": "-".join(positions) if positions else None,
            "horse_mean_btn_last5": sum(recent_btn, 0.0) / len(recent_btn) if recent_btn else None,
            "horse_last_rpr": last["rpr"] if last else None,
            "horse_best_rpr": max(rprs) if rprs else None,
            "or_change": None if last is None or None in (target["official_rating"], last["official_rating"])
            else target["official_rating"] - last["official_rating"],
            "class_change": None if last is None or None in (target["race_class"], last["race_class"])
            else target["race_class"] - last["race_class"],
            "course_winner": any(same_course),
            "distance_winner": any(near),
            "cd_winner": any(a and b for a, b in zip(same_course, near, strict=True)),
            "rank_or": dense_rank_desc(target["official_rating"], [r["official_rating"] for r in field]),
            "rank_weight": dense_rank_desc(target["weight_lbs"], [r["weight_lbs"] for r in field]),
            "rank_rpr": dense_rank_desc(target["rpr"], [r["rpr"] for r in field]),
            "draw_pct": None if target["draw"] is None else target["draw"] / target["field_size"],
        }
    )  # fmt: skip
    return expected


def build_indexes(rows: list[dict]) -> dict:
    return {
        "horse": index_by(rows, "horse_id"),
        "jockey": index_by(rows, "jockey_id"),
        "trainer": index_by(rows, "trainer_id"),
        "owner": index_by(rows, "owner_id"),
        "trainer_jockey": index_by(rows, "trainer_id", "jockey_id"),
        "trainer_course": index_by(rows, "trainer_id", "course_id"),
        "sire": index_by(rows, "sire_id"),
        "dam": index_by(rows, "dam_id"),
        "damsire": index_by(rows, "damsire_id"),
    }


def test_features_match_a_brute_force_reference(history, features):
    races, runners, results = history
    indexes = build_indexes(history_rows(races, results))
    fields = index_by(features.to_dicts(), "race_id")
    sample = random.Random(5).sample(features.to_dicts(), 300)
    mismatches = []
    for target in sample:
        for name, want in reference_features(target, indexes, fields[(target["race_id"],)]).items():
            got = target[name]
            close = (
                "_ae" in name
                and want is not None
                and got is not None
                and math.isclose(got, want, rel_tol=1e-9)
            )
            if got != want and not close:
                mismatches.append((target["race_id"], target["horse_id"], name, got, want))
    assert not mismatches, mismatches[:20]
    assert sum(t["horse_runs"] > 0 for t in sample) > 200, "the sample should mostly have form"
    assert any(t["horse_runs"] == 0 for t in sample), "the sample should hold first-time runners"


# ---------------------------------------------------------------------------------------------------------
# Point in time
# ---------------------------------------------------------------------------------------------------------


def test_results_on_or_after_the_race_date_do_not_change_its_features(history):
    races, runners, results = history
    day = date(2016, 6, 10)
    baseline = runner_features(races, runners, results, feature_days=(day, day))
    dated = results.join(races.select("race_id", pl.col("race_date").alias("_day")), on="race_id")
    later = pl.col("_day") >= day
    rewritten = dated.with_columns(
        pl.when(later).then(pl.lit(1)).otherwise(pl.col("finish_position")).alias("finish_position"),
        pl.when(later).then(pl.lit(1.5)).otherwise(pl.col("sp_decimal")).alias("sp_decimal"),
        pl.when(later).then(pl.lit(200)).otherwise(pl.col("rpr")).alias("rpr"),
    ).drop("_day")
    deleted = dated.filter(~later).drop("_day")
    for history_variant in (rewritten, deleted):
        assert_frame_equal(
            runner_features(races, runners, history_variant, feature_days=(day, day)), baseline
        )
    assert baseline.height > 0


def test_the_days_own_result_facts_on_its_race_rows_do_not_change_its_features(history):
    """clean.races merges the result into the race (`field_size` = runners that ran, `has_result`):
    the features of day D must not read those result-derived fields of D's own races."""
    races, runners, results = history
    day = date(2016, 6, 10)
    baseline = runner_features(races, runners, results, feature_days=(day, day))
    on_day = pl.col("race_date") == day
    rewritten = races.with_columns(
        pl.when(on_day).then(pl.lit(1)).otherwise(pl.col("field_size")).cast(races.schema["field_size"])
        .alias("field_size"),
        pl.when(on_day).then(pl.lit(False)).otherwise(pl.col("has_result")).alias("has_result"),
    )
    assert_frame_equal(runner_features(rewritten, runners, results, feature_days=(day, day)), baseline)
    assert (baseline["field_size"] > 1).any()


def test_a_range_equals_each_day_computed_alone(history, features):
    races, runners, results = history
    days = [TARGET_FIRST, TARGET_FIRST + timedelta(days=7), TARGET_LAST]
    one_by_one = pl.concat([runner_features(races, runners, results, feature_days=(d, d)) for d in days])
    from_range = features.filter(pl.col("race_date").is_in(days))
    assert_frame_equal(from_range, one_by_one)


def test_feature_days_accept_a_series(history, features):
    races, runners, results = history
    days = pl.Series([TARGET_LAST, TARGET_FIRST])
    picked = runner_features(races, runners, results, feature_days=days)
    assert_frame_equal(picked, features.filter(pl.col("race_date").is_in(days.implode())))


# ---------------------------------------------------------------------------------------------------------
# First-time runners and missing ids
# ---------------------------------------------------------------------------------------------------------


def test_first_time_runners_get_zero_counts_and_null_rates(history):
    races, runners, results = history
    day = date(2016, 3, 1)
    race_id = races.filter(pl.col("race_date") == day)["race_id"][0]
    debutant = (
        runners.filter(pl.col("race_id") == race_id)
        .head(1)
        .with_columns(
            pl.lit("hrs_debut").alias("horse_id"),
            pl.lit(None, pl.String).alias("jockey_id"),
            pl.lit(99).cast(pl.Int32).alias("number"),
        )  # fmt: skip
    )
    row = (
        runner_features(races, pl.concat([runners, debutant]), results, feature_days=(day, day))
        .filter(pl.col("horse_id") == "hrs_debut")
        .row(0, named=True)
    )
    assert row["horse_runs"] == 0 and row["horse_wins"] == 0 and row["horse_runs_365d"] == 0
    assert row["horse_win_pct"] is None and row["horse_place_pct_365d"] is None
    assert row["horse_days_since_last_run"] is None and row["horse_last6"] is None
    assert row["horse_mean_btn_last5"] is None and row["horse_best_rpr"] is None and row["or_change"] is None
    assert (row["course_winner"], row["distance_winner"], row["cd_winner"]) == (False, False, False)
    assert row["jockey_runs_14d"] is None and row["jockey_win_pct_365d"] is None, "no jockey declared"
    assert row["trainer_runs_365d"] > 0, "the trainer has a record"


def test_no_history_at_all(history):
    races, runners, results = history
    day = date(2015, 1, 1)
    features = runner_features(races, runners, results.clear(), feature_days=(day, day))
    assert features.height == runners.join(races.filter(pl.col("race_date") == day), on="race_id").height
    assert (features["horse_runs"] == 0).all() and (features["jockey_runs_365d"] == 0).all()
    assert features["horse_win_pct"].is_null().all() and features["jockey_ae_365d"].is_null().all()


# ---------------------------------------------------------------------------------------------------------
# Signal
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("column", ["horse_win_pct_365d", "jockey_win_pct_14d"])
def test_form_predicts_winners(history, column):
    races, runners, results = history
    year = (date(2016, 1, 1), date(2016, 12, 30))
    rates = decile_win_rates(
        runner_features(races, runners, results, feature_days=year),
        race_outcomes(races, results, year),
        column,
    )
    assert monotone_trend(rates) > 0.8, rates
    assert rates["win_rate"][-1] > 1.5 * rates["win_rate"][0], rates


# ---------------------------------------------------------------------------------------------------------
# Outcomes
# ---------------------------------------------------------------------------------------------------------


def outcome_frames(fields: dict[str, tuple[int, bool]]) -> tuple[pl.DataFrame, pl.DataFrame]:
    day = date(2024, 5, 1)
    races = pl.DataFrame(
        [
            {"race_id": race_id, "race_date": day, "off_dt": datetime(2024, 5, 1, 14, tzinfo=UTC),
             "course_id": "crs_1", "type": "Flat", "race_class": 4, "distance_f": 8.0, "going_group": "good",
             "surface": "Turf", "is_handicap": handicap, "is_abandoned": False}
            for race_id, (_, handicap) in fields.items()
        ]
    )  # fmt: skip
    results = pl.DataFrame(
        [
            {"race_id": race_id, "horse_id": f"{race_id}_{p}", "finish_position": p, "finish_status": "FIN",
             "ovr_btn_lengths": 0.0, "sp_decimal": 5.0, "official_rating": None, "rpr": None, "tsr": None}
            for race_id, (ran, _) in fields.items()
            for p in range(1, ran + 1)
        ]
    )  # fmt: skip
    return races, results


def test_each_way_places_follow_uk_terms():
    fields = {"r4": (4, True), "r6": (6, False), "r12": (12, True), "r16h": (16, True), "r16": (16, False)}
    races, results = outcome_frames(fields)
    outcomes = race_outcomes(races, results, (date(2024, 5, 1), date(2024, 5, 1)))
    places = outcomes.group_by("race_id").agg(pl.col("each_way_placed").sum()).sort("race_id")
    assert dict(places.iter_rows()) == {"r4": 0, "r6": 2, "r12": 3, "r16h": 4, "r16": 3}
    assert outcomes.filter(pl.col("won"))["finish_position"].to_list() == [1] * 5
    assert outcomes.columns == ["race_id", "horse_id", "race_date", "finish_position", "finish_status", "won",
                                "placed", "each_way_placed", "sp_decimal"]  # fmt: skip


def test_outcomes_skip_abandoned_races_and_keep_non_finishers(history):
    races, _, results = history
    days = (date(2015, 1, 1), date(2016, 12, 30))
    outcomes = race_outcomes(races, results, days)
    abandoned = races.filter(pl.col("is_abandoned"))["race_id"]
    assert abandoned.len() > 0 and not outcomes["race_id"].is_in(abandoned.implode()).any()
    fallers = outcomes.filter(pl.col("finish_status") != "FIN")
    assert fallers.height > 0 and not fallers["won"].any() and not fallers["placed"].any()
