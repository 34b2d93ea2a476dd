"""The clean-table models accept what the transforms make of the real samples, and match their schemas."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from darkhorses_assets.schemas import TABLES, as_schema
from darkhorses_assets.schemas.validation import validate
from darkhorses_assets.transforms.courses import COURSES_SCHEMA, parse_courses
from darkhorses_assets.transforms.dimensions import DIMENSION_SCHEMAS, DIMENSIONS, entity_dimension
from darkhorses_assets.transforms.horses import HORSE_PROFILES_SCHEMA, parse_horse_profiles
from darkhorses_assets.transforms.racecards import RUNNER_ODDS_SCHEMA, RUNNERS_SCHEMA, parse_racecards
from darkhorses_assets.transforms.races import (
    RACECARD_RACES_SCHEMA,
    RACES_SCHEMA,
    RESULT_RACES_SCHEMA,
    merge_races,
)
from darkhorses_assets.transforms.results import NON_RUNNERS_SCHEMA, RESULTS_SCHEMA, parse_results

SAMPLES = Path(__file__).parent / "fixtures" / "samples"


def load(name: str, envelope: str) -> list[dict]:
    return json.loads((SAMPLES / name).read_text())[envelope]


@pytest.fixture(scope="module")
def sample_frames() -> dict[str, pl.DataFrame]:
    """Every clean frame the transforms make of the samples (with ``raw_json`` where they offer it)."""
    cards = parse_racecards(load("racecards_pro_2025-10-13_gb_first2.json", "racecards"), include_raw=True)
    results = [
        parse_results(load(name, "results"), include_raw=True)
        for name in ("results_2025-10-07.json", "results_2025-10-13_gb_first2.json")
    ]
    result_races = pl.concat([frames.races for frames in results])
    result_runners = pl.concat([frames.results for frames in results])
    return {
        "courses": parse_courses(api_courses(cards.races, result_races), load_coordinates()),
        "horse_profiles": parse_horse_profiles(profiles_from_racecard(), include_raw=True),
        **{DIMENSIONS[entity]: entity_dimension(cards.runners, result_runners, entity) for entity in DIMENSIONS},
        "racecard_races": cards.races,
        "runners": cards.runners,
        "runner_odds": cards.runner_odds,
        "result_races": result_races,
        "results": result_runners,
        "non_runners": pl.concat([frames.non_runners for frames in results]),
        "races": merge_races(cards.races, result_races),
    }


def load_coordinates() -> list[dict]:
    return json.loads((SAMPLES / "courses_gb_ire_with_coordinates.json").read_text())


def api_courses(*race_frames: pl.DataFrame) -> list[dict]:
    """`/v1/courses` items (`id`, `course`, `region_code`) for the courses the sample races ran at."""
    races = pl.concat([frame.select("course_id", "course", "region") for frame in race_frames])
    return [
        {"id": course_id, "course": course, "region_code": region.lower()}
        for course_id, course, region in races.unique("course_id").sort("course_id").iter_rows()
    ]


def profiles_from_racecard() -> list[dict]:
    """Horse profiles (`/v1/horses/{id}/pro` shape) from the racecard runners, which carry the same fields."""
    runners = [runner for race in load("racecards_pro_2025-10-13_gb_first2.json", "racecards")
               for runner in race["runners"]]
    return [{**runner, "id": runner["horse_id"], "name": runner["horse"]} for runner in runners]


CLEAN_TABLES = sorted(name for name, spec in TABLES.items() if not spec.derived)
"""Tables parsed from the API (the derived feature and statistics tables: test_derived_checks.py)."""


@pytest.mark.parametrize("table", CLEAN_TABLES)
def test_samples_pass_every_rule(sample_frames, table):
    frame = sample_frames[table]
    validation = validate(frame, table)
    assert frame.height > 0
    assert validation.quarantined.is_empty(), validation.quarantined["reasons"].to_list()
    assert validation.valid.height == frame.height
    failing = {rule.name: rule.examples for rule in validation.rules if rule.failing_rows}
    assert failing == {}


@pytest.mark.parametrize("table", CLEAN_TABLES)
def test_soft_columns_have_the_hard_dtypes(table):
    """Soft models re-declare the columns they range-check; their dtypes must be the hard model's."""
    spec = TABLES[table]
    if spec.soft is None:
        pytest.skip("no soft rules")
    hard = spec.hard.to_schema().columns
    for name, column in spec.soft.to_schema().columns.items():
        assert name in hard, f"soft rule on {name}, which {table} does not have"
        assert column.dtype == hard[name].dtype, name


@pytest.mark.parametrize("table", sorted(TABLES))
def test_keys_are_required_columns(table):
    spec = TABLES[table]
    columns = as_schema(spec.hard).columns
    assert spec.key
    assert all(not columns[name].nullable for name in spec.key)


def test_hard_models_follow_the_transform_schemas():
    expected = {
        "races": RACES_SCHEMA, "racecard_races": RACECARD_RACES_SCHEMA, "result_races": RESULT_RACES_SCHEMA,
        "runners": RUNNERS_SCHEMA, "runner_odds": RUNNER_ODDS_SCHEMA, "results": RESULTS_SCHEMA,
        "non_runners": NON_RUNNERS_SCHEMA, "courses": COURSES_SCHEMA, "horse_profiles": HORSE_PROFILES_SCHEMA,
        **{DIMENSIONS[entity]: schema for entity, schema in DIMENSION_SCHEMAS.items()},
    }
    assert set(expected) == set(CLEAN_TABLES)
    for table, schema in expected.items():
        columns = TABLES[table].hard.to_schema().columns
        assert {name: column.dtype.type for name, column in columns.items()} == dict(schema), table


def dimension(entity: str, *rows: dict) -> pl.DataFrame:
    """Rows of ``entity``'s dimension table; every rule holds for a row unless it overrides the value.

    ``ID`` in a row stands for the entity's id column."""
    def complete(n: int, row: dict) -> dict:
        values = {"horse_id": f"hrs_{n}", f"{entity}_id": f"id_{n}", f"{entity}_name": f"Name {n}",
                  "first_seen": date(2025, 1, 1), "last_seen": date(2025, 6, 1), "appearances": 2,
                  "dob": date(2021, 3, 1), "sex_code": "G"}
        overrides = {(f"{entity}_id" if name == "ID" else name): value for name, value in row.items()}
        return {**values, **overrides}

    schema = DIMENSION_SCHEMAS[entity]
    return pl.DataFrame(
        [{name: value for name, value in complete(n, row).items() if name in schema} for n, row in enumerate(rows)],
        schema=schema,
    )


def reasons(validation) -> list[set[str]]:
    return [set(text.split("; ")) for text in validation.quarantined["reasons"]]


@pytest.mark.parametrize("entity", sorted(DIMENSIONS))
@pytest.mark.parametrize(("bad", "reason"), [
    ({"ID": None}, "{entity}_id:not_null"),
    ({"first_seen": date(2025, 7, 1)}, "seen_in_order"),
    ({"last_seen": None}, "last_seen:not_null"),
    ({"appearances": 0}, "appearances:greater_than_or_equal_to(1) (got 0)"),
])
def test_a_dimension_row_breaking_a_hard_rule_is_quarantined(entity, bad, reason):
    validation = validate(dimension(entity, {}, bad), DIMENSIONS[entity])
    assert validation.valid[f"{entity}_id"].to_list() == ["id_0"]
    assert reasons(validation) == [{reason.format(entity=entity)}]
    failing = {rule.name: rule.failing_rows for rule in validation.hard_rules if rule.failing_rows}
    assert list(failing.values()) == [1]


@pytest.mark.parametrize("entity", sorted(DIMENSIONS))
def test_conflicting_rows_of_one_dimension_id_are_all_quarantined(entity):
    frame = dimension(entity, {}, {"ID": "id_9", "appearances": 1}, {"ID": "id_9", "appearances": 4})
    validation = validate(frame, DIMENSIONS[entity])
    assert validation.valid[f"{entity}_id"].to_list() == ["id_0"]
    assert validation.quarantined["row_key"].to_list() == [f"{entity}_id=id_9"] * 2
    assert reasons(validation) == [{"duplicate_key"}] * 2


def test_a_horse_of_unknown_sex_is_quarantined():
    validation = validate(dimension("horse", {}, {"sex_code": "Q"}, {"sex_code": None}), "horses")
    assert validation.valid["horse_id"].to_list() == ["id_0", "id_2"]
    assert reasons(validation) == [{"sex_code:known_sex_code (got Q)"}]


def test_implausible_horses_stay_clean_and_are_counted():
    frame = dimension("horse", {}, {"horse_name": None}, {"dob": date(1975, 5, 1)},
                      {"dob": date(2025, 2, 1)}, {"dob": None})
    validation = validate(frame, "horses")
    assert validation.quarantined.is_empty()
    assert validation.valid.height == 5
    assert {rule.name: rule.failing_rows for rule in validation.soft_rules} == {
        "horse_name:present": 1,
        "dob:greater_than_or_equal_to(1980-01-01)": 1,
        "born_before_first_seen": 1,
    }


@pytest.mark.parametrize("entity", ["sire", "dam", "damsire"])
def test_an_ancestor_without_a_horse_id_or_name_stays_clean_and_is_counted(entity):
    frame = dimension(entity, {}, {"horse_id": None}, {"horse_id": "sir_1"}, {f"{entity}_name": None})
    validation = validate(frame, DIMENSIONS[entity])
    assert validation.quarantined.is_empty() and validation.valid.height == 4
    assert {rule.name: rule.failing_rows for rule in validation.soft_rules} == {
        "horse_id:matches_hrs": 2, f"{entity}_name:present": 1,
    }


@pytest.mark.parametrize("entity", ["jockey", "trainer", "owner"])
def test_a_nameless_person_stays_clean_and_is_counted(entity):
    validation = validate(dimension(entity, {}, {f"{entity}_name": None}), DIMENSIONS[entity])
    assert validation.valid.height == 2
    assert {rule.name: rule.failing_rows for rule in validation.soft_rules} == {f"{entity}_name:present": 1}


def set_first(frame: pl.DataFrame, column: str, value, where: str | None = None) -> pl.DataFrame:
    """``frame`` with ``column`` set to ``value`` on its first row (its first row where ``where`` is not null)."""
    index = 0 if where is None else frame[where].is_not_null().arg_true()[0]
    return frame.with_columns(
        pl.when(pl.int_range(pl.len()) == index).then(pl.lit(value)).otherwise(pl.col(column)).alias(column)
    )


@pytest.mark.parametrize(("table", "column", "value", "amount", "reason"), [
    ("racecard_races", "prize_currency", "USD", None, "prize_currency:known_prize_currency (got USD)"),
    ("racecard_races", "prize_currency", None, None, "prize_has_currency"),
    ("result_races", "tote_win_currency", "USD", None, "tote_win_currency:known_tote_currency (got USD)"),
    ("result_races", "tote_pl_currency", None, None, "tote_has_currency"),
    ("result_races", "tote_trifecta_currency", None, "tote_trifecta", "tote_has_currency"),
    ("races", "tote_ex_currency", "XYZ", "tote_ex", "tote_ex_currency:known_tote_currency (got XYZ)"),
    ("races", "prize_currency", None, "prize", "prize_has_currency"),
    ("results", "prize_won_currency", None, "prize_won", "prize_won_has_currency"),
    ("results", "prize_won_currency", "usd", "prize_won", "prize_won_currency:known_prize_won_currency (got usd)"),
])  # fmt: skip
def test_money_without_a_known_currency_is_quarantined(sample_frames, table, column, value, amount, reason):
    frame = set_first(sample_frames[table], column, value, where=amount)
    validation = validate(frame, table)
    assert validation.valid.height == frame.height - 1
    assert reasons(validation) == [{reason}]


PLACE_PAYS = "tote_pl_amounts:one_to_five_positive_place_pays"


@pytest.mark.parametrize(("table", "column", "value", "rule"), [
    ("result_races", "winning_time_vs_standard_s", 121.0, "winning_time_vs_standard_s:in_range(-30, 120)"),
    ("result_races", "winning_time_vs_standard_s", -31.0, "winning_time_vs_standard_s:in_range(-30, 120)"),
    ("result_races", "tote_pl_amounts", [0.0, 1.2], PLACE_PAYS),
    ("result_races", "tote_pl_amounts", [1.1, 1.2, 1.3, 1.4, 1.5, 1.6], PLACE_PAYS),
    ("result_races", "tote_win", 0.0, "tote_win:greater_than(0)"),
    ("racecard_races", "prize", 0.0, "prize:greater_than(0)"),
    ("results", "prize_won", 0.0, "prize_won:greater_than(0)"),
    ("runners", "last_run_other_code", "X", "last_run_other_code:known_last_run_code"),
    ("runners", "days_since_last_run", 0, ("days_since_last_run:in_range(1, 10000)", "last_run_is_the_nearer")),
    ("runners", "days_since_last_run", 99, "last_run_is_the_nearer"),
])  # fmt: skip
def test_implausible_new_values_stay_clean_and_are_counted(sample_frames, table, column, value, rule):
    frame = sample_frames[table]
    if isinstance(value, list):
        frame = frame.with_columns(pl.Series(column, [value] + frame[column].to_list()[1:]))
    else:
        frame = set_first(frame, column, value)
    validation = validate(frame, table)
    assert validation.quarantined.is_empty()
    failing = {r.name: r.failing_rows for r in validation.soft_rules if r.failing_rows}
    assert failing == dict.fromkeys([rule] if isinstance(rule, str) else rule, 1)
