"""Fail fast where retrying is useless (issue 14): through the project's raw assets and their own RetryPolicy.

Errors no retry can help — 401, 422, a paging total that changed, RACING_API_BASE_URL refusing connections, a
malformed or refused DARKHORSES_DATABASE_URL — fail on the first attempt (no STEP_UP_FOR_RETRY, seconds not
minutes) with a message saying what to do. Transient ones — a burst of 503s longer than the client's own
retries, a database that does not answer — are retried by the step's RetryPolicy (built fast for the test).
"""

from __future__ import annotations

import time

import dagster as dg
import polars as pl
import pytest

from darkhorses_assets.assets.horse_profiles import raw_horse_profiles
from darkhorses_assets.assets.raw import API_RETRY, build_raw_assets, raw_courses, raw_racecards, raw_results
from darkhorses_assets.io import PostgresClient, PostgresPolarsIOManager, TableRef
from darkhorses_assets.racing_api.simulator import Faults
from darkhorses_assets_tests.failure_kinds import (
    API_KINDS,
    CLIENT_ATTEMPTS,
    DATABASE_KINDS,
    FAST_RETRY,
    SIM_TODAY,
    USER,
    ApiKind,
    DatabaseKind,
    closed_port,
    materialize_one,
    new_secret,
    resources,
    simulator_for,
    step_failure_messages,
    step_retried,
)

PROJECT_ASSETS = {"raw_results": raw_results, "raw_racecards": raw_racecards, "raw_courses": raw_courses}
"""The assets as definitions.py ships them: API_RETRY, whose first retry waits up to a minute."""
FAST_ASSETS = {assets_def.key.path[-1]: assets_def for assets_def in build_raw_assets(FAST_RETRY)}
FIRST_ATTEMPT_SECONDS = 15
"""A generous bound for a run that fails at once (a run costs ~1 s; a step retry would wait 0-60 s more)."""
NOT_RETRIED = "not retried within the run"


@pytest.fixture
def instance(tmp_path):
    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
        yield instance


@pytest.fixture
def settings(monkeypatch, postgres_url):
    """The environment the resources read: the test database and the simulator's credential."""
    secret = new_secret()
    monkeypatch.setenv("DARKHORSES_DATABASE_URL", postgres_url)
    monkeypatch.setenv("RACING_API_USERNAME", USER)
    monkeypatch.setenv("RACING_API_PASSWORD", secret)
    return secret


def failure_metadata(instance: dg.DagsterInstance, run_id: str) -> dict:
    (entry,) = instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
    data = entry.dagster_event.step_failure_data.user_failure_data
    return {key: value.value for key, value in data.metadata.items()} if data else {}


def test_the_project_assets_keep_their_retry_policy_for_transient_errors():
    assert all(assets_def.op.retry_policy == API_RETRY for assets_def in PROJECT_ASSETS.values())
    assert API_RETRY.max_retries >= 1


@pytest.mark.parametrize("kind", [kind for kind in API_KINDS if not kind.retryable], ids=lambda kind: kind.name)
def test_an_api_error_no_retry_can_help_fails_on_the_first_attempt(kind: ApiKind, settings, instance, tmp_path):
    with simulator_for(kind, settings, tmp_path) as sim:
        base_url = f"http://127.0.0.1:{closed_port()}" if kind.refused else sim.url
        started = time.monotonic()
        result = materialize_one(PROJECT_ASSETS[kind.asset_name], kind.day, base_url, instance)
        elapsed = time.monotonic() - started
    assert not result.success
    assert not step_retried(instance, result.run_id)
    assert elapsed < FIRST_ATTEMPT_SECONDS
    (message,) = step_failure_messages(instance, result.run_id)
    assert kind.says in message and NOT_RETRIED in message
    assert failure_metadata(instance, result.run_id)["retryable"] is False


def test_connection_refused_names_racing_api_base_url_its_value_and_the_fix(settings, instance, tmp_path):
    base_url = f"http://127.0.0.1:{closed_port()}"
    result = materialize_one(raw_courses, None, base_url, instance)
    (message,) = step_failure_messages(instance, result.run_id)
    assert f"Cannot reach the Racing API at {base_url} (RACING_API_BASE_URL): the connection was refused" in message
    assert f"({CLIENT_ATTEMPTS} attempt(s)" in message, "the client's own retries still run"
    assert "Check RACING_API_BASE_URL" in message and "darkhorses dev" in message


@pytest.mark.parametrize("kind", [kind for kind in DATABASE_KINDS if not kind.retryable], ids=lambda kind: kind.name)
def test_a_database_url_no_retry_can_help_fails_on_the_first_attempt(kind: DatabaseKind, settings, postgres_url,
                                                                     monkeypatch, instance, tmp_path):
    monkeypatch.setenv("DARKHORSES_DATABASE_URL", kind.build(settings, postgres_url))
    with simulator_for(None, settings, tmp_path) as sim:
        started = time.monotonic()
        result = materialize_one(raw_courses, None, sim.url, instance)
        elapsed = time.monotonic() - started
    assert not result.success
    assert not step_retried(instance, result.run_id)
    assert elapsed < FIRST_ATTEMPT_SECONDS
    (message,) = step_failure_messages(instance, result.run_id)
    assert kind.says in message and "DARKHORSES_DATABASE_URL" in message and NOT_RETRIED in message


def test_a_burst_of_503_longer_than_the_client_retries_is_retried_by_the_step_and_passes(settings, instance,
                                                                                        tmp_path):
    kind = next(kind for kind in API_KINDS if kind.name == "burst_of_503")
    with simulator_for(kind, settings, tmp_path) as sim:
        result = materialize_one(FAST_ASSETS["raw_courses"], None, sim.url, instance)
        statuses = [status for _, _, status in sim.stats()["requests"]]
    assert result.success
    assert step_retried(instance, result.run_id)
    assert statuses == [503] * CLIENT_ATTEMPTS + [200]


def test_a_burst_of_503_within_the_client_retries_needs_no_step_retry(settings, instance, tmp_path):
    kind = ApiKind("short_burst", "raw_courses", None, True, "", faults=Faults(fail_first={"503": 1}))
    with simulator_for(kind, settings, tmp_path) as sim:
        result = materialize_one(PROJECT_ASSETS["raw_courses"], None, sim.url, instance)
        statuses = [status for _, _, status in sim.stats()["requests"]]
    assert result.success and not step_retried(instance, result.run_id)
    assert statuses == [503, 200]


def test_a_database_that_does_not_answer_is_retried_by_the_step(settings, postgres_url, monkeypatch, instance,
                                                                 tmp_path):
    kind = next(kind for kind in DATABASE_KINDS if kind.retryable)
    monkeypatch.setenv("DARKHORSES_DATABASE_URL", kind.build(settings, postgres_url))
    with simulator_for(None, settings, tmp_path) as sim:
        result = materialize_one(FAST_ASSETS["raw_courses"], None, sim.url, instance)
    assert not result.success
    assert step_retried(instance, result.run_id)
    messages = step_failure_messages(instance, result.run_id)
    assert len(messages) == 1 and "Connection refused" in messages[0] and NOT_RETRIED not in messages[0]
    assert "Check DARKHORSES_DATABASE_URL and that the server is running" in messages[0]


@pytest.mark.parametrize(("url_kind", "retried"), [("no_scheme", False), ("unreachable_host", True)])
def test_the_io_manager_fails_fast_on_a_bad_url_and_lets_an_unreachable_server_be_retried(
    url_kind, retried, settings, postgres_url, monkeypatch, instance
):
    kind = next(kind for kind in DATABASE_KINDS if kind.name == url_kind)
    monkeypatch.setenv("DARKHORSES_DATABASE_URL", kind.build(settings, postgres_url))

    @dg.asset(retry_policy=FAST_RETRY)
    def table() -> pl.DataFrame:
        """Touches no database itself: the only connection is the IO manager's, storing the output."""
        return pl.DataFrame({"n": [1, 2]})

    result = dg.materialize([table], resources={"io_manager": resources("http://unused")["io_manager"]},
                            instance=instance, raise_on_error=False)
    assert not result.success
    assert step_retried(instance, result.run_id) is retried
    (message,) = step_failure_messages(instance, result.run_id)
    assert kind.says in message and "DARKHORSES_DATABASE_URL" in message


def test_horse_profiles_stop_at_rejected_credentials_without_a_retry(settings, postgres_url, instance, tmp_path):
    PostgresClient(postgres_url).write_frame(
        TableRef("clean", "horses"), pl.DataFrame({"horse_id": ["hrs_1", "hrs_2"], "last_seen": [SIM_TODAY] * 2}))
    kind = next(kind for kind in API_KINDS if kind.name == "auth_401")
    with simulator_for(kind, settings, tmp_path) as sim:
        result = dg.materialize(
            [raw_horse_profiles, dg.AssetSpec(["clean", "horses"])], selection=[raw_horse_profiles],
            resources={**resources(sim.url), "io_manager": PostgresPolarsIOManager(database_url=postgres_url)},
            instance=instance, raise_on_error=False)
    assert not result.success and not step_retried(instance, result.run_id)
    (message,) = step_failure_messages(instance, result.run_id)
    assert "failed after 0 of 2 profile requests" in message and "RACING_API_PASSWORD" in message
    assert failure_metadata(instance, result.run_id) == {"error": "RacingApiAuthError", "retryable": False}
