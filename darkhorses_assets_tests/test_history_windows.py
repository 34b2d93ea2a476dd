"""Never a request for data that cannot exist (issue 15): the raw assets' history windows, through Dagster, the
simulator over HTTP (requests counted by its own log) and a real Postgres.

Pro racecards begin on 2023-01-23 (DARKHORSES_RACECARDS_HISTORY_FROM; the simulator serves them from 2015), so
an earlier `raw_racecards` partition materializes empty without a request, saying why in `skipped_days`. A user
whose plan covers 12 months of results sets DARKHORSES_RESULTS_HISTORY_FROM and pays nothing for earlier days;
without it a refused old date fails once, naming the plan limit. A skipped day keeps whatever is stored for it.
"""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from darkhorses_assets.assets.raw import _skipped_ranges, build_raw_assets, raw_racecards, raw_results
from darkhorses_assets.io import PostgresClient, PostgresPolarsIOManager, TableRef
from darkhorses_assets.io.warehouse import WarehouseResource
from darkhorses_assets.partitions import today_in_uk
from darkhorses_assets.racing_api.client import RacingApiResource
from darkhorses_assets.racing_api.recording import write_recording
from darkhorses_assets.racing_api.simulator import SimulatorConfig, SimulatorServer
from darkhorses_assets.settings import RACECARDS_HISTORY_FROM_ENV, RESULTS_HISTORY_FROM_ENV

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SIM_TODAY = date(2025, 10, 10)
OLD_CARD_DAY = date(2022, 6, 4)
RESULT_DAY = date(2025, 10, 7)
CARDS, RESULTS = TableRef("raw", "raw_racecards"), TableRef("raw", "raw_results")
FAST_RETRY = dg.RetryPolicy(max_retries=1, delay=0)
FAST_RAW = {assets_def.key.path[-1]: assets_def for assets_def in build_raw_assets(FAST_RETRY)}
"""Built with a step retry that would re-run a retryable failure at once: its absence proves a fail-fast."""


@pytest.fixture(autouse=True)
def default_windows(monkeypatch):
    """Each test starts from the defaults, whatever the shell exported."""
    monkeypatch.delenv(RACECARDS_HISTORY_FROM_ENV, raising=False)
    monkeypatch.delenv(RESULTS_HISTORY_FROM_ENV, raising=False)


def _simulator(**config) -> SimulatorServer:
    return SimulatorServer(SimulatorConfig(**{"today": SIM_TODAY, "rate_limit_per_s": 0, **config}), port=0)


def _run(asset, sim: SimulatorServer, url: str, day: date):
    resources = {
        "io_manager": PostgresPolarsIOManager(database_url=url),
        "warehouse": WarehouseResource(database_url=url),
        "racing_api": RacingApiResource(base_url=sim.url, username=sim.config.username,
                                        password=sim.config.password, requests_per_second=1000,
                                        max_attempts=2, retry_initial_wait_s=0.01, retry_max_wait_s=0.05),
    }
    return dg.materialize([asset], partition_key=day.isoformat(), resources=resources, raise_on_error=False)


def _metadata(result, asset) -> dict:
    return result.asset_materializations_for_node(asset.op.name)[0].metadata


def _stored(url: str, table: TableRef, day: date) -> pl.DataFrame:
    frame = PostgresClient(url).read_frame(table, ["race_id", "race_date", "fetched_at", "payload"])
    return frame.filter(pl.col("race_date") == day).sort("race_id")


def _retried(result) -> bool:
    return any(event.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY for event in result.all_events)


def test_racecards_before_2023_01_23_materialize_empty_without_a_request(postgres_url):
    with _simulator() as sim:  # the simulator has cards for the day: only the rule keeps us from asking
        assert sim.app.world.races_on(OLD_CARD_DAY)
        result = _run(raw_racecards, sim, postgres_url, OLD_CARD_DAY)
        assert sim.stats()["total"] == 0
    assert result.success
    metadata = _metadata(result, raw_racecards)
    assert metadata["api_requests"].value == 0 and metadata["races"].value == 0
    [skipped] = metadata["skipped_days"].value
    assert skipped["first"] == skipped["last"] == OLD_CARD_DAY.isoformat()
    assert "before 2023-01-23: the API's pro racecards begin then" in skipped["reason"]
    assert RACECARDS_HISTORY_FROM_ENV in skipped["reason"]
    assert metadata["blank_days"].value == []
    check = result.get_asset_check_evaluations()[0]
    assert check.check_name == "races_every_day" and check.passed  # not a blank race day: not asked
    assert _stored(postgres_url, CARDS, OLD_CARD_DAY).is_empty()


def test_the_racecards_window_can_be_moved_back_for_the_simulator_and_a_skip_keeps_what_is_stored(
        postgres_url, monkeypatch):
    monkeypatch.setenv(RACECARDS_HISTORY_FROM_ENV, "2015-01-01")
    with _simulator() as sim:
        fetched = _run(raw_racecards, sim, postgres_url, OLD_CARD_DAY)
        assert sim.stats()["total"] == 1
    assert fetched.success and _metadata(fetched, raw_racecards)["skipped_days"].value == []
    stored = _stored(postgres_url, CARDS, OLD_CARD_DAY)
    assert stored.height > 10

    monkeypatch.delenv(RACECARDS_HISTORY_FROM_ENV)
    with _simulator(racecard_history_from=date(2023, 1, 23)) as sim:  # as the real API: nothing before
        skipped = _run(raw_racecards, sim, postgres_url, OLD_CARD_DAY)
        assert sim.stats()["total"] == 0
    assert skipped.success  # not "fewer races": the day was not asked, so it cannot be worse
    metadata = _metadata(skipped, raw_racecards)
    assert metadata["races_kept_on_skipped_days"].value == stored.height == metadata["races"].value
    assert _stored(postgres_url, CARDS, OLD_CARD_DAY).equals(stored)  # same rows, same fetched_at


def test_results_before_the_results_history_setting_cost_no_request(postgres_url, monkeypatch):
    monkeypatch.setenv(RESULTS_HISTORY_FROM_ENV, (RESULT_DAY + timedelta(days=1)).isoformat())
    with _simulator() as sim:
        before = _run(raw_results, sim, postgres_url, RESULT_DAY)
        assert sim.stats()["total"] == 0
        after = _run(raw_results, sim, postgres_url, RESULT_DAY + timedelta(days=1))
        assert sim.stats()["total"] >= 1
    assert before.success and after.success
    [skipped] = _metadata(before, raw_results)["skipped_days"].value
    assert skipped["reason"] == f"before {RESULTS_HISTORY_FROM_ENV}={RESULT_DAY + timedelta(days=1)}"
    assert _metadata(before, raw_results)["api_requests"].value == 0
    assert _metadata(after, raw_results)["races"].value > 0


@pytest.mark.parametrize("status", [401, 422])
def test_a_results_date_outside_the_plan_fails_once_naming_the_plan_limit(postgres_url, tmp_path, status):
    """The real API refuses results older than the Standard plan's 12 months; replayed from a recorded answer."""
    day = date(2024, 3, 2)
    params = {"start_date": day.isoformat(), "end_date": day.isoformat(), "region": ["gb", "ire"],
              "limit": "50", "skip": "0"}
    detail = "Not authenticated" if status == 401 else [{"type": "value_error", "loc": ["query", "start_date"],
                                                         "msg": "Date outside of your plan's results window"}]
    write_recording(tmp_path, "/v1/results", params, status, {"detail": detail})
    started = time.monotonic()
    with _simulator(replay_dir=tmp_path) as sim:
        failed = _run(FAST_RAW["raw_results"], sim, postgres_url, day)
        assert sim.stats()["by_status"] == {str(status): 1}  # one request, not the client's retries
    assert not failed.success and not _retried(failed)
    assert time.monotonic() - started < 15
    message = failed.get_step_failure_events()[0].step_failure_data.error.message
    assert f"({status})" in message  # the API's answer, as for any 401 / 422
    assert f"{day} is older than the 12 months of results the Standard plan covers" in message
    assert f"set {RESULTS_HISTORY_FROM_ENV}=" in message and "not retried within the run" in message


def test_a_refused_recent_results_date_does_not_blame_the_plan(postgres_url, tmp_path):
    day = today_in_uk() - timedelta(days=3)
    params = {"start_date": day.isoformat(), "end_date": day.isoformat(), "region": ["gb", "ire"],
              "limit": "50", "skip": "0"}
    write_recording(tmp_path, "/v1/results", params, 422, {"detail": "bad request"})
    with _simulator(replay_dir=tmp_path, today=today_in_uk()) as sim:
        failed = _run(FAST_RAW["raw_results"], sim, postgres_url, day)
    message = failed.get_step_failure_events()[0].step_failure_data.error.message
    assert "(422): bad request" in message and "Standard plan" not in message and not _retried(failed)


def test_a_long_skip_is_reported_as_ranges_not_days():
    skipped = {date(2022, 1, 1) + timedelta(days=n): "before 2023-01-23" for n in range(31)}
    skipped[date(2025, 10, 12)] = "after today"
    assert _skipped_ranges(skipped) == [
        {"first": "2022-01-01", "last": "2022-01-31", "days": 31, "reason": "before 2023-01-23"},
        {"first": "2025-10-12", "last": "2025-10-12", "days": 1, "reason": "after today"},
    ]


def test_backfill_plan_counts_requests_offline(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "RACING_API_BASE_URL": "http://127.0.0.1:9"}
    started = time.monotonic()
    done = subprocess.run([sys.executable, "bench/backfill.py", "--plan", "2023-01-16:2023-01-29"], cwd=PROJECT_ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert time.monotonic() - started < 60
    figures = dict(item.split("=") for item in done.stdout.strip().splitlines()[-1].split())
    assert int(figures["racecards_requests"]) == 7  # 2023-01-23 .. 2023-01-29, one page a day
    assert int(figures["racecards_skipped_days"]) == 7
    assert 14 <= int(figures["results_requests"]) <= 28  # 1-2 pages of 50 a day
    assert int(figures["requests"]) == int(figures["results_requests"]) + 7
    assert int(figures["saving_requests"]) == 7
    assert float(figures["hours_at_2_per_s"]) == pytest.approx(int(figures["requests"]) / 2 / 3600, abs=0.01)
    assert "without calling the API" in done.stdout
