"""The deployments of docs/deploy.md hold together: every documented dagster.yaml loads into a real instance on a
real Postgres, each run launcher's and executor's config passes its own class's schema, the compose file and
the Helm values say what the guide says, the Dockerfile copies what exists and starts the real module, and a
multiprocess run keeps the `racing_api` pool across processes against the simulator."""

from __future__ import annotations

import os
import re
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from darkhorses_assets.local.postgres import sqlalchemy_psycopg2_url

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEPLOY = PROJECT_ROOT / "deploy"
DOCKER_YAML = DEPLOY / "docker" / "dagster.yaml"
K8S_YAML = DEPLOY / "k8s" / "dagster.yaml"
CELERY_YAML = DEPLOY / "celery" / "dagster.yaml"
INSTANCE_YAMLS = [DOCKER_YAML, K8S_YAML, CELERY_YAML]
LOCATION_NAME = "darkhorses_assets.definitions"
POOL = "racing_api"


def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def _home_with(tmp_path: Path, source: Path, name: str = "home") -> Path:
    home = tmp_path / name
    home.mkdir()
    shutil.copyfile(source, home / "dagster.yaml")
    return home


@pytest.fixture
def storage_env(postgres_url, monkeypatch):
    """The documented instances read Dagster's storage URL from the environment, as in production."""
    monkeypatch.setenv("DARKHORSES_DAGSTER_STORAGE_URL", sqlalchemy_psycopg2_url(postgres_url))
    monkeypatch.setenv("DARKHORSES_DATABASE_URL", postgres_url)
    monkeypatch.setenv("DAGSTER_CELERY_BROKER_URL", "redis://redis:6379/0")
    monkeypatch.setenv("DAGSTER_CELERY_BACKEND_URL", "redis://redis:6379/1")
    return postgres_url


# -- the multiprocess run and the racing_api pool ------------------------------------------------------------


API_STEPS_JOB = "raw_api_steps"


def raw_api_steps_job():
    """A job of the code location's two daily API assets, rebuilt from the environment in every step process
    (reconstructable): the real assets, resources and pool."""
    from dagster import AssetSelection, Definitions, define_asset_job

    from darkhorses_assets.automation.freshness import freshness_checks
    from darkhorses_assets.definitions import defs

    # The assets with their own checks; not the freshness checks (separate steps that call no API).
    selection = (AssetSelection.assets(["raw", "raw_results"], ["raw", "raw_racecards"])
                 - AssetSelection.checks(*freshness_checks))
    job = define_asset_job(API_STEPS_JOB, selection=selection)
    return Definitions.merge(defs, Definitions(jobs=[job])).resolve_job_def(API_STEPS_JOB)


def _run_two_api_steps(home: Path, sim, first, last):
    """raw_results and raw_racecards over first..last in one run, each step in its own process (multiprocess
    executor, 2 at once allowed). Returns the run's result, its step windows {step: (start, end, pid)} and the
    simulator's requests during the run."""
    from dagster import DagsterEventType, DagsterInstance, execute_job, reconstructable

    before = len(sim.app.stats()["requests"])
    with DagsterInstance.from_config(str(home)) as instance:
        result = execute_job(
            reconstructable(raw_api_steps_job), instance=instance,
            tags={"dagster/asset_partition_range_start": first.isoformat(),
                  "dagster/asset_partition_range_end": last.isoformat()},
            run_config={"execution": {"config": {"multiprocess": {"max_concurrent": 2}}}},
        )
        windows: dict[str, list] = {}
        for record in instance.get_records_for_run(result.run_id).records:
            entry = record.event_log_entry
            event = entry.dagster_event
            if event is None or event.event_type not in (DagsterEventType.STEP_START, DagsterEventType.STEP_SUCCESS,
                                                          DagsterEventType.STEP_FAILURE):
                continue
            window = windows.setdefault(event.step_key, [None, None, None])
            if event.event_type == DagsterEventType.STEP_START:
                window[0], window[2] = entry.timestamp, event.pid
            else:
                window[1] = entry.timestamp
    requests_during = sim.app.stats()["requests"][before:]
    return result, {step: tuple(window) for step, window in windows.items()}, requests_during


@pytest.mark.slow
def test_multiprocess_run_keeps_the_racing_api_pool_across_processes(storage_env, tmp_path, monkeypatch):
    """Two API steps of one run in two processes, on the Docker deployment's instance (its run launcher is not
    used: the run executes here, its steps in processes of their own): with the documented pool limit (1) they
    run one after the other and the simulator (2 requests/s per credential, like the API) never answers 429.
    The same run with the pool set to 2 slots overlaps them (so the check can fail): each process then paces
    only its own requests."""
    from darkhorses_assets.partitions import today_in_uk
    from darkhorses_assets.racing_api.simulator import SimulatorConfig, SimulatorServer

    last = today_in_uk() - timedelta(days=3)
    first = last - timedelta(days=6)
    home = _home_with(tmp_path, DOCKER_YAML)
    assert _load(home / "dagster.yaml")["concurrency"]["pools"]["default_limit"] == 1

    with SimulatorServer(SimulatorConfig(), host="127.0.0.1", port=0) as sim:
        monkeypatch.setenv("RACING_API_BASE_URL", sim.url)
        monkeypatch.setenv("RACING_API_USERNAME", sim.config.username)
        monkeypatch.setenv("RACING_API_PASSWORD", sim.config.password)
        monkeypatch.setenv("DARKHORSES_AUTOMATION", "off")
        result, windows, requests_made = _run_two_api_steps(home, sim, first, last)
        assert result.success
        assert set(windows) == {"raw__raw_results", "raw__raw_racecards"}, windows
        (a_start, a_end, a_pid), (b_start, b_end, b_pid) = sorted(windows.values())
        print(f"\npool limit 1: steps {a_start:.2f}-{a_end:.2f} (pid {a_pid}) and {b_start:.2f}-{b_end:.2f} "
              f"(pid {b_pid}); {len(requests_made)} requests, statuses "
              f"{sorted({status for _, _, status in requests_made})}")
        assert a_pid != b_pid and os.getpid() not in (a_pid, b_pid), "each step in a process of its own"
        assert a_end <= b_start, f"the steps overlapped although the pool allows one: {windows}"
        assert len(requests_made) >= 14
        assert all(status == 200 for _, _, status in requests_made), "a 429 with the pool at 1"

        # The control: two slots (set as `dagster instance concurrency set racing_api 2` does; changing
        # default_limit on a database where the pool exists fails runs on Postgres, dagster issue 33552).
        from dagster import DagsterInstance

        with DagsterInstance.from_config(str(home)) as instance:
            instance.event_log_storage.set_concurrency_slots(POOL, 2)
        result, windows, requests_made = _run_two_api_steps(home, sim, first, last)
        assert result.success
        (a_start, a_end, _), (b_start, b_end, _) = sorted(windows.values())
        statuses = [status for _, _, status in requests_made]
        print(f"pool limit 2: steps {a_start:.2f}-{a_end:.2f} and {b_start:.2f}-{b_end:.2f}; "
              f"{len(requests_made)} requests, {statuses.count(429)} answered 429")
        assert b_start < a_end, f"with two slots the steps should overlap: {windows}"
