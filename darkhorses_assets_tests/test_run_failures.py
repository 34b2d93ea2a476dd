"""The run-failure sensor on real failed runs: rows in a real Postgres, alerts to a real loopback webhook.

Errors come from the real thing where it exists: the simulator rejecting credentials or answering 503, the
Postgres client failing to connect, the IO layer's drift check, Dagster's blocking-check failure.
"""

from __future__ import annotations

import importlib
import logging
import socket
from datetime import UTC, date, datetime

import dagster as dg
import polars as pl
import psycopg
import pytest
from psycopg.rows import dict_row

from darkhorses_assets.automation import failures
from darkhorses_assets.automation.failures import (
    RUN_FAILURE_RESOURCE_KEY,
    describe_failure,
    failure_hint,
    failure_partitions,
    known_secrets,
    redact_secrets,
    run_failure_alerts,
)
from darkhorses_assets.io.client import PostgresClient
from darkhorses_assets.io.run_failures import RUN_FAILURES_TABLE, RunFailure, RunFailureStore
from darkhorses_assets.io.tables import TableRef
from darkhorses_assets.racing_api import RacingApiResource
from darkhorses_assets.racing_api.simulator import Faults, SimulatorConfig, SimulatorServer
from darkhorses_assets.settings import ALERT_WEBHOOK_ENV
from darkhorses_assets_tests.test_alerts import TOKEN, assert_token_never_logged, webhook_receiver

USER, PASSWORD = "darkhorses", "s1mulat0r-Pa55"
WRONG_PASSWORD = "not-the-Pa55word-42"
TODAY = date(2025, 11, 1)
PARTITIONS = dg.DailyPartitionsDefinition(start_date="2025-10-01", end_date="2025-11-01")


# ---------------------------------------------------------------------------------------------- helpers


@pytest.fixture(autouse=True)
def no_webhook(monkeypatch):
    """Tests opt in to a webhook; the developer's own environment must not receive test alerts."""
    monkeypatch.delenv(ALERT_WEBHOOK_ENV, raising=False)


@pytest.fixture
def simulator():
    cfg = SimulatorConfig(seed=7, username=USER, password=PASSWORD, rate_limit_per_s=0.0, faults=Faults(),
                          today=TODAY)
    with SimulatorServer(cfg, host="127.0.0.1", port=0) as sim:
        yield sim


def api_client(sim, password: str = PASSWORD, **overrides) -> RacingApiResource:
    settings = dict(base_url=sim.url, username=USER, password=password, requests_per_second=1000.0,
                    retry_initial_wait_s=0.01, retry_max_wait_s=0.05, max_attempts=2, max_retry_seconds=5.0,
                    timeout_s=5.0)
    return RacingApiResource(**{**settings, **overrides})


@dg.asset(key_prefix="raw", partitions_def=PARTITIONS)
def raw_results(context, racing_api: RacingApiResource) -> None:
    """Asks the API for the partition's results, like the real raw asset (here: only to fail like it)."""
    racing_api.fetch_results_day(date.fromisoformat(context.partition_key))


@dg.asset(check_specs=[dg.AssetCheckSpec("rows_valid", asset="checked_table", blocking=True)])
def checked_table() -> dg.MaterializeResult:
    return dg.MaterializeResult(check_results=[dg.AssetCheckResult(check_name="rows_valid", passed=False)])


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


@pytest.fixture
def store(postgres_url) -> RunFailureStore:
    return RunFailureStore(database_url=postgres_url)


def fail(instance, assets, **kwargs) -> tuple[dg.DagsterRun, dg.DagsterEvent]:
    """Materialize `assets` for real and return the failed run and its RUN_FAILURE event."""
    result = dg.materialize(assets, instance=instance, raise_on_error=False, **kwargs)
    assert not result.success
    return result.dagster_run, result.get_run_failure_event()


def auth_failure(instance, sim, password: str = WRONG_PASSWORD):
    return fail(instance, [raw_results], resources={"racing_api": api_client(sim, password)},
                partition_key="2025-10-20")


def evaluate(instance, run, event, store) -> None:
    context = dg.build_run_status_sensor_context(
        sensor_name=run_failure_alerts.name, dagster_instance=instance, dagster_run=run, dagster_event=event,
        resources={RUN_FAILURE_RESOURCE_KEY: store},
    )
    assert run_failure_alerts(context) is None


def stored_rows(postgres_url) -> list[dict]:
    with psycopg.connect(postgres_url, row_factory=dict_row) as conn:
        return conn.execute("SELECT * FROM ops.run_failures ORDER BY failed_at").fetchall()


def as_sent(row: dict) -> dict:
    """A stored row as the webhook receives it (JSON values, no `recorded_at`)."""
    sent = {key: value for key, value in row.items() if key != "recorded_at"}
    sent["failed_at"] = row["failed_at"].isoformat()
    return sent


# ------------------------------------------------------------------------------------ the sensor, for real


def test_a_failed_run_becomes_one_row_one_log_line_and_one_alert(
    instance, simulator, store, postgres_url, monkeypatch, caplog, capfd
):
    caplog.set_level(logging.DEBUG)
    run, event = auth_failure(instance, simulator)
    with webhook_receiver(200) as receiver:
        monkeypatch.setenv(ALERT_WEBHOOK_ENV, receiver.url)
        capfd.readouterr()  # only the sensor's output from here on
        evaluate(instance, run, event, store)
        sensor_out, sensor_err = capfd.readouterr()
        evaluate(instance, run, event, store)  # e.g. the sensor's cursor was reset

    [row] = stored_rows(postgres_url)
    assert row["run_id"] == run.run_id
    assert row["job_name"] == run.job_name
    assert row["partitions"] == "2025-10-20"
    assert row["step_key"] == "raw__raw_results"
    assert row["failed_steps"] == ["raw__raw_results"]
    assert row["error_class"] == "RacingApiAuthError"
    assert row["error"].startswith("The Racing API rejected the credentials (401)")
    assert (row["kind"], row["hint"]) == failure_hint("RacingApiAuthError", row["error"])
    assert "RACING_API_USERNAME / RACING_API_PASSWORD" in row["hint"]
    record = instance.get_run_record_by_id(run.run_id)
    assert row["failed_at"] == datetime.fromtimestamp(record.end_time, UTC)
    assert receiver.bodies == [as_sent(row)], "one alert, even though the sensor saw the run twice"
    log = sensor_out + sensor_err
    assert f"run {run.run_id} of job {run.job_name} failed" in log
    assert "partitions: 2025-10-20, step: raw__raw_results, RacingApiAuthError" in log
    assert row["hint"] in log
    assert TOKEN not in str(row) and WRONG_PASSWORD not in str(row)
    assert TOKEN not in log
    assert_token_never_logged(caplog, capfd)


def test_every_failed_run_gets_its_own_row_with_its_own_hint(instance, simulator, store, postgres_url):
    auth_run, auth_event = auth_failure(instance, simulator)
    check_run, check_event = fail(instance, [checked_table])
    evaluate(instance, auth_run, auth_event, store)
    evaluate(instance, check_run, check_event, store)

    rows = {row["run_id"]: row for row in stored_rows(postgres_url)}
    assert set(rows) == {auth_run.run_id, check_run.run_id}
    assert rows[auth_run.run_id]["kind"] == "credentials"
    check_row = rows[check_run.run_id]
    assert check_row["kind"] == "data_check"
    assert check_row["error_class"] == "DagsterAssetCheckFailedError"
    assert check_row["error"] == "1 blocking asset check failed with ERROR severity:\nchecked_table: rows_valid"
    assert check_row["partitions"] is None and check_row["step_key"] == "checked_table"
    assert "Checks tab" in check_row["hint"]


def test_passwords_in_an_error_are_redacted_in_the_row_the_log_and_the_alert(
    instance, store, postgres_url, monkeypatch, capfd
):
    api_password = "Racing-Api-Pa55-9x"
    monkeypatch.setenv("RACING_API_PASSWORD", api_password)

    @dg.asset
    def leaky() -> None:
        raise RuntimeError(
            f"could not load from postgresql://dh:db-Pa55-123@db.internal:5432/racing "
            f"(tried password={api_password} as well, and ?user=dh&password=other-Pa55)"
        )

    run, event = fail(instance, [leaky])
    capfd.readouterr()  # the run's own log shows its error as raised; the sensor's output starts here
    with webhook_receiver(200) as receiver:
        monkeypatch.setenv(ALERT_WEBHOOK_ENV, receiver.url)
        evaluate(instance, run, event, store)

    [row] = stored_rows(postgres_url)
    assert row["error_class"] == "RuntimeError"
    assert row["error"] == (
        "could not load from postgresql://dh:***@db.internal:5432/racing "
        "(tried password=*** as well, and ?user=dh&password=***)"
    )
    out, err = capfd.readouterr()
    for text in (str(row), str(receiver.bodies), out, err):
        for secret in (api_password, "db-Pa55-123", "other-Pa55", TOKEN):
            assert secret not in text


def test_a_webhook_answering_500_does_not_fail_the_sensor_and_the_row_is_kept(
    instance, simulator, store, postgres_url, monkeypatch, caplog, capfd
):
    caplog.set_level(logging.DEBUG)
    run, event = auth_failure(instance, simulator)
    with webhook_receiver(500) as receiver:
        monkeypatch.setenv(ALERT_WEBHOOK_ENV, receiver.url)
        capfd.readouterr()
        evaluate(instance, run, event, store)
        out, err = capfd.readouterr()

    assert len(receiver.requests) == 3, "tried three times"
    assert [row["run_id"] for row in stored_rows(postgres_url)] == [run.run_id]
    assert "alert webhook failed: HTTP 500 Internal Server Error (3 attempts)" in out + err
    assert TOKEN not in out + err
    assert_token_never_logged(caplog, capfd)


def test_without_a_database_the_sensor_fails_saying_what_to_do_and_still_alerts(
    instance, simulator, monkeypatch
):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    down = RunFailureStore(database_url=f"postgresql://dh:db-Pa55-123@127.0.0.1:{port}/racing")
    run, event = auth_failure(instance, simulator)
    with webhook_receiver(200) as receiver:
        monkeypatch.setenv(ALERT_WEBHOOK_ENV, receiver.url)
        with pytest.raises(ConnectionError, match="DARKHORSES_DATABASE_URL") as raised:
            evaluate(instance, run, event, down)
    assert "db-Pa55-123" not in str(raised.value)
    assert [body["run_id"] for body in receiver.bodies] == [run.run_id]


def test_the_sensor_needs_the_store_and_ships_stopped_when_automation_is_off(monkeypatch):
    assert run_failure_alerts.name == "run_failure_alerts"
    assert run_failure_alerts.required_resource_keys == {RUN_FAILURE_RESOURCE_KEY}
    assert "ops.run_failures" in run_failure_alerts.description
    monkeypatch.setenv("DARKHORSES_AUTOMATION", "off")
    try:
        stopped = importlib.reload(failures).run_failure_alerts
        assert stopped.default_status == dg.DefaultSensorStatus.STOPPED
    finally:
        monkeypatch.delenv("DARKHORSES_AUTOMATION")
        importlib.reload(failures)


# ----------------------------------------------------------------------------------------------- the store


def test_the_store_creates_the_table_and_upserts_on_run_id(store, postgres_url):
    failure = RunFailure(
        run_id="r1", job_name="daily", partitions="2025-10-01..2025-10-07", step_key="raw__raw_results",
        failed_steps=("raw__raw_results",), error_class="RacingApiUnavailable", error="gone", kind="transient",
        hint="later", failed_at=datetime(2025, 11, 1, 10, tzinfo=UTC),
    )
    assert store.record(failure) is True
    [first] = stored_rows(postgres_url)
    assert store.record(RunFailure(**{**failure.__dict__, "hint": "re-run"})) is False
    [second] = stored_rows(postgres_url)
    assert second["hint"] == "re-run"
    assert second["recorded_at"] == first["recorded_at"], "first recording time kept"
    assert as_sent(second) == {**failure.as_json(), "hint": "re-run"}
    with psycopg.connect(postgres_url) as conn:
        key = conn.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary",
            (str(RUN_FAILURES_TABLE),),
        ).fetchall()
    assert key == [("run_id",)]


# ------------------------------------------------------------------------------------- pure: hint, redaction


def _auth_error(sim, postgres_url):
    api_client(sim, WRONG_PASSWORD).fetch_courses()


def _unavailable_error(sim, postgres_url):
    with SimulatorServer(SimulatorConfig(seed=7, username=USER, password=PASSWORD, rate_limit_per_s=0.0,
                                         faults=Faults(rate_5xx=1.0), today=TODAY), port=0) as failing:
        api_client(failing).fetch_courses()


def _rate_limited_error(sim, postgres_url):
    with SimulatorServer(SimulatorConfig(seed=7, username=USER, password=PASSWORD, rate_limit_per_s=0.0,
                                         faults=Faults(rate_429=1.0), today=TODAY), port=0) as failing:
        api_client(failing).fetch_courses()


def _database_error(sim, postgres_url):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with PostgresClient(f"postgresql://dh:pw@127.0.0.1:{port}/x").connect():
        pass


def _drift_error(sim, postgres_url):
    client, table = PostgresClient(postgres_url), TableRef("clean", "runners")
    client.write_frame(table, pl.DataFrame({"runner_id": ["r1"]}))
    client.write_frame(table, pl.DataFrame({"runner_id": [1]}))


def _request_error(sim, postgres_url):
    api_client(sim).get_json("/v1/results", {"limit": 1000})


def _unreachable_error(sim, postgres_url):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    RacingApiResource(base_url=f"http://127.0.0.1:{port}", username=USER, password=PASSWORD, max_attempts=2,
                      retry_initial_wait_s=0.01, retry_max_wait_s=0.02).fetch_courses()


@pytest.mark.parametrize(
    ("raise_error", "kind", "in_hint"),
    [
        (_auth_error, "credentials", "RACING_API_USERNAME / RACING_API_PASSWORD"),
        (_unavailable_error, "transient", "check the API status"),
        (_rate_limited_error, "transient", "check the API status"),
        (_database_error, "database", "check DARKHORSES_DATABASE_URL and that Postgres is running"),
        (_drift_error, "schema_drift", "no longer match its stored table"),
        (_request_error, "bad_request", "re-running the same request will fail the same way"),
        (_unreachable_error, "api_unreachable", "check RACING_API_BASE_URL"),
    ],
    ids=["401", "5xx", "429", "postgres-down", "schema-drift", "422", "api-unreachable"],
)
def test_the_hint_follows_the_kind_of_real_error(raise_error, kind, in_hint, simulator, postgres_url):
    with pytest.raises(Exception) as raised:
        raise_error(simulator, postgres_url)
    chosen_kind, hint = failure_hint(type(raised.value).__name__, str(raised.value))
    assert (chosen_kind, in_hint in hint) == (kind, True), (str(raised.value), hint)


@pytest.mark.parametrize(
    ("error_class", "error", "reason", "kind"),
    [
        ("DagsterAssetCheckFailedError", "1 blocking asset check failed with ERROR severity:\nraw/x: c", None,
         "data_check"),
        ("RacingApiIncomplete", "GET /v1/results?...: got 40 results where total=90 implies 50; refetch the day.",
         None, "incomplete"),
        ("Failure", "raw/raw_results: the API now returns fewer races than are stored for 1 race day(s) up to "
         "today: 2025-10-20 (41 stored, 3 now). Nothing was written: the stored races are kept.", "STEP_FAILURE",
         "worse_answer"),
        ("Failure", "raw/raw_results: 2 of 9 API page(s) could not be read (2025-10-20: 2; first error: invalid "
         "JSON: timed out). Nothing was written: the stored rows are kept, and the unreadable pages are archived",
         "STEP_FAILURE", "worse_answer"),
        ("ReadTimeout", "HTTPSConnectionPool(host='api.theracingapi.com', port=443): Read timed out.", None,
         "transient"),
        (None, 'Execution of run for "daily" failed. Run worker exited unexpectedly.', "UNEXPECTED_TERMINATION",
         "run_worker"),
        ("KeyError", "'race_id'", "STEP_FAILURE", "other"),
        ("RacingApiCredentialsMissing", "No Racing API credentials are set: set RACING_API_USERNAME and "
         "RACING_API_PASSWORD (theracingapi.com, My Account) before starting Dagster, or run `make dev`", None,
         "no_credentials"),
    ],
)
def test_the_hint_follows_the_error_text_and_the_failure_reason(error_class, error, reason, kind):
    assert failure_hint(error_class, error, reason)[0] == kind


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("cannot connect to Postgres at postgresql://dh:hunter2@127.0.0.1:5432/db: refused",
         "cannot connect to Postgres at postgresql://dh:***@127.0.0.1:5432/db: refused"),
        ("postgresql+psycopg2://user:p%40ss/w0rd@host/db", "postgresql+psycopg2://user:***@host/db"),
        ("host=db user=dh password='a b c' dbname=x", "host=db user=dh password=*** dbname=x"),
        ("GET /hook?token=abc123&x=1", "GET /hook?token=***&x=1"),
        ("https://example.com/path:8080 and no secret", "https://example.com/path:8080 and no secret"),
        ("user@example.com wrote", "user@example.com wrote"),
    ],
)
def test_redaction_removes_passwords_but_keeps_the_rest(text, redacted):
    assert redact_secrets(text) == redacted


def test_redaction_removes_known_secret_values_wherever_they_appear():
    environ = {"RACING_API_PASSWORD": "pw-XYZ", ALERT_WEBHOOK_ENV: "https://hooks.example/T0/B1/secretpath?k=v",
               "DARKHORSES_DATABASE_URL": "postgresql://dh:db-pw@h/db", "RACING_API_USERNAME": "dh"}
    secrets = known_secrets(environ)
    assert set(secrets) == {"pw-XYZ", "https://hooks.example/T0/B1/secretpath?k=v", "/T0/B1/secretpath?k=v",
                            "db-pw"}
    text = "auth pw-XYZ failed posting to /T0/B1/secretpath?k=v; db-pw too"
    assert redact_secrets(text, secrets) == "auth *** failed posting to ***; *** too"


@pytest.mark.parametrize(
    ("tags", "partitions"),
    [
        ({"dagster/partition": "2025-10-20"}, "2025-10-20"),
        ({"dagster/asset_partition_range_start": "2025-01-01", "dagster/asset_partition_range_end": "2025-03-31"},
         "2025-01-01..2025-03-31"),
        ({"dagster/asset_partition_range_start": "2025-01-01", "dagster/asset_partition_range_end": "2025-01-01"},
         "2025-01-01"),
        ({}, None),
    ],
)
def test_partitions_are_a_key_a_range_or_none(tags, partitions):
    assert failure_partitions(tags) == partitions


def test_without_step_failure_events_the_run_failure_events_error_is_reported(instance):
    run, event = fail(instance, [checked_table])
    failure = describe_failure(run, [], event, datetime(2025, 11, 1, tzinfo=UTC))
    assert failure.step_key is None and failure.failed_steps == ()
    assert failure.error_class == "DagsterAssetCheckFailedError"


def test_a_dagster_failure_reports_its_description(instance):
    description = ("raw/raw_results: the API now returns fewer races than are stored for 1 race day(s) up to today: "
                   "2025-10-20 (41 stored, 3 now). Nothing was written: the stored races are kept.")

    @dg.asset
    def guarded() -> None:
        raise dg.Failure(description=description, allow_retries=False)

    run, event = fail(instance, [guarded])
    steps = list(instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE))
    failure = describe_failure(run, [record.dagster_event for record in steps], event, datetime.now(UTC))
    assert (failure.error_class, failure.error, failure.kind) == ("Failure", description, "worse_answer")
    assert "stored partition was kept" in failure.hint
