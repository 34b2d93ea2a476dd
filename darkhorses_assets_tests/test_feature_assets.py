"""Features through Dagster: partition mappings give each day only earlier results; stats and signal build."""

from datetime import date

import psycopg
import pytest
from dagster import AssetSpec, materialize

from darkhorses_assets.assets.clean import clean_assets
from darkhorses_assets.assets.features import (
    entity_statistics,
    feature_signal,
    market_moves,
    race_outcomes,
    runner_features,
    speed_figures,
)
from darkhorses_assets.assets.keys import clean_key
from darkhorses_assets.assets.raw import raw_racecards, raw_results
from darkhorses_assets.io import PostgresClient, TableRef
from darkhorses_assets.local.runs import materialize_days
from darkhorses_assets.partitions import race_days
from darkhorses_assets_tests.pipeline import simulated_resources

FIRST, LAST = date(2025, 9, 20), date(2025, 10, 3)
TARGET_FIRST, TARGET_LAST = date(2025, 10, 1), date(2025, 10, 3)
CLEAN_SOURCES = [AssetSpec(clean_key(n), partitions_def=race_days, metadata={"partition_expr": "race_date"})
                 for n in ("races", "runners", "results")]


@pytest.fixture(scope="module")
def clean_history(postgres_admin_url):
    """Two weeks of simulated racing, raw → clean, in one database shared by this module's tests."""
    from darkhorses_assets.local.postgres import drop_database, ensure_database, with_database

    drop_database(postgres_admin_url, "dh_test_features")
    ensure_database(postgres_admin_url, "dh_test_features")
    url = with_database(postgres_admin_url, "dh_test_features")
    with simulated_resources(url, today=date(2025, 10, 10)) as resources:
        results = materialize_days([raw_racecards, raw_results, *clean_assets], FIRST, LAST,
                                   resources=resources, days_per_run=31)
        assert all(r.success for r in results)
        yield url, resources
    drop_database(postgres_admin_url, "dh_test_features")


def _features(url, resources):
    results = materialize_days([runner_features, race_outcomes, *CLEAN_SOURCES], TARGET_FIRST, TARGET_LAST,
                               resources=resources)
    assert all(r.success for r in results)
    checks = results[0].get_asset_check_evaluations()
    assert checks and all(c.passed for c in checks if c.check_name in ("runner_features_hard_rules", "races_exist"))
    return PostgresClient(url).read_frame(TableRef("features", "runner_features")).sort("race_id", "horse_id")


def _materialized_with_passing_checks(url, resources, assets, table: str):
    """``assets`` over the target days, every run succeeding and every check passing; ``features.<table>`` as stored."""
    results = materialize_days(assets, TARGET_FIRST, TARGET_LAST, resources=resources)
    assert all(r.success for r in results)
    checks = [c for r in results for c in r.get_asset_check_evaluations()]
    assert checks and all(c.passed for c in checks), [(c.check_name, c.metadata) for c in checks if not c.passed]
    return PostgresClient(url).read_frame(TableRef("features", table))


def test_features_cover_every_declared_runner_and_ignore_later_results(clean_history):
    url, resources = clean_history
    before = _features(url, resources)
    with psycopg.connect(url) as conn:
        declared = conn.execute("SELECT count(*) FROM clean.runners WHERE race_date BETWEEN %s AND %s",
                                (TARGET_FIRST, TARGET_LAST)).fetchone()[0]
    assert before.height == declared > 0
    assert before["horse_runs"].max() > 0

    first_day = before.filter(before["race_date"] == TARGET_FIRST)
    with psycopg.connect(url) as conn:  # rewrite history on/after the first target day
        conn.execute("UPDATE clean.results SET finish_position = 1 WHERE race_date >= %s", (TARGET_FIRST,))
    after = _features(url, resources)
    changed = after.filter(after["race_date"] == TARGET_FIRST)
    differing = [c for c in first_day.columns if not changed[c].equals(first_day[c])]
    assert not differing, differing


def test_market_moves_cover_every_declared_runner_with_passing_checks(clean_history):
    url, resources = clean_history
    sources = [*CLEAN_SOURCES, AssetSpec(clean_key("runner_odds"), partitions_def=race_days,
                                         metadata={"partition_expr": "race_date"})]
    moves = _materialized_with_passing_checks(url, resources, [market_moves, *sources], "market_moves")
    with psycopg.connect(url) as conn:
        declared = conn.execute("SELECT count(*) FROM clean.runners WHERE race_date BETWEEN %s AND %s",
                                (TARGET_FIRST, TARGET_LAST)).fetchone()[0]
    assert moves.height == declared > 0
    assert set(moves["market_move"].drop_nulls()) == {"steamer", "drifter", "steady"}


def test_speed_figures_cover_every_result_with_passing_checks(clean_history):
    """A figure per result of the target days (races through the range give the standards); two weeks of history
    are too few races for most standards, so most figures are null, never one without a standard of 5 races."""
    url, resources = clean_history
    figures = _materialized_with_passing_checks(url, resources, [speed_figures, *CLEAN_SOURCES], "speed_figures")
    with psycopg.connect(url) as conn:
        timed = conn.execute(
            "SELECT count(*) FROM clean.results r JOIN clean.races c USING (race_id) WHERE c.race_date BETWEEN %s "
            "AND %s AND c.winning_time_s > 0 AND NOT coalesce(c.is_abandoned, false) "
            "AND r.finish_status IS DISTINCT FROM 'VOI'", (TARGET_FIRST, TARGET_LAST)).fetchone()[0]
    assert figures.height == timed > 0
    assert (figures["standard_races"] > 0).any()
    with_figure = figures.filter(figures["speed_figure"].is_not_null())
    assert (with_figure["standard_races"] >= 5).all()


def test_statistics_and_signal_report_build(clean_history):
    url, resources = clean_history
    _features(url, resources)
    sources = [AssetSpec(clean_key("races")), AssetSpec(clean_key("results")),
               AssetSpec(runner_features.key), AssetSpec(race_outcomes.key), AssetSpec(market_moves.key)]
    result = materialize([entity_statistics, feature_signal, *sources], resources=resources)
    assert result.success
    with psycopg.connect(url) as conn:
        jockeys, runs = conn.execute("SELECT count(*), sum(runs) FROM features.jockey_stats").fetchone()
        resulted = conn.execute("SELECT count(*) FROM clean.results").fetchone()[0]
    assert jockeys > 0 and 0 < runs <= resulted
    report = next(
        event.materialization.metadata["signal"].value
        for event in result.get_asset_materialization_events()
        if event.asset_key == feature_signal.key
    )
    assert "horse_win_pct_365d" in report and "price_move_pct" in report and "speed_best" in report


def test_a_declared_runner_whose_race_is_missing_fails_races_exist(clean_history):
    """Runs last in this module: it deletes one race of the target days from the shared clean history."""
    url, resources = clean_history
    with psycopg.connect(url) as conn:
        race_id = conn.execute("SELECT race_id FROM clean.runners WHERE race_date = %s LIMIT 1",
                               (TARGET_LAST,)).fetchone()[0]
        conn.execute("DELETE FROM clean.races WHERE race_id = %s", (race_id,))
    result = materialize([runner_features, *CLEAN_SOURCES], partition_key=TARGET_LAST.isoformat(),
                         resources=resources, raise_on_error=False)
    check = next(c for c in result.get_asset_check_evaluations() if c.check_name == "races_exist")
    assert not check.passed
    assert check.metadata["orphan_rows"].value > 0
