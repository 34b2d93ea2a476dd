"""Everything a local run needs, started on demand: Postgres and, without real credentials, the simulator.

`dagster dev`, the tests and the benchmarks all go through `local_services`, so they see one set-up.
"""

from __future__ import annotations

import logging
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from darkhorses_assets import settings
from darkhorses_assets.local.postgres import (
    project_state_dir,
    sqlalchemy_psycopg2_url,
    start_local_postgres,
)
from darkhorses_assets.settings import DAGSTER_STORAGE_URL_ENV, DATABASE_URL_ENV

_log = logging.getLogger(__name__)


@dataclass
class LocalServices:
    env: dict[str, str] = field(default_factory=dict)
    """Environment variables that point Dagster, the IO manager and the API client at the services."""
    simulator: object | None = None
    description: list[str] = field(default_factory=list)


@contextmanager
def local_services(
    state_dir: Path | None = None,
    *,
    simulator_port: int | None = None,
    simulator_rate_per_s: float = 2.0,
    simulator_today=None,
    simulator_now=None,
    simulator_time_scale: float = 1.0,
    stop_postgres: bool = True,
    force_simulator: bool = False,
    simulator_process: bool = False,
) -> Iterator[LocalServices]:
    """Start what is missing; on exit stop what this call started (Postgres only if it wasn't running).

    `force_simulator` ignores real credentials (benchmarks must never spend a real subscription's requests).
    `simulator_today` / `simulator_now` / `simulator_time_scale` set the simulator's clock (see SimulatorConfig).
    `simulator_process` serves the simulator from a child process (clock: `simulator_today` only) instead of a
    thread of this one: work run in this process then shares no interpreter lock with it, as it shares none
    with the real API or with `darkhorses dev`'s simulator.
    """
    state_dir = state_dir or project_state_dir()
    services = LocalServices()
    real_api = not force_simulator and settings.racing_api_credentials_set()
    with ExitStack() as stack:
        database_url = settings.database_url()
        if database_url:
            services.description.append("Postgres: DARKHORSES_DATABASE_URL")
        else:
            data_dir = state_dir / "pgdata"
            local = start_local_postgres(data_dir)
            if stop_postgres and local.started_here:
                stack.callback(local.stop)
            database_url = local.url()
            services.description.append(f"Postgres: embedded, data in {data_dir}")
        services.env[DATABASE_URL_ENV] = database_url
        services.env[DAGSTER_STORAGE_URL_ENV] = sqlalchemy_psycopg2_url(database_url)

        if real_api:
            services.description.append("Racing API: the real API (credentials from the environment)")
        else:
            from darkhorses_assets.racing_api.simulator import SimulatorConfig, SimulatorServer
            from darkhorses_assets.racing_api.simulator.faults import Faults

            config = SimulatorConfig(rate_limit_per_s=simulator_rate_per_s, today=simulator_today,
                                     now=simulator_now, time_scale=simulator_time_scale,
                                     faults=Faults(**settings.sim_faults()))
            port = simulator_port if simulator_port is not None else settings.simulator_port()
            if simulator_process:
                if simulator_now is not None or simulator_time_scale != 1.0:
                    raise ValueError("simulator_process takes the clock from simulator_today only")
                url = stack.enter_context(_simulator_child(config, port))
            else:
                services.simulator = stack.enter_context(SimulatorServer(config, host="127.0.0.1", port=port))
                url = services.simulator.url
            services.env.update(
                RACING_API_BASE_URL=url,
                RACING_API_USERNAME=config.username,
                RACING_API_PASSWORD=config.password,
            )
            services.description.append(f"Racing API: simulator at {url} (no credentials set)")
        yield services


@contextmanager
def _simulator_child(config, port: int) -> Iterator[str]:
    """`python -m darkhorses_assets.racing_api.simulator` with `config`'s credentials, rate and day on loopback;
    its base URL once it listens. Stopped (SIGTERM, then killed) on exit."""
    command = [sys.executable, "-m", "darkhorses_assets.racing_api.simulator", "--host", "127.0.0.1",
               "--port", str(port), "--seed", str(config.seed), "--username", config.username,
               "--password", config.password, "--rate-limit", str(config.rate_limit_per_s)]
    if config.today is not None:
        command += ["--today", config.today.isoformat()]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        line = child.stdout.readline()
        listening = re.search(r"listening on (http://\S+)", line)
        if listening is None:
            raise RuntimeError(f"the simulator process did not start (exit code {child.wait()}): {line.strip()!r}")
        yield listening.group(1)
    finally:
        child.terminate()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
