"""A run whose process is killed (`kill -9`) under the real `dagster dev` is marked failed and gives back its
`racing_api` slot within 2 minutes, so the next API run is not blocked for ever.

The real thing end to end: `dagster dev` with the project's dagster.yaml on the test's Postgres, a run of
`raw/raw_results` launched through the webserver's GraphQL (queued, dequeued by the daemon, started by the code
server like any UI, schedule or sensor run), the simulator answering so slowly that the run sits in the pool,
then SIGKILL to the run's processes (the run worker and its step process: the whole run dies, as on an OOM kill
of the container or a crash). What frees it: the code server sees its run worker gone and fails the run at once;
the monitoring daemon then frees the slots of finished runs (`run_monitoring` in dagster.yaml); the run retry
(`run_retries`) is queued behind the pool and gets the slot."""

import os
import signal
import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from darkhorses_assets.partitions import today_in_uk
from darkhorses_assets.racing_api.simulator import SimulatorConfig, SimulatorServer
from darkhorses_assets.racing_api.simulator.faults import Faults
from darkhorses_assets_tests.dagster_dev import running_dagster_dev

POOL = "racing_api"
CLAIM_TIMEOUT_S = 90
FREED_WITHIN_S = 120
LOCATION = "darkhorses_assets.definitions"

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


def _launch_raw_results(port: int, partition: str) -> str:
    """Launch `raw/raw_results` for one day as the UI's Materialize button does; returns the run id."""
    variables = {"executionParams": {
        "selector": {"repositoryLocationName": LOCATION, "repositoryName": "__repository__",
                     "jobName": "__ASSET_JOB", "assetSelection": [{"path": ["raw", "raw_results"]}]},
        "runConfigData": {},
        "executionMetadata": {"tags": [{"key": "dagster/partition", "value": partition}]},
    }}
    answer = requests.post(f"http://127.0.0.1:{port}/graphql", json={"query": LAUNCH, "variables": variables},
                           timeout=60).json()
    result = answer.get("data", {}).get("launchRun") or {}
    assert result.get("__typename") == "LaunchRunSuccess", f"launch failed: {answer}"
    return result["run"]["runId"]


def _slot_holders(instance) -> set[str]:
    """Run ids holding a `racing_api` slot."""
    return {slot.run_id for slot in instance.event_log_storage.get_concurrency_info(POOL).claimed_slots}


def _run_pids(instance, run_id: str) -> dict[int, str]:
    """The processes the run's events came from (its run worker, its step process) and their command lines."""
    pids = {record.event_log_entry.dagster_event.pid for record in instance.get_records_for_run(run_id).records
            if record.event_log_entry.dagster_event is not None}
    return {pid: _cmdline(pid) for pid in pids if pid}


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "(gone)"


def _step_started(instance, run_id: str) -> bool:
    from dagster import DagsterEventType

    return bool(instance.get_records_for_run(run_id, of_type=DagsterEventType.STEP_START, limit=1).records)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
def test_killed_run_is_failed_and_frees_its_pool_slot(postgres_url, tmp_path, monkeypatch):
    from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus, RunsFilter
    from dagster._core.storage.tags import PARENT_RUN_ID_TAG

    # Every answer takes 30 s (longer than the client's 20 s timeout, so it retries): a run sits in the pool.
    config = SimulatorConfig(rate_limit_per_s=1000.0, faults=Faults(rate_slow=1.0, slow_seconds=30))
    partition = (today_in_uk() - timedelta(days=1)).isoformat()

    # DARKHORSES_AUTOMATION=off: no schedule or sensor run competes for the pool.
    with SimulatorServer(config, host="127.0.0.1", port=0) as sim, \
            running_dagster_dev(postgres_url, tmp_path, sim, monkeypatch, automation="off") as dev:
        started = dev.started
        with DagsterInstance.from_config(str(dev.home)) as instance:
            run_id = _launch_raw_results(dev.port, partition)
            dev.wait_for(lambda: run_id in _slot_holders(instance) and _step_started(instance, run_id),
                         CLAIM_TIMEOUT_S, f"run {run_id} claiming the {POOL} slot and starting its step")
            claimed_at = time.time()
            pids = _run_pids(instance, run_id)
            assert len(pids) >= 2, f"expected a run worker and a step process, the run's events name {pids}"
            assert instance.get_run_by_id(run_id).status == DagsterRunStatus.STARTED
            for pid in pids:
                os.kill(pid, signal.SIGKILL)
            killed_at = time.time()
            dev.wait_for(lambda: not any(_alive(pid) for pid in pids), 10, "the killed processes gone")

            def dead_run_failed():
                return instance.get_run_by_id(run_id).status == DagsterRunStatus.FAILURE

            dev.wait_for(dead_run_failed, FREED_WITHIN_S, f"run {run_id} marked FAILURE")
            failed_at = time.time()
            dev.wait_for(lambda: run_id not in _slot_holders(instance), killed_at + FREED_WITHIN_S - time.time(),
                         f"the slot of run {run_id} freed")
            freed_at = time.time()

            def retry_holds_slot():
                retries = instance.get_run_records(RunsFilter(tags={PARENT_RUN_ID_TAG: run_id}))
                holders = _slot_holders(instance)
                return next((record.dagster_run.run_id for record in retries
                             if record.dagster_run.run_id in holders), None)

            retry_id = dev.wait_for(retry_holds_slot, killed_at + FREED_WITHIN_S - time.time(),
                                    "the run's retry holding the slot")
            retry_at = time.time()
            holders = _slot_holders(instance)
            engine_messages = [record.event_log_entry.message for record in instance.get_records_for_run(
                run_id, of_type=DagsterEventType.ENGINE_EVENT).records]
    stopped = time.time()

    print(f"\nkill -9 at +{killed_at - started:.1f} s (slot claimed at +{claimed_at - started:.1f} s, pids {pids}); "
          f"run FAILURE after {failed_at - killed_at:.1f} s, slot freed after {freed_at - killed_at:.1f} s, "
          f"retry {retry_id} in the slot after {retry_at - killed_at:.1f} s; test {stopped - started:.1f} s")
    detected = [message for message in engine_messages if "SIGKILL" in message]
    print(f"detected by: {detected}")
    assert detected, f"no engine event names the killed run worker: {engine_messages}"
    assert holders == {retry_id}, f"the pool holds {holders}, expected only the retry {retry_id}"
    assert freed_at - killed_at <= FREED_WITHIN_S
