"""Dimension assets through Dagster and a real Postgres: validated rows written, checks reported per table."""

from datetime import date

import polars as pl
from dagster import AssetKey, AssetSpec, materialize

from darkhorses_assets.assets.clean import clean_assets
from darkhorses_assets.assets.dimensions import DIMENSIONS, courses, entity_dimensions
from darkhorses_assets.assets.keys import clean_key
from darkhorses_assets.assets.raw import raw_courses, raw_racecards, raw_results
from darkhorses_assets.io import PostgresClient, PostgresPolarsIOManager, TableRef
from darkhorses_assets.local.runs import materialize_days
from darkhorses_assets.transforms.racecards import RUNNERS_SCHEMA
from darkhorses_assets.transforms.results import RESULTS_SCHEMA
from darkhorses_assets_tests.pipeline import simulated_resources

DAY = date(2025, 10, 7)
UPSTREAM = [AssetSpec(clean_key("runners")), AssetSpec(clean_key("results"))]
CHECK_KINDS = ("hard_rules", "soft_rules")


def _checks(result) -> dict[str, object]:
    return {check.check_name: check for check in result.get_asset_check_evaluations()}


def _materialization(result, table: str):
    [event] = [m for m in result.get_asset_materialization_events()
               if m.asset_key == AssetKey(["clean", table])]
    return event.materialization


def test_simulated_day_yields_passing_checks_for_every_dimension(postgres_url):
    with simulated_resources(postgres_url, today=date(2025, 10, 10)) as resources:
        materialize_days([raw_racecards, raw_results, *clean_assets], DAY, DAY, resources=resources)
        result = materialize([entity_dimensions, courses, raw_courses, *UPSTREAM], resources=resources)
    assert result.success
    checks = _checks(result)
    for table in [*DIMENSIONS.values(), "courses"]:
        for kind in CHECK_KINDS:
            check = checks[f"{table}_{kind}"]
            assert check.passed, (check.check_name, check.metadata)
            assert check.metadata["partition_range"].value == "all"
            assert check.metadata["valid_rows"].value > 0
        assert f"{table}_reconciliation" not in checks
        assert _materialization(result, table).metadata["quarantined_rows"].value == 0


def _runner(horse_id: str, race_date: date, **values) -> dict:
    names = {"horse_name": f"Horse {horse_id}", "jockey_id": "jky_1", "jockey_name": "A Jockey",
             "trainer_id": "trn_1", "trainer_name": "A Trainer", "owner_id": "own_1", "owner_name": "An Owner",
             "sire_id": "sir_1", "sire_name": "A Sire", "dam_id": "dam_2", "dam_name": "A Dam",
             "damsire_id": "dsi_3", "damsire_name": "A Damsire", "dob": date(2020, 4, 1), "sex_code": "G"}
    return {"race_id": f"rac_{race_date:%Y%m%d}", "horse_id": horse_id, "race_date": race_date,
            **names, **values}


def test_a_bad_dimension_row_is_not_written_and_is_counted(postgres_url):
    """Clean runners written by hand (not through the clean layer): one horse has an unknown sex code."""
    runners = pl.DataFrame(
        [_runner("hrs_1", date(2025, 10, 6)), _runner("hrs_2", date(2025, 10, 7), sex_code="X")],
        schema=RUNNERS_SCHEMA,
    )
    results = pl.DataFrame([_runner("hrs_1", date(2025, 10, 6))], schema=RESULTS_SCHEMA)
    client = PostgresClient(postgres_url)
    client.write_frame(TableRef("clean", "runners"), runners)
    client.write_frame(TableRef("clean", "results"), results)

    result = materialize([entity_dimensions, *UPSTREAM],
                         resources={"io_manager": PostgresPolarsIOManager(database_url=postgres_url)})
    assert result.success
    horses = client.read_frame(TableRef("clean", "horses"))
    assert horses["horse_id"].to_list() == ["hrs_1"]
    assert _materialization(result, "horses").metadata["quarantined_rows"].value == 1

    checks = _checks(result)
    hard = checks["horses_hard_rules"]
    assert hard.passed
    assert hard.metadata["quarantined_rows"].value == 1
    assert hard.metadata["failing_rows_by_rule"].value["sex_code:known_sex_code"] == 1
    assert not checks["horses_soft_rules"].passed
    assert all(checks[f"{table}_{kind}"].passed for table in DIMENSIONS.values() if table != "horses"
               for kind in CHECK_KINDS)
    assert client.read_frame(TableRef("clean", "sires"))["horse_id"].to_list() == ["hrs_1"]

