"""The clean-table models accept what the transforms make of the real samples, and match their schemas."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from darkhorses_assets.schemas import TABLES
from darkhorses_assets.transforms.courses import COURSES_SCHEMA, parse_courses
from darkhorses_assets.transforms.horses import HORSE_PROFILES_SCHEMA, parse_horse_profiles
from darkhorses_assets.transforms.racecards import RUNNER_ODDS_SCHEMA, RUNNERS_SCHEMA, parse_racecards
from darkhorses_assets.transforms.races import (
    RACECARD_RACES_SCHEMA,
    RACES_SCHEMA,
    RESULT_RACES_SCHEMA,
    merge_races,
)
from darkhorses_assets.transforms.results import NON_RUNNERS_SCHEMA, RESULTS_SCHEMA, parse_results
from darkhorses_assets.validation import validate

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
    return {
        "courses": parse_courses(api_courses(cards.races, result_races), load_coordinates()),
        "horses": parse_horse_profiles(profiles_from_racecard(), include_raw=True),
        "racecard_races": cards.races,
        "runners": cards.runners,
        "runner_odds": cards.runner_odds,
        "result_races": result_races,
        "results": pl.concat([frames.results for frames in results]),
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


@pytest.mark.parametrize("table", sorted(TABLES))
def test_samples_pass_every_rule(sample_frames, table):
    frame = sample_frames[table]
    validation = validate(frame, table)
    assert frame.height > 0
    assert validation.quarantined.is_empty(), validation.quarantined["reasons"].to_list()
    assert validation.valid.height == frame.height
    failing = {rule.name: rule.examples for rule in validation.rules if rule.failing_rows}
    assert failing == {}


@pytest.mark.parametrize("table", sorted(TABLES))
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
    columns = spec.hard.to_schema().columns
    assert spec.key
    assert all(not columns[name].nullable for name in spec.key)


def test_hard_models_follow_the_transform_schemas():
    expected = {
        "races": RACES_SCHEMA, "racecard_races": RACECARD_RACES_SCHEMA, "result_races": RESULT_RACES_SCHEMA,
        "runners": RUNNERS_SCHEMA, "runner_odds": RUNNER_ODDS_SCHEMA, "results": RESULTS_SCHEMA,
        "non_runners": NON_RUNNERS_SCHEMA, "courses": COURSES_SCHEMA, "horses": HORSE_PROFILES_SCHEMA,
    }
    for table, schema in expected.items():
        columns = TABLES[table].hard.to_schema().columns
        assert {name: column.dtype.type for name, column in columns.items()} == dict(schema), table
