"""No secret in any error, log, metadata or stored event (issue 14).

For each failure kind — a DARKHORSES_DATABASE_URL without a scheme, with a bad `%` escape, with an unescaped
`@` in its password, refused by the real server (URL and keyword forms), pointing at a closed port; the Racing
API answering 401, 422, a paging total that changed, a burst of 503s; RACING_API_BASE_URL refusing
connections — a raw asset runs for real (embedded Postgres, simulator over HTTP) on a Dagster instance with
its own event log and compute logs, and the password is looked for in the console output, every stored event
(serialized, metadata and error causes included), the run record, the compute log files and the raised errors.
"""

from __future__ import annotations

import base64
import traceback
from pathlib import Path

import dagster as dg
import pytest
from dagster._serdes import serialize_value

from darkhorses_assets.assets.raw import build_raw_assets
from darkhorses_assets.io import PostgresClient, PostgresPolarsIOManager, redact_url
from darkhorses_assets.io.client import DatabaseConnectionError, database_url_problem
from darkhorses_assets.racing_api.client import RacingApiResource
from darkhorses_assets.racing_api.errors import RacingApiError
from darkhorses_assets_tests.failure_kinds import (
    API_KINDS,
    DATABASE_KINDS,
    FAST_RETRY,
    USER,
    ApiKind,
    DatabaseKind,
    closed_port,
    materialize_one,
    new_secret,
    simulator_for,
    step_failure_messages,
)

ASSETS = {assets_def.key.path[-1]: assets_def for assets_def in build_raw_assets(FAST_RETRY)}
"""The raw assets with a step retry that does not wait, so the transient kinds finish in a second too."""


@pytest.fixture
def instance(tmp_path):
    """A Dagster instance of its own: sqlite event log and a LocalComputeLogManager under tmp_path/dagster."""
    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
        yield instance


def leaks(secrets: list[str], places: dict[str, str]) -> list[str]:
    """`where: secret` for each secret (or its HTTP Basic form) found in one of `places`."""
    forms = [form for secret in secrets
             for form in (secret, base64.b64encode(f"{USER}:{secret}".encode()).decode())]
    return [f"{where}: {form}" for where, text in places.items() for form in forms if form in text]


def places_of(run_id: str, instance: dg.DagsterInstance, console: str, tmp_path: Path) -> dict[str, str]:
    """Every place a run writes text to: console, stored events, the run record, the compute log files."""
    compute_logs = [path for path in (tmp_path / "dagster").rglob("compute_logs/*") if path.is_file()]
    assert any(path.suffix == ".err" for path in compute_logs), "no compute log captured: the scan would be blind"
    return {
        "console": console,
        "event log": "\n".join(serialize_value(entry) for entry in instance.all_logs(run_id)),
        "run record": serialize_value(instance.get_run_by_id(run_id)),
        "compute logs": "\n".join(path.read_text(errors="replace") for path in compute_logs),
    }


def run_and_scan(asset_name: str, day, base_url: str, secrets: list[str], says: str, instance, capfd,
                 tmp_path) -> dg.ExecuteInProcessResult:
    result = materialize_one(ASSETS[asset_name], day, base_url, instance)
    console = capfd.readouterr()
    places = places_of(result.run_id, instance, console.out + console.err, tmp_path)
    assert leaks(secrets, places) == []
    assert says in places["event log"] and says in places["console"], "the scan must see the failure itself"
    return result


@pytest.mark.parametrize("kind", DATABASE_KINDS, ids=lambda kind: kind.name)
def test_a_failing_database_url_leaks_its_password_nowhere(kind: DatabaseKind, postgres_url, instance, capfd,
                                                           tmp_path, monkeypatch):
    secret = new_secret()
    url = kind.build(secret, postgres_url)
    monkeypatch.setenv("DARKHORSES_DATABASE_URL", url)
    monkeypatch.setenv("RACING_API_USERNAME", USER)
    monkeypatch.setenv("RACING_API_PASSWORD", secret)
    with simulator_for(None, secret, tmp_path) as sim:
        result = run_and_scan("raw_courses", None, sim.url, kind.secrets(secret), kind.says, instance, capfd,
                              tmp_path)
    assert not result.success
    (message, *_) = step_failure_messages(instance, result.run_id)
    assert "DARKHORSES_DATABASE_URL" in message and "***" in message

    with pytest.raises(DatabaseConnectionError) as raised, PostgresClient(url).connect():
        pass
    error = raised.value
    assert kind.says in str(error)
    raised_texts = {"str": str(error), "repr": repr(error), "client repr": repr(PostgresClient(url)),
                    "traceback": "".join(traceback.format_exception(error)), "redact_url": redact_url(url)}
    assert leaks(kind.secrets(secret), raised_texts) == []
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__), (
        "psycopg's own message (which may echo the password) must not be chained to ours"
    )


@pytest.mark.parametrize("kind", API_KINDS, ids=lambda kind: kind.name)
def test_a_failing_racing_api_leaks_its_password_nowhere(kind: ApiKind, postgres_url, instance, capfd, tmp_path,
                                                         monkeypatch):
    secret = new_secret()
    monkeypatch.setenv("DARKHORSES_DATABASE_URL", postgres_url)
    monkeypatch.setenv("RACING_API_USERNAME", USER)
    monkeypatch.setenv("RACING_API_PASSWORD", secret)
    with simulator_for(kind, secret, tmp_path) as sim:
        base_url = f"http://127.0.0.1:{closed_port()}" if kind.refused else sim.url
        result = run_and_scan(kind.asset_name, kind.day, base_url, [secret], kind.says, instance, capfd, tmp_path)
        assert result.success is kind.retryable  # a burst of 503s passes on the step's retry; the rest fail

        api = RacingApiResource(base_url=base_url, username=USER, password=secret, requests_per_second=1000,
                                max_attempts=1)
        fetch = {"raw_results": lambda: api.fetch_results_day(kind.day),
                 "raw_racecards": lambda: api.fetch_racecards_day(kind.day),
                 "raw_courses": api.fetch_courses}[kind.asset_name]
        if kind.retryable:
            return
        with pytest.raises(RacingApiError) as raised:
            fetch()
    error = raised.value
    assert kind.says in str(error)
    raised_texts = {"str": str(error), "repr": repr(error), "client repr": repr(api), "client str": str(api),
                    "traceback": "".join(traceback.format_exception(error))}
    assert leaks([secret], raised_texts) == []


@pytest.mark.parametrize("url", [
    "user:{pw}@db.example:5432/racing",
    "postgresql://user:{pw}%@db.example/racing",
    "postgresql://user:{pw}@db.example/racing?sslmode=require",
    "postgresql://user:a/{pw}@db.example/racing",
    "postgresql://user:{pw}@x@db.example/racing",
    "postgresql://user@db.example/racing?password={pw}&sslmode=require",
    "postgresql+psycopg2://user:{pw}@db.example/racing",
    "host=db.example user=user password={pw} dbname=racing",
    "host=db.example user=user password='{pw} with spaces' dbname=racing",
    "postgresql://user:{pw}@[::1/racing",
], ids=["no-scheme", "bad-escape", "plain", "slash", "two-ats", "query", "driver", "keyword", "quoted", "bad-ipv6"])
def test_redact_url_hides_the_password_of_any_url_and_keeps_the_rest(url):
    secret = new_secret()
    url = url.format(pw=secret)
    redacted = redact_url(url)
    assert secret not in redacted and "***" in redacted
    assert "db.example" in redacted or "::1" in redacted
    assert "user" in redacted
    problem = database_url_problem(url)
    assert problem is None or secret not in problem


def test_the_scan_finds_a_password_that_does_leak(postgres_url, instance, capfd, tmp_path, monkeypatch):
    """The scan can fail: an asset that prints and logs the database URL is caught in every place."""
    secret = new_secret()
    url = f"{postgres_url.replace('postgres@', f'postgres:{secret}@')}"
    monkeypatch.setenv("DARKHORSES_DATABASE_URL", url)

    @dg.asset
    def careless(context) -> None:
        print(f"connecting to {url}")
        context.log.info(f"connecting to {url}")
        context.add_output_metadata({"url": url})
        raise dg.Failure(description=f"failed on {url}")

    result = dg.materialize([careless], instance=instance, raise_on_error=False,
                            resources={"io_manager": PostgresPolarsIOManager(
                                database_url=dg.EnvVar("DARKHORSES_DATABASE_URL"))})
    console = capfd.readouterr()
    found = leaks([secret], places_of(result.run_id, instance, console.out + console.err, tmp_path))
    assert {leak.split(":")[0] for leak in found} == {"console", "event log", "compute logs"}
