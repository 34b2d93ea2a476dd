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
from darkhorses_assets.racing_api.errors import MISSING_CREDENTIALS
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
    print("\nthe failed step, as the run's events tell it:\n" + "\n".join(
        text for text in texts if "credentials" in text.lower() and "Traceback" not in text))
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


# --- the pieces, without dagster dev ----------------------------------------------------------------------------


def test_dagster_yaml_storage_follows_the_storage_url_else_the_database_url(postgres_url, tmp_path, monkeypatch):
    from dagster import DagsterInstance

    from darkhorses_assets.local.postgres import sqlalchemy_psycopg2_url

    shutil.copyfile(PROJECT_ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    monkeypatch.delenv("DARKHORSES_DAGSTER_STORAGE_URL", raising=False)
    monkeypatch.setenv("DARKHORSES_DATABASE_URL", postgres_url)
    with DagsterInstance.from_config(str(tmp_path)) as instance:
        assert instance.run_storage.postgres_url == sqlalchemy_psycopg2_url(postgres_url)
        assert instance.event_log_storage.postgres_url == sqlalchemy_psycopg2_url(postgres_url)
        assert instance.get_runs() == []  # the tables were created in that database
        assert instance.get_ref().run_storage_data.module_name == "darkhorses_assets.local.dagster_storage"

    storage_url = sqlalchemy_psycopg2_url(postgres_url)
    monkeypatch.setenv("DARKHORSES_DAGSTER_STORAGE_URL", storage_url)
    monkeypatch.setenv("DARKHORSES_DATABASE_URL", "postgresql://nobody@127.0.0.1:9/not_used")  # nothing listens
    with DagsterInstance.from_config(str(tmp_path)) as instance:
        assert instance.schedule_storage.postgres_url == storage_url
        assert instance.get_runs() == []


def test_an_empty_database_url_is_the_embedded_postgres_one_server_for_every_process(scratch_dir, monkeypatch):
    """Processes starting together on a fresh state folder all get the same server: one start-up, one postmaster."""
    from darkhorses_assets.io.client import PostgresClient

    state_dir = scratch_dir / "state"
    data_dir = state_dir / "pgdata"
    env = _plain_env(DARKHORSES_STATE_DIR=str(state_dir))
    code = "from darkhorses_assets.local.postgres import embedded_database_url; print(embedded_database_url())"
    try:
        starters = [subprocess.Popen([sys.executable, "-c", code], env=env, cwd=scratch_dir, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) for _ in range(3)]
        urls = {starter.communicate(timeout=120)[0].strip() for starter in starters}
        assert all(starter.returncode == 0 for starter in starters)
        assert len(urls) == 1 and "" not in urls, urls
        assert len(_postmasters(data_dir)) == 1

        monkeypatch.delenv("DARKHORSES_DATABASE_URL", raising=False)
        monkeypatch.setenv("DARKHORSES_STATE_DIR", str(state_dir))
        with PostgresClient("").connect() as conn:
            database, socket = conn.execute("SELECT current_database(), current_setting('unix_socket_directories')"
                                            ).fetchone()
        assert database == "darkhorses" and socket.startswith(str(state_dir))
        assert len(_postmasters(data_dir)) == 1
    finally:
        stop_local_postgres(data_dir)


def test_the_code_location_loads_with_nothing_set_and_starts_nothing(tmp_path):
    """Loading the definitions neither needs a variable nor starts Postgres: the server starts on first use."""
    code = ("from darkhorses_assets.definitions import defs\n"
            "resources = defs.resources\n"
            "print(repr(resources['io_manager'].database_url), repr(resources['racing_api'].username))\n")
    result = subprocess.run([sys.executable, "-c", code], env=_plain_env(), cwd=tmp_path, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-5000:]
    assert result.stdout.split() == ["''", "''"], result.stdout
    assert not (tmp_path / ".darkhorses").exists(), "loading the code location started the embedded Postgres"


def test_missing_credentials_fail_before_any_request_in_one_sentence():
    from dagster import Failure

    from darkhorses_assets.fail_fast import fail_fast
    from darkhorses_assets.racing_api.client import RacingApiResource
    from darkhorses_assets.racing_api.errors import RacingApiCredentialsMissing

    assert MISSING_CREDENTIALS.count(". ") == 0 and MISSING_CREDENTIALS.endswith(".")
    with SimulatorServer(SimulatorConfig(rate_limit_per_s=1000.0), host="127.0.0.1", port=0) as sim:
        api = RacingApiResource(base_url=sim.url, username="", password="")
        started = time.monotonic()
        with pytest.raises(RacingApiCredentialsMissing) as raised:
            api.fetch_courses()
        assert str(raised.value) == MISSING_CREDENTIALS
        with pytest.raises(RacingApiCredentialsMissing):
            api.results_total(_today())
        with pytest.raises(Failure) as failed, fail_fast():
            api.fetch_racecards_day(_today())
        assert time.monotonic() - started < 5, "missing credentials must fail at once, not after retries"
        assert sim.stats()["total"] == 0, "no request may be sent without credentials"
    assert failed.value.description.startswith(MISSING_CREDENTIALS) and not failed.value.allow_retries


def _today():
    from darkhorses_assets.partitions import today_in_uk

    return today_in_uk()


@pytest.mark.slow
def test_darkhorses_dev_runs_dagster_dev_without_the_dagster_yaml_not_used_warning(scratch_dir, tmp_path):
    """`darkhorses dev` (make dev) keeps DAGSTER_HOME in the state folder: dagster dev must not warn that the
    project's dagster.yaml "will not be used" (it is, as the home's copy)."""
    state_dir = scratch_dir / "state"
    port = free_port()
    log = tmp_path / "darkhorses_dev.log"
    env = _plain_env(DARKHORSES_STATE_DIR=str(state_dir), DARKHORSES_PORT=str(port))
    with log.open("wb") as out:
        process = subprocess.Popen([str(Path(sys.executable).with_name("darkhorses")), "dev"], cwd=PROJECT_ROOT,
                                   env=env, stdout=out, stderr=subprocess.STDOUT, process_group=0,
                                   preexec_fn=_default_signals)
    dev = DagsterDev(process, port, state_dir / "dagster_home", log, time.time())
    try:
        dev.wait_for(lambda: _answers(port), STARTUP_TIMEOUT_S * 2, "the webserver answering")
        dev.wait_for(lambda: _location_loaded(dev), STARTUP_TIMEOUT_S, "the code location loading")
    finally:
        _stop(process)
        stop_local_postgres(state_dir / "pgdata")
    output = dev.output()
    assert "will not be used" not in output, output[-5000:]
    assert "Found a dagster instance configuration" not in output, output[-5000:]
