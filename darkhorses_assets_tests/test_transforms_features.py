"""runner_features / race_outcomes: no leakage, agreement with a brute-force reference, first-time runners,
signal on synthetic data, each-way terms."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from darkhorses_assets.transforms.features import (
    DRAW_FEATURE_COLUMNS,
    FEATURE_DECIMALS,
    SPEED_FEATURE_COLUMNS,
    feature_columns,
    race_outcomes,
    runner_features,
)
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


IDS = ("jockey_id", "trainer_id", "owner_id", "sire_id", "dam_id", "damsire_id")


def history_rows(races: pl.DataFrame, results: pl.DataFrame, runners: pl.DataFrame | None = None) -> list[dict]:
    """One dict per run (result in a race that took place), with its race's official (merged) context; an id
    the result lacks is the declared one (any day's declaration in ``runners``)."""
    race_by_id = {r["race_id"]: r for r in races.to_dicts()}
    declared = {} if runners is None else {(r["race_id"], r["horse_id"]): r for r in runners.to_dicts()}
    rows = []
    for result in results.to_dicts():
        race = race_by_id.get(result["race_id"])
        if race is None or race["is_abandoned"] or result["finish_status"] == "VOI":
            continue
        card = declared.get((result["race_id"], result["horse_id"]), {})
        ids = {c: result[c] if result.get(c) is not None else card.get(c) for c in IDS}
        context = {k: race[k] for k in RACE_CONTEXT}
        rows.append({**result, **ids, **context, "distance_band": band(race["distance_f"])})
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


DECLARED = {"race_class": "declared_race_class", "distance_f": "declared_distance_f", "going": "declared_going",
            "going_group": "declared_going_group", "surface": "declared_surface"}
"""What a race's own features read of it: the racecard's values (clean races' ``declared_*``)."""
RUNNER_CONTEXT = ("number", "draw", "weight_lbs", "age", "official_rating", "rpr", "ts", "jockey_id", "trainer_id",
                  "owner_id", "sire_id", "dam_id", "damsire_id")  # fmt: skip


def declared_targets(races: pl.DataFrame, runners: pl.DataFrame, first: date, last: date) -> list[dict]:
    """The declared runners of the races on [first, last], each with its race as the racecard gave it and its
    field (the race's declared runners not marked non-runner): built from the clean inputs, not the output."""
    race_by_id = {r["race_id"]: r for r in races.to_dicts() if first <= r["race_date"] <= last}
    targets = []
    for runner in runners.to_dicts():
        race = race_by_id.get(runner["race_id"])
        if race is None:
            continue
        context = {c: race[DECLARED.get(c, c)] for c in ("race_date", "course_id", "region", "type", "race_class",
                                                          "distance_f", "going", "going_group", "surface",
                                                          "is_handicap")}  # fmt: skip
        targets.append({"race_id": runner["race_id"], "horse_id": runner["horse_id"],
                        "non_runner": bool(runner.get("is_non_runner")),
                        **{c: runner[c] for c in RUNNER_CONTEXT}, **context})  # fmt: skip
    fields = index_by([t for t in targets if not t["non_runner"]], "race_id")
    for target in targets:
        target["field"] = fields.get((target["race_id"],), [])
    return targets


def reference_features(target: dict, indexes: dict) -> dict:
    """Every feature column of one declared runner, computed the slow, obvious way."""
    day = target["race_date"]
    field = target["field"]
    horse_runs = before(indexes["horse"].get((target["horse_id"],), []), day)
    expected: dict = {c: target[c] for c in ("race_id", "horse_id", "race_date", *RUNNER_CONTEXT, "course_id",
                                               "region", "type", "race_class", "distance_f", "going", "going_group",
                                               "surface", "is_handicap")}  # fmt: skip
    field_size = len(field)
    expected["distance_band"] = band(target["distance_f"])
    expected["field_size"] = field_size

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
    tsrs = [r["tsr"] for r in horse_runs if r["tsr"] is not None]
    positions = [
        str(r["finish_position"]) if r["finish_position"] is not None else r["finish_status"]
        for r in horse_runs[-6:]
    ]
    wins = [r for r in horse_runs if won(r)]
    near = [abs(r["distance_f"] - target["distance_f"]) <= 0.5 for r in wins]
    same_course = [r["course_id"] == target["course_id"] for r in wins]

    def change(now, then):
        return None if now is None or then is None else now - then

    def rank(column: str):
        return None if target["non_runner"] else dense_rank_desc(target[column], [r[column] for r in field])

    expected.update(
        {
            "horse_last_run_date": last["race_date"] if last else None,
            "horse_days_since_last_run": (day - last["race_date"]).days if last else None,
            "horse_last6": "-".join(positions) if positions else None,
            "horse_mean_btn_last5": sum(recent_btn, 0.0) / len(recent_btn) if recent_btn else None,
            "horse_last_rpr": last["rpr"] if last else None,
            "horse_best_rpr": max(rprs) if rprs else None,
            "horse_last_tsr": last["tsr"] if last else None,
            "horse_best_tsr": max(tsrs) if tsrs else None,
            "horse_last_or": last["official_rating"] if last else None,
            "or_change": change(target["official_rating"], last and last["official_rating"]),
            "class_change": change(target["race_class"], last and last["race_class"]),
            "distance_change_f": change(target["distance_f"], last and last["distance_f"]),
            "course_winner": any(same_course),
            "distance_winner": any(near),
            "cd_winner": any(a and b for a, b in zip(same_course, near, strict=True)),
            "rank_or": rank("official_rating"),
            "rank_weight": rank("weight_lbs"),
            "rank_rpr": rank("rpr"),
            "draw_pct": None if target["draw"] is None else target["draw"] / field_size,
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


def rounded_from(got: object, want: object) -> bool:
    """A float feature is the reference rounded to FEATURE_DECIMALS places: within half a unit of the last place."""
    return (isinstance(got, float) and isinstance(want, float)
            and abs(got - want) <= 0.5 * 10 ** -FEATURE_DECIMALS + 1e-9 and got == round(got, FEATURE_DECIMALS))


def test_features_match_a_brute_force_reference(history, features):
    races, runners, results = history
    indexes = build_indexes(history_rows(races, results, runners))
    targets = declared_targets(races, runners, TARGET_FIRST, TARGET_LAST)
    assert len(targets) == features.height
    got_by_key = {(r["race_id"], r["horse_id"]): r for r in features.to_dicts()}
    sample = random.Random(5).sample(targets, 300)
    mismatches, compared = [], set()
    for target in sample:
        got_row = got_by_key[(target["race_id"], target["horse_id"])]
        for name, want in reference_features(target, indexes).items():
            compared.add(name)
            got = got_row[name]
            if got != want and not rounded_from(got, want):
                mismatches.append((target["race_id"], target["horse_id"], name, got, want))
    assert not mismatches, mismatches[:20]
    # The draw-bias and speed blocks have their own brute-force references (test_transforms_draw_bias,
    # test_transforms_speed), which also check that these columns of runner_features are theirs.
    own_references = {*DRAW_FEATURE_COLUMNS, *SPEED_FEATURE_COLUMNS}
    assert compared | own_references == set(feature_columns()), set(feature_columns()) ^ compared
    sampled = [got_by_key[(t["race_id"], t["horse_id"])] for t in sample]
    assert sum(r["horse_runs"] > 0 for r in sampled) > 200, "the sample should mostly have form"
    assert any(r["horse_runs"] == 0 for r in sampled), "the sample should hold first-time runners"
    declared_differs = [t for t in sample if t["going"] != _merged(races, t["race_id"], "going")
                        or t["distance_f"] != _merged(races, t["race_id"], "distance_f")]  # fmt: skip
    assert declared_differs, "the sample should hold races whose result changed the card's going or distance"


def _merged(races: pl.DataFrame, race_id: str, column: str):
    return races.filter(pl.col("race_id") == race_id)[column][0]


# ---------------------------------------------------------------------------------------------------------
# Point in time
# ---------------------------------------------------------------------------------------------------------


def scrambled(frame: pl.DataFrame, where: pl.Expr, keep: tuple[str, ...]) -> pl.DataFrame:
    """``frame`` with every column but ``keep`` replaced, on the rows ``where`` holds, by a value of its type
    that cannot be right (numbers 7 / 7.5, text "X", flags flipped, dates a year later, lists emptied)."""

    def junk(name: str, dtype: pl.DataType) -> pl.Expr:
        if dtype.is_integer():
            return pl.lit(7, dtype)
        if dtype.is_float():
            return pl.lit(7.5, dtype)
        if dtype == pl.Boolean:
            return ~pl.col(name)
        if dtype == pl.Date:
            return pl.col(name) + timedelta(days=365)
        if dtype == pl.String:
            return pl.lit("X")
        return pl.lit(None, dtype)

    return frame.with_columns(
        pl.when(where).then(junk(name, dtype)).otherwise(pl.col(name)).alias(name)
        for name, dtype in frame.schema.items()
        if name not in keep
    )


RESULT_KEYS = ("race_id", "horse_id", "race_date")
CARD_RACE_COLUMNS = ("race_id", "race_date", "off_dt", "course_id", "region", "type", "is_handicap", "is_abandoned",
                     "has_racecard", "declared_runners", *DECLARED.values())  # fmt: skip
"""What the racecard told of a race: a race's features may read these (and only these) on its own day."""


def test_results_on_or_after_the_race_date_do_not_change_its_features(history):
    """Every result column of every run on or after D rewritten (or the runs deleted), and every column of the
    races after D and every result-given column of D's races (class, distance, going, surface as officially
    returned, field size, has_result, winning time, tote …) rewritten: D's features do not change."""
    races, runners, results = history
    day = date(2016, 6, 10)
    baseline = runner_features(races, runners, results, feature_days=(day, day))
    result_day = pl.col("race_date")
    assert results["race_date"].is_not_null().all()
    rewritten_results = scrambled(results, result_day >= day, RESULT_KEYS)
    deleted_results = results.filter(result_day < day)
    later_races = scrambled(races, pl.col("race_date") > day, ("race_id", "race_date"))
    rewritten_races = scrambled(later_races, pl.col("race_date") == day, CARD_RACE_COLUMNS)
    changed = rewritten_results.filter(result_day >= day)
    assert all(not changed[c].equals(results.filter(result_day >= day)[c]) for c in changed.columns
               if c not in RESULT_KEYS), "every result column is rewritten"  # fmt: skip
    for variant_races, variant_results in (
        (races, rewritten_results),
        (races, deleted_results),
        (rewritten_races, results),
        (rewritten_races, rewritten_results),
    ):
        assert_frame_equal(
            runner_features(variant_races, runners, variant_results, feature_days=(day, day)), baseline
        )
    assert baseline.height > 0 and (baseline["field_size"] > 1).any()


def test_the_days_own_result_facts_on_its_race_rows_do_not_change_its_features(history):
    """clean.races merges the result into the race (`field_size` = runners that ran, `has_result`, and the
    official class / distance / going / surface over the card's): the features of day D read the card's."""
    races, runners, results = history
    day = date(2016, 6, 10)
    baseline = runner_features(races, runners, results, feature_days=(day, day))
    on_day = pl.col("race_date") == day
    official = {"race_class": 1, "distance_f": 30.0, "going": "Heavy", "going_group": "heavy", "surface": "AW"}
    rewritten = races.with_columns(
        pl.when(on_day).then(pl.lit(1)).otherwise(pl.col("field_size")).cast(races.schema["field_size"])
        .alias("field_size"),
        pl.when(on_day).then(pl.lit(False)).otherwise(pl.col("has_result")).alias("has_result"),
        *(pl.when(on_day).then(pl.lit(value)).otherwise(pl.col(c)).cast(races.schema[c]).alias(c)
          for c, value in official.items()),
    )  # fmt: skip
    assert_frame_equal(runner_features(rewritten, runners, results, feature_days=(day, day)), baseline)
    assert (baseline["field_size"] > 1).any()


def test_declared_ids_fill_history_results_from_any_day(history):
    """A past result without its people / pedigree ids takes the declared ones — from the declarations of the
    day it ran, however long before the target range (given `runners` covering the history)."""
    races, runners, results = history
    first, last = date(2016, 6, 1), date(2016, 6, 3)
    baseline = runner_features(races, runners, results, feature_days=(first, last))
    old = pl.col("race_date") < date(2016, 5, 1)
    stripped = results.with_columns(pl.when(old).then(None).otherwise(pl.col(c)).alias(c) for c in IDS)
    assert_frame_equal(runner_features(races, runners, stripped, feature_days=(first, last)), baseline)
    only_range = runners.filter(pl.col("race_date").is_between(first, last))
    without_history = runner_features(races, only_range, stripped, feature_days=(first, last))
    assert not without_history["jockey_runs_365d"].equals(baseline["jockey_runs_365d"]), "the fallback matters"


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


# ---------------------------------------------------------------------------------------------------------
# The card's race context in clean races
# ---------------------------------------------------------------------------------------------------------


def test_merged_races_keep_the_cards_class_distance_going_and_surface():
    from darkhorses_assets.transforms.races import RACECARD_RACES_SCHEMA, RESULT_RACES_SCHEMA, merge_races

    race = {"race_id": "rac_1", "race_date": date(2025, 5, 1), "region": "GB"}
    card = {**race, "race_class": 4, "distance_f": 8.0, "going": "Good", "going_group": "good", "surface": "Turf",
            "has_racecard": True}  # fmt: skip
    result = {**race, "race_class": 3, "distance_f": 8.1, "going": "Soft", "going_group": "soft", "surface": "AW",
              "has_result": True}  # fmt: skip
    merged = merge_races(pl.DataFrame([card], schema=RACECARD_RACES_SCHEMA),
                         pl.DataFrame([result], schema=RESULT_RACES_SCHEMA)).row(0, named=True)  # fmt: skip
    assert {c: merged[c] for c in DECLARED} == {c: result[c] for c in DECLARED}, "merged: the official value"
    assert {c: merged[d] for c, d in DECLARED.items()} == {c: card[c] for c in DECLARED}, "declared_*: the card's"
    only_result = merge_races(None, pl.DataFrame([result], schema=RESULT_RACES_SCHEMA)).row(0, named=True)
    assert all(only_result[d] is None for d in DECLARED.values()), "no card, nothing declared"


def test_every_float_feature_is_rounded_to_the_documented_places(features):
    floats = features.select(pl.selectors.float())
    assert floats.width >= 40
    assert_frame_equal(floats, floats.with_columns(pl.all().round(FEATURE_DECIMALS)))
