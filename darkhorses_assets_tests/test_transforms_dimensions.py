"""Clean runners + results -> entity dimensions: exact schemas, latest attributes, first/last seen."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from darkhorses_assets.transforms.dimensions import DIMENSION_SCHEMAS, entity_dimension
from darkhorses_assets.transforms.racecards import RUNNERS_SCHEMA
from darkhorses_assets.transforms.results import RESULTS_SCHEMA


def _runner(race_date: date, **values) -> dict:
    return {"race_id": f"rac_{race_date:%Y%m%d}", "horse_id": "hrs_1", "race_date": race_date,
            "jockey_id": "jky_1", "trainer_id": "trn_1", "owner_id": "own_1", "sire_id": "sir_7",
            "dam_id": "dam_8", "damsire_id": "dsi_9", **values}


RUNNERS = pl.DataFrame([
    _runner(date(2025, 3, 1), horse_name="Old Name", jockey_name="J Smith", trainer_location="Lambourn"),
    _runner(date(2025, 5, 1), horse_name="New Name", jockey_id="jky_2", jockey="NON-RUNNER",
            is_non_runner=True),
], schema=RUNNERS_SCHEMA)
RESULTS = pl.DataFrame([_runner(date(2025, 4, 1), horse_name=None, sire_name="Frankel")], schema=RESULTS_SCHEMA)


@pytest.mark.parametrize("entity", sorted(DIMENSION_SCHEMAS))
@pytest.mark.parametrize("empty", [False, True])
def test_output_has_exactly_the_schema_constant(entity, empty):
    runners, results = (RUNNERS.clear(), RESULTS.clear()) if empty else (RUNNERS, RESULTS)
    frame = entity_dimension(runners, results, entity)
    assert frame.schema == pl.Schema(DIMENSION_SCHEMAS[entity])
    assert frame.is_empty() == empty


def test_latest_non_null_attributes_and_seen_range():
    horses = entity_dimension(RUNNERS, RESULTS, "horse")
    assert horses.select("horse_id", "horse_name", "first_seen", "last_seen").rows() == [
        ("hrs_1", "New Name", date(2025, 3, 1), date(2025, 5, 1))
    ]
    sires = entity_dimension(RUNNERS, RESULTS, "sire")
    assert sires.select("sire_id", "sire_name", "horse_id").rows() == [("sir_7", "Frankel", "hrs_7")]


def test_a_non_runner_is_no_jockey_appearance():
    jockeys = entity_dimension(RUNNERS, RESULTS, "jockey")
    assert jockeys.select("jockey_id", "jockey_name", "appearances").rows() == [("jky_1", "J Smith", 2)]
    assert entity_dimension(RUNNERS, RESULTS, "horse")["last_seen"].to_list() == [date(2025, 5, 1)]
