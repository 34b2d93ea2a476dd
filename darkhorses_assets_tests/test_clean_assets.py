"""Raw → clean → dimensions through Dagster, the simulator over HTTP and a real Postgres."""

from datetime import date

import psycopg
import pytest
from dagster import AssetCheckSeverity, AssetSpec, materialize

from darkhorses_assets.assets.clean import clean_assets
from darkhorses_assets.assets.dimensions import dimension_assets
from darkhorses_assets.assets.keys import clean_key
from darkhorses_assets.assets.raw import raw_courses, raw_racecards, raw_results
from darkhorses_assets.io import PostgresClient, TableRef
from darkhorses_assets.local.runs import materialize_days
from darkhorses_assets.partitions import race_days
from darkhorses_assets_tests.pipeline import simulated_resources
from darkhorses_assets_tests.raw_json import raw_runner_count

FIRST, LAST = date(2025, 10, 6), date(2025, 10, 8)
DAILY = [raw_racecards, raw_results, *clean_assets]


@pytest.fixture
def pipeline(postgres_url):
    with simulated_resources(postgres_url, today=date(2025, 10, 10)) as resources:
        yield resources, postgres_url


def _count(url, sql):
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchone()


def test_clean_tables_reconcile_with_raw_and_rematerializing_replaces(pipeline):
    resources, url = pipeline
    materialize_days(DAILY, FIRST, LAST, resources=resources, days_per_run=3)
    raw_sources = [AssetSpec(raw.key, partitions_def=race_days, metadata={"partition_expr": "race_date"})
                   for raw in (raw_racecards, raw_results)]
    results = materialize_days([*clean_assets, *raw_sources], FIRST, LAST, resources=resources, days_per_run=3)
    assert all(r.success for r in results)

    raw_card_rows = PostgresClient(url).read_frame(TableRef("raw", "raw_racecards"))
    runners, distinct = _count(url, "SELECT count(*), count(DISTINCT (race_id, horse_id)) FROM clean.runners")
    quarantined = _count(url, "SELECT count(*) FROM clean.quarantine WHERE \"table\" = 'runners'")[0]
    assert runners == distinct > 0
    assert raw_runner_count(raw_card_rows) == runners + quarantined

    races, with_result, with_card = _count(
        url,
        "SELECT count(*), count(*) FILTER (WHERE has_result), count(*) FILTER (WHERE has_racecard) FROM clean.races",
    )
    raw_races = _count(url, "SELECT count(DISTINCT race_id) FROM (SELECT race_id FROM raw.raw_racecards "
                            "UNION SELECT race_id FROM raw.raw_results) r")[0]
    assert races == raw_races and with_result > 0 and with_card > 0

    checks = results[0].get_asset_check_evaluations()
    assert {c.check_name for c in checks} == {
        f"{table}_{kind}" for table in ("races", "runners", "results", "non_runners", "runner_odds")
        for kind in ("hard_rules", "soft_rules", "reconciliation")
    }
    races_reconciled = next(c for c in checks if c.check_name == "races_reconciliation")
    assert set(races_reconciled.metadata["by_table"].value) == {"racecard_races", "result_races", "races"}
    assert all(c.passed for c in checks if c.check_name.endswith(("reconciliation", "hard_rules")))
    assert all(c.metadata["partition_range"].value == "2025-10-06..2025-10-08" for c in checks)

    materializations = [e.event_specific_data.materialization for e in results[0].get_asset_materialization_events()]
    last_day = {m.asset_key: m.metadata for m in materializations if m.partition == "2025-10-08"}
    for name in ("races", "runners", "results", "non_runners", "runner_odds", "quarantine"):
        metadata = last_day[clean_key(name)]
        assert {"dagster/column_schema", "preview", "dagster/row_count"} <= set(metadata)
    runner_columns = [c.name for c in last_day[clean_key("runners")]["dagster/column_schema"].value.columns]
    assert {"race_id", "horse_id", "weight_lbs"} <= set(runner_columns)
    assert last_day[clean_key("runners")]["dagster/row_count"].value == runners  # the range's rows


def test_dimensions_rebuild_from_clean_tables(pipeline):
    resources, url = pipeline
    materialize_days(DAILY, FIRST, LAST, resources=resources, days_per_run=3)
    upstream = [AssetSpec(clean_key("runners")), AssetSpec(clean_key("results"))]
    result = materialize([*dimension_assets, raw_courses, *upstream], resources=resources)
    assert result.success
    horses, distinct = _count(url, "SELECT count(*), count(DISTINCT horse_id) FROM clean.horses")
    runner_horses = _count(url, "SELECT count(DISTINCT horse_id) FROM clean.runners")[0]
    assert horses == distinct >= runner_horses > 0
    sire_ids = _count(url, "SELECT bool_and(horse_id = 'hrs_' || split_part(sire_id, '_', 2)) FROM clean.sires")[0]
    assert sire_ids
    courses, located = _count(url, "SELECT count(*), count(latitude) FROM clean.courses")
    assert courses > 0 and located > 0


def test_raw_that_the_clean_tables_do_not_account_for_fails_the_blocking_reconciliation(pipeline):
    """Through the real asset: one raw racecard row relabelled so that its stored race id is not its JSON's.
    The parsers file its runners under the JSON's id, the raw counts under the row's id: the runners
    reconciliation fails (blocking), naming both races; the hard rules still pass (every row is valid)."""
    resources, url = pipeline
    materialize_days([raw_racecards, raw_results], FIRST, FIRST, resources=resources)
    with psycopg.connect(url) as conn:
        race_id = conn.execute("SELECT min(race_id) FROM raw.raw_racecards").fetchone()[0]
        conn.execute("UPDATE raw.raw_racecards SET race_id = 'rac_relabelled' WHERE race_id = %s", (race_id,))
    raw_sources = [AssetSpec(raw.key, partitions_def=race_days, metadata={"partition_expr": "race_date"})
                   for raw in (raw_racecards, raw_results)]
    [result] = materialize_days([*clean_assets, *raw_sources], FIRST, FIRST, resources=resources,
                                raise_on_error=False)

    assert not result.success
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    runners = checks["runners_reconciliation"]
    assert not runners.passed and runners.severity == AssetCheckSeverity.ERROR
    assert {race["race_id"] for race in runners.metadata["unbalanced_races"].value} == {race_id, "rac_relabelled"}
    assert checks["runners_hard_rules"].passed
