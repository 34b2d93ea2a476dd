"""`darkhorses backfill` on a real instance (Postgres storage, the test's database) against the simulator.

The command stores an asset backfill of the layer's race-day assets and the chosen days (as the UI does) and
follows it until it ends; here the daemon is the Dagster backfill daemon's own iteration
(`execute_backfill_iteration`) run in a thread on an in-process code location, runs executed in-process
(SyncInMemoryRunLauncher), beating the BACKFILL heartbeat as `dagster-daemon` does. The API requests the
command reports are the ones the simulator served. Without a daemon it says so; Ctrl-C leaves the backfill
running and says how to cancel it; `--cancel` cancels it as the UI does.
"""

import logging
import os
import re
import signal
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterInstance

from darkhorses_assets.cli import main
from darkhorses_assets.local.postgres import sqlalchemy_psycopg2_url
from darkhorses_assets.racing_api.simulator import SimulatorConfig, SimulatorServer

RAW = [AssetKey(["raw", "raw_racecards"]), AssetKey(["raw", "raw_results"])]
DAYS = ["2025-06-01", "2025-06-02"]
INSTANCE_YAML = """
storage:
  postgres:
    postgres_url:
      env: DARKHORSES_DAGSTER_STORAGE_URL
run_coordinator:
  module: dagster._core.run_coordinator
  class: DefaultRunCoordinator
run_launcher:
  module: dagster._core.launcher.sync_in_memory_run_launcher
  class: SyncInMemoryRunLauncher
telemetry:
  enabled: false
"""


@pytest.fixture
def env(postgres_url, tmp_path, monkeypatch):
    """A DAGSTER_HOME on the test's Postgres, and the simulator the resources read from the environment."""
    from datetime import date

    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(INSTANCE_YAML)
    config = SimulatorConfig(today=date(2025, 6, 3), rate_limit_per_s=0)
    with SimulatorServer(config, host="127.0.0.1", port=0) as sim:
        for name, value in {
            "DAGSTER_HOME": str(home), "DARKHORSES_DATABASE_URL": postgres_url,
            "DARKHORSES_DAGSTER_STORAGE_URL": sqlalchemy_psycopg2_url(postgres_url),
            "RACING_API_BASE_URL": sim.url, "RACING_API_USERNAME": config.username,
            "RACING_API_PASSWORD": config.password,
        }.items():
            monkeypatch.setenv(name, value)
        yield home, sim


@contextmanager
def backfill_daemon(home: Path):
    """Dagster's backfill daemon iteration in a thread, with its heartbeat, until the block ends."""
    from dagster._core.remote_origin import InProcessCodeLocationOrigin
    from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
    from dagster._core.workspace.context import WorkspaceProcessContext
    from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget
    from dagster._daemon.backfill import execute_backfill_iteration
    from dagster._daemon.types import DaemonHeartbeat

    stop, beating, errors = threading.Event(), threading.Event(), []
    origin = InProcessCodeLocationOrigin(LoadableTargetOrigin(
        python_file=str(Path(__file__).with_name("cli_backfill_defs.py")), attribute="defs",
        working_directory=str(Path(__file__).parent.parent)))

    def loop():
        with DagsterInstance.from_config(str(home)) as instance, \
                WorkspaceProcessContext(instance, InProcessWorkspaceLoadTarget(origin)) as workspace:
            while not stop.is_set():
                instance.add_daemon_heartbeat(DaemonHeartbeat(time.time(), "BACKFILL", "test", None))
                beating.set()
                try:
                    for error in execute_backfill_iteration(workspace, logging.getLogger("backfill-daemon")):
                        if error is not None:
                            errors.append(error)
                except Exception as error:  # noqa: BLE001 - reported by the test
                    errors.append(error)
                stop.wait(0.3)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    assert beating.wait(60), "the backfill daemon thread never beat"
    try:
        yield errors
    finally:
        stop.set()
        thread.join(60)


def test_backfill_submits_the_layers_partitions_and_follows_until_done(env, capsys):
    home, sim = env
    started = time.monotonic()
    with backfill_daemon(home) as errors:
        code = main(["backfill", "--start", DAYS[0], "--end", DAYS[-1], "--layer", "raw"])
    err = capsys.readouterr().err
    assert not errors, errors
    assert code == 0, err
    assert "no Dagster daemon" not in err
    backfill_id = re.search(r"backfill (\w+) submitted", err).group(1)

    with DagsterInstance.from_config(str(home)) as instance:
        from darkhorses_assets.commands.common import load_definitions

        backfill = instance.get_backfill(backfill_id)
        assert backfill.status.value == "COMPLETED_SUCCESS"
        assert sorted(backfill.asset_selection, key=str) == RAW
        data = backfill.get_asset_backfill_data(load_definitions().resolve_asset_graph())
        assert {(key, partition) for key, partition in data.target_subset.iterate_asset_partitions()} == \
            {(key, day) for key in RAW for day in DAYS}
        assert data.materialized_subset == data.target_subset
        for key in RAW:
            assert set(instance.get_materialized_partitions(key)) == set(DAYS)

    served = sim.stats()["total"]
    assert served > 0
    assert f"{served} API request(s)" in err, err  # the runs' api_requests metadata = what the API served
    assert f"backfill {backfill_id} COMPLETED_SUCCESS: 4 asset partition(s) done, 0 failed, 0 not run" in err
    assert time.monotonic() - started < 60


def test_a_backfill_whose_runs_fail_ends_with_exit_code_1_and_counts_the_failed_partitions(env, capsys,
                                                                                          monkeypatch):
    home, sim = env
    monkeypatch.setenv("RACING_API_PASSWORD", "wrong")  # the simulator answers 401: the run fails at once
    with backfill_daemon(home) as errors:
        code = main(["backfill", "--start", DAYS[0], "--end", DAYS[-1], "--layer", "raw"])
    err = capsys.readouterr().err
    assert not errors, errors
    assert code == 1, err
    assert "COMPLETED_FAILED: 0 asset partition(s) done, 4 failed, 0 not run" in err, err
    assert sim.stats()["by_status"].get("401", 0) >= 1


def test_without_a_daemon_it_says_so_and_ctrl_c_leaves_the_backfill_running(env, capsys):
    home, _ = env
    assert main(["backfill", "--start", DAYS[0], "--end", DAYS[0], "--layer", "features", "--no-follow"]) == 0
    err = capsys.readouterr().err
    backfill_id = re.search(r"backfill (\w+) submitted", err).group(1)
    assert "features/race_outcomes, features/runner_features" in err
    assert "no Dagster daemon is running" in err and "make dev" in err
    assert f"darkhorses backfill --cancel {backfill_id}" in err

    timer = threading.Timer(3.0, os.kill, (os.getpid(), signal.SIGINT))  # Ctrl-C while following
    timer.start()
    try:
        assert main(["backfill", "--follow", backfill_id]) == 130
    finally:
        timer.cancel()
    err = capsys.readouterr().err
    assert f"backfill {backfill_id} keeps running" in err and f"--cancel {backfill_id}" in err
    assert "Runs → Backfills" in err
    with DagsterInstance.from_config(str(home)) as instance:
        assert instance.get_backfill(backfill_id).status.value == "REQUESTED"

    assert main(["backfill", "--cancel", backfill_id]) == 0
    with DagsterInstance.from_config(str(home)) as instance:
        assert instance.get_backfill(backfill_id).status.value == "CANCELING"
    capsys.readouterr()


def test_backfill_bad_input_is_one_line_and_exit_code_2(env, capsys):
    for argv, expected in [
        (["backfill", "--start", "2025-06-02", "--end", "2025-06-01"], "is after --end"),
        (["backfill", "--start", "2014-06-02", "--end", "2025-06-01"], "outside the race-day partitions"),
        (["backfill", "--start", "2025-06-01"], "--start and --end are required"),
        (["backfill", "--cancel", "nosuchid"], "no backfill 'nosuchid'"),
    ]:
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and expected in err, err
