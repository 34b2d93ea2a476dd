"""The failure kinds of issue 14, each made real: a bad database URL, a refusing server, a simulator, a closed port.

Shared by test_secrets.py (no secret anywhere after each) and test_fail_fast.py (retry only what can pass).
Each kind builds the settings a user could have — DARKHORSES_DATABASE_URL, RACING_API_PASSWORD,
RACING_API_BASE_URL — around a secret, runs one raw asset against the real Postgres and simulator and hands back
the result. Settings go through the environment and `EnvVar`, as in the project's definitions.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import dagster as dg

from darkhorses_assets.io import PostgresPolarsIOManager
from darkhorses_assets.io.warehouse import WarehouseResource
from darkhorses_assets.racing_api.client import RacingApiResource
from darkhorses_assets.racing_api.recording import write_recording
from darkhorses_assets.racing_api.simulator import Faults, SimulatorConfig, SimulatorServer

SIM_TODAY = date(2025, 10, 10)
DAY = date(2025, 10, 7)
USER = "darkhorses"
CLIENT_ATTEMPTS = 2
"""The client's own attempts per request in these tests (the project's default is 8 over up to 180 s)."""
FAST_RETRY = dg.RetryPolicy(max_retries=1, delay=0)
"""A step retry that does not wait: to watch a transient failure being retried within a second."""


def new_secret() -> str:
    """A password no log line could contain by chance."""
    return f"Pw{uuid.uuid4().hex[:20]}"


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class DatabaseKind:
    """A DARKHORSES_DATABASE_URL that cannot work; `secrets(secret)` are the strings that must not leak."""

    name: str
    url: str  # template: {secret}, {db} (the test database), {socket} (the embedded server's socket folder)
    retryable: bool
    says: str  # a fragment the error must contain: what is wrong
    split_secret: bool = False  # the URL holds the secret in two halves around an unescaped '@'

    def build(self, secret: str, postgres_url: str) -> str:
        parts = urlsplit(postgres_url)
        socket_dir = parse_qs(parts.query).get("host", ["/tmp"])[0]
        if self.split_secret:
            secret = f"{secret[:11]}@{secret[11:]}"
        return self.url.format(secret=secret, db=parts.path.lstrip("/"), socket=socket_dir, port=closed_port())

    def secrets(self, secret: str) -> list[str]:
        return [secret[:11], secret[11:]] if self.split_secret else [secret]


DATABASE_KINDS = [
    DatabaseKind("no_scheme", "dh_user:{secret}@localhost:5432/racing", False, "it has no scheme"),
    DatabaseKind("bad_percent_escape", "postgresql://dh_user:{secret}%zz@localhost:5432/racing", False,
                 "not followed by two hex digits"),
    DatabaseKind("unescaped_at_in_password", "postgresql://dh_user:{secret}@localhost:5432/racing", False,
                 "unescaped @", split_secret=True),
    # The embedded server trusts its socket, so it accepts any password for a real role; what it does refuse
    # at login is a role it does not know — the same FATAL path as a wrong password on a server that checks.
    DatabaseKind("refused_role", "postgresql://dh_nobody:{secret}@/{db}?host={socket}", False,
                 "FATAL: role"),
    DatabaseKind("refused_role_keyword_conninfo", "host={socket} user=dh_nobody password={secret} dbname={db}",
                 False, "FATAL: role"),
    DatabaseKind("unreachable_host", "postgresql://dh_user:{secret}@127.0.0.1:{port}/racing", True,
                 "Connection refused"),
]


@dataclass(frozen=True)
class ApiKind:
    """A Racing API failure: which raw asset meets it, and how the simulator or the settings cause it."""

    name: str
    asset_name: str
    day: date | None
    retryable: bool
    says: str
    sim_password: str | None = None  # None: the client's own (correct) password
    faults: Faults = field(default_factory=Faults)
    replay: bool = False  # serve crafted recordings: page 2 reports a different total than page 1
    refused: bool = False  # point RACING_API_BASE_URL at a closed port


API_KINDS = [
    ApiKind("auth_401", "raw_results", DAY, False, "rejected the credentials (401)", sim_password="other-password"),
    ApiKind("request_422", "raw_racecards", SIM_TODAY + timedelta(days=10), False, "(422)"),
    ApiKind("total_changed", "raw_results", DAY, False, "total changed from 60 to 59", replay=True),
    ApiKind("connection_refused", "raw_courses", None, False, "RACING_API_BASE_URL", refused=True),
    ApiKind("burst_of_503", "raw_courses", None, True, "HTTP 503", faults=Faults(fail_first={"503": CLIENT_ATTEMPTS})),
]


def write_total_changed_recordings(directory: Path, day: date) -> None:
    """Two result pages of `day` whose totals disagree (60, then 59), as the simulator's replay mode serves them."""
    params = {"start_date": day.isoformat(), "end_date": day.isoformat(), "region": ["gb", "ire"], "limit": "50"}
    first = [{"race_id": f"rac_{n}", "date": day.isoformat()} for n in range(50)]
    write_recording(directory, "/v1/results", {**params, "skip": "0"}, 200, {"results": first, "total": 60})
    write_recording(directory, "/v1/results", {**params, "skip": "50"}, 200, {"results": [], "total": 59})


@contextmanager
def simulator_for(kind: ApiKind | None, secret: str, tmp_path: Path) -> Iterator[SimulatorServer]:
    """A simulator whose credential is (USER, secret) unless the kind says otherwise."""
    replay_dir = None
    if kind is not None and kind.replay:
        replay_dir = tmp_path / "replay"
        replay_dir.mkdir()
        write_total_changed_recordings(replay_dir, DAY)
    password = kind.sim_password if kind is not None and kind.sim_password else secret
    config = SimulatorConfig(today=SIM_TODAY, rate_limit_per_s=0, username=USER, password=password,
                             faults=kind.faults if kind is not None else Faults(), replay_dir=replay_dir)
    with SimulatorServer(config, port=0) as sim:
        yield sim


def resources(base_url: str) -> dict:
    """The project's resources as `definitions.default_resources` builds them (settings via EnvVar), with a
    fast client: CLIENT_ATTEMPTS attempts per request, millisecond backoff."""
    return {
        "io_manager": PostgresPolarsIOManager(database_url=dg.EnvVar("DARKHORSES_DATABASE_URL")),
        "warehouse": WarehouseResource(database_url=dg.EnvVar("DARKHORSES_DATABASE_URL")),
        "racing_api": RacingApiResource(
            base_url=base_url, username=dg.EnvVar("RACING_API_USERNAME"), password=dg.EnvVar("RACING_API_PASSWORD"),
            requests_per_second=1000, max_attempts=CLIENT_ATTEMPTS, retry_initial_wait_s=0.01,
            retry_max_wait_s=0.05, timeout_s=5,
        ),
    }


def materialize_one(asset: dg.AssetsDefinition, day: date | None, base_url: str,
                    instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    """One run of `asset` (one partition, or unpartitioned) on `instance`; the environment holds the settings."""
    return dg.materialize([asset], partition_key=day.isoformat() if day else None, resources=resources(base_url),
                          instance=instance, raise_on_error=False)


def step_retried(instance: dg.DagsterInstance, run_id: str) -> bool:
    """Whether the run's RetryPolicy re-ran a step (a STEP_UP_FOR_RETRY event in the stored event log)."""
    return any(entry.dagster_event is not None
               and entry.dagster_event.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY
               for entry in instance.all_logs(run_id))


def step_failure_messages(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """Each failed step's error, causes included, as stored in the event log."""
    messages = []
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
        error = entry.dagster_event.step_failure_data.error
        text = []
        while error is not None:
            text.append(error.message)
            error = error.cause
        messages.append("\n".join(text))
    return messages
