"""Plain `dagster dev`, as a Dagster user starts it: in a folder holding the project's dagster.yaml and workspace.yaml,
with no DAGSTER_HOME and no DARKHORSES_* or RACING_API_* variable set.

The folder is a copy of those two files in a scratch folder, so the embedded Postgres it starts (`.darkhorses/pgdata`
under it, the default state folder) is the test's own and never the shared test server. Started twice on the same
folder:
1. nothing set: the code location loads, Dagster's storage and the resources use the embedded Postgres (one server for
   every process), and a `raw_courses` run launched as the UI launches it fails at its first step, once, with the one
   sentence naming the variables to set — no word of an unset EnvVar; Ctrl-C stops the Postgres dagster dev started;
2. only RACING_API_BASE_URL and the simulator's credentials set: `raw_courses` materializes into the embedded
   Postgres, where the run of the first start is still recorded.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import psycopg
import pytest
import requests

from darkhorses_assets.local.postgres import start_local_postgres, stop_local_postgres
from darkhorses_assets.racing_api.client import MISSING_CREDENTIALS
from darkhorses_assets.racing_api.simulator import SimulatorConfig, SimulatorServer
from darkhorses_assets_tests.dagster_dev import (
    PROJECT_ROOT,
    STARTUP_TIMEOUT_S,
    DagsterDev,
    _answers,
    _default_signals,
    _stop,
    free_port,
)

LOCATION = "darkhorses_assets.definitions"
RUN_TIMEOUT_S = 180
DAGSTER = Path(sys.executable).with_name("dagster")

LAUNCH = """
mutation Launch($executionParams: ExecutionParams!) {
  launchRun(executionParams: $executionParams) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on InvalidSubsetError { message }
    ... on RunConfigValidationInvalid { errors { message } }
  }
}
"""
LOCATIONS = """
{ workspaceOrError { __typename ... on Workspace { locationEntries { name
    locationOrLoadError { __typename ... on PythonError { message } } } } } }
"""


def _plain_env(**extra: str) -> dict[str, str]:
    """This process's environment without anything of ours or Dagster's, plus `extra`."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("DARKHORSES_", "RACING_API_", "DAGSTER_"))}
    return {**env, **extra}


def _processes_in(folder: Path) -> list[str]:
    """Command lines of live processes working in `folder` (dagster dev and its children), postgres aside."""
    found = []
    for proc in psutil.process_iter(["cmdline", "cwd", "name"]):
        try:
            if proc.info["cwd"] == str(folder) and proc.info["name"] != "postgres" and proc.pid != os.getpid():
                found.append(" ".join(proc.info["cmdline"] or []))
        except psutil.Error:
            continue
    return found


def _postmasters(data_dir: Path) -> list[int]:
    """Pids of Postgres servers (postmasters, not their backends) running on `data_dir`."""
    found = []
    for proc in psutil.process_iter(["cmdline", "name"]):
        cmdline = proc.info["cmdline"] or []
        if proc.info["name"] == "postgres" and "-D" in cmdline and cmdline[cmdline.index("-D") + 1] == str(data_dir):
            found.append(proc.pid)
    return found


@contextmanager
def plain_dagster_dev(project: Path, log: Path, env: dict[str, str]) -> Iterator[DagsterDev]:
    """`dagster dev` (the venv's console script, no options but host and port) in `project`; stopped on exit."""
    port = free_port()
    started = time.time()
    with log.open("wb") as out:
        process = subprocess.Popen([str(DAGSTER), "dev", "-h", "127.0.0.1", "-p", str(port)], cwd=project, env=env,
                                   stdout=out, stderr=subprocess.STDOUT, process_group=0, preexec_fn=_default_signals)
    dev = DagsterDev(process, port, project, log, started)
    try:
        dev.wait_for(lambda: _answers(port), STARTUP_TIMEOUT_S * 2, "the webserver answering")
        yield dev
    finally:
        _stop(process)
    deadline = time.monotonic() + 15
    while (leftovers := _processes_in(project)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not leftovers, f"processes left behind: {leftovers}"


def _graphql(dev: DagsterDev, query: str, variables: dict | None = None) -> dict:
    answer = requests.post(f"http://127.0.0.1:{dev.port}/graphql", json={"query": query, "variables": variables or {}},
                           timeout=60)
    answer.raise_for_status()
    return answer.json()


def _location_loaded(dev: DagsterDev) -> bool:
    """True once the code location is loaded; a location that failed to load fails the test at once."""
    entries = _graphql(dev, LOCATIONS)["data"]["workspaceOrError"]["locationEntries"]
    state = next((entry["locationOrLoadError"] for entry in entries if entry["name"] == LOCATION), None)
    assert state is None or state["__typename"] != "PythonError", f"the code location failed: {state['message']}"
    return state is not None and state["__typename"] == "RepositoryLocation"


def _launch_raw_courses(dev: DagsterDev) -> str:
    """Launch `raw/raw_courses` as the UI's Materialize button does (queued, started by the daemon)."""
    variables = {"executionParams": {
        "selector": {"repositoryLocationName": LOCATION, "repositoryName": "__repository__",
                     "jobName": "__ASSET_JOB", "assetSelection": [{"path": ["raw", "raw_courses"]}]},
        "runConfigData": {},
    }}
    answer = _graphql(dev, LAUNCH, variables)
    result = answer.get("data", {}).get("launchRun") or {}
    assert result.get("__typename") == "LaunchRunSuccess", f"launch failed: {answer}"
    return result["run"]["runId"]


def _finished_run(dev: DagsterDev, instance, run_id: str):
    def finished():
        run = instance.get_run_by_id(run_id)
        return run if run is not None and run.is_finished else None

    return dev.wait_for(finished, RUN_TIMEOUT_S, f"run {run_id} finishing")


def _event_texts(instance, run_id: str) -> list[str]:
    """Every event's message and error text of the run."""
    texts = []
    for entry in instance.all_logs(run_id):
        texts.append(entry.user_message or "")
        event = entry.dagster_event
        if event is not None and event.is_step_failure:
            data = event.step_failure_data
            texts.append(data.error.to_string() if data.error else "")
            texts.append(data.user_failure_data.description or "" if data.user_failure_data else "")
    return texts


@pytest.fixture
def plain_project(scratch_dir):
    """A folder holding only the project's dagster.yaml and workspace.yaml; its embedded Postgres stopped after."""
    project = scratch_dir / "project"
    project.mkdir()
    for name in ("dagster.yaml", "workspace.yaml"):
        shutil.copyfile(PROJECT_ROOT / name, project / name)
    yield project
    stop_local_postgres(project / ".darkhorses" / "pgdata")


@pytest.fixture
def project_instance(plain_project, monkeypatch):
    """This process's view of the project's Dagster instance: the same dagster.yaml, the same state folder."""
    from dagster import DagsterInstance

    for name in list(os.environ):
        if name.startswith(("DARKHORSES_", "RACING_API_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DARKHORSES_STATE_DIR", str(plain_project / ".darkhorses"))

    @contextmanager
    def open_instance():
        with DagsterInstance.from_config(str(plain_project)) as instance:
            yield instance

    return open_instance


@pytest.mark.slow
def test_plain_dagster_dev_needs_nothing_set_and_materializes_against_the_simulator(
        plain_project, project_instance, tmp_path):
    from dagster import DagsterEventType, DagsterRunStatus

    data_dir = plain_project / ".darkhorses" / "pgdata"

    # 1. Nothing set at all.
    with plain_dagster_dev(plain_project, tmp_path / "first.log", _plain_env()) as dev:
        dev.wait_for(lambda: _location_loaded(dev), STARTUP_TIMEOUT_S, "the code location loading")
        assert _postmasters(data_dir), f"no embedded Postgres on {data_dir}:\n{dev.output()[-5000:]}"
        failed_run_id = _launch_raw_courses(dev)
        with project_instance() as instance:
            run = _finished_run(dev, instance, failed_run_id)
            texts = _event_texts(instance, failed_run_id)
            step_starts = instance.get_records_for_run(failed_run_id, of_type=DagsterEventType.STEP_START).records
        assert len(_postmasters(data_dir)) == 1, "every process must share one server on the data folder"
    first_output = dev.output()

    assert run.status == DagsterRunStatus.FAILURE, run.status
    assert len(step_starts) == 1, f"the step ran {len(step_starts)} times: it must fail at once, not be retried"
    failure = "\n".join(texts)
    assert MISSING_CREDENTIALS in failure, failure
    assert "EnvVar" not in failure and "environment variable" not in failure.lower(), failure
    for log in (first_output, failure):
        assert "DARKHORSES_DAGSTER_STORAGE_URL" not in log, log[-5000:]
        assert "DagsterInvalidConfigError" not in log, log[-5000:]
    assert not _postmasters(data_dir), "Ctrl-C on dagster dev must stop the embedded Postgres it started"

    # 2. Only the simulator's URL and credentials set.
    config = SimulatorConfig(rate_limit_per_s=1000.0, password=f"pw-{uuid.uuid4().hex}")
    with SimulatorServer(config, host="127.0.0.1", port=0) as sim:
        env = _plain_env(RACING_API_BASE_URL=sim.url, RACING_API_USERNAME=config.username,
                         RACING_API_PASSWORD=config.password)
        with plain_dagster_dev(plain_project, tmp_path / "second.log", env) as dev:
            dev.wait_for(lambda: _location_loaded(dev), STARTUP_TIMEOUT_S, "the code location loading")
            run_id = _launch_raw_courses(dev)
            with project_instance() as instance:
                run = _finished_run(dev, instance, run_id)
                texts = _event_texts(instance, run_id)
                earlier = instance.get_run_by_id(failed_run_id)
            local = start_local_postgres(data_dir)  # the running server, reused
            with psycopg.connect(local.url()) as conn:
                courses = conn.execute("SELECT count(*) FROM raw.raw_courses").fetchone()[0]
            assert len(_postmasters(data_dir)) == 1
    second_output = dev.output()

    assert run.status == DagsterRunStatus.SUCCESS, "\n".join(texts)[-5000:]
    assert courses > 0
    assert earlier is not None and earlier.status == DagsterRunStatus.FAILURE, \
        "the first start's run must still be recorded: Dagster's storage lives in the embedded Postgres"
    assert config.password not in second_output + "\n".join(texts), "the API password appeared in the output"
