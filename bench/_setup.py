"""What every benchmark needs: a scratch database, a Dagster instance on Postgres, the simulator, resources."""

from __future__ import annotations

import os
import resource
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from dagster import DagsterInstance

from darkhorses_assets.instance_settings import configure_dagster_process
from darkhorses_assets.io import PostgresPolarsIOManager
from darkhorses_assets.io.warehouse import WarehouseResource
from darkhorses_assets.local.postgres import (
    DATABASE_URL_ENV,
    drop_database,
    ensure_database,
    sqlalchemy_psycopg2_url,
    with_database,
)
from darkhorses_assets.local.services import local_services
from darkhorses_assets.racing_api.client import RacingApiResource
from darkhorses_assets.settings import DAGSTER_STORAGE_URL_ENV

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BENCH_DATABASE = "darkhorses_bench"
configure_dagster_process()
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))  # the tests' support package: synthetic histories for bench/features.py


@dataclass
class Bench:
    database_url: str
    instance: DagsterInstance
    resources: dict
    api_url: str


@contextmanager
def bench_environment(*, api_rate_per_s: float = 2.0, simulator_today=None, fresh: bool = True) -> Iterator[Bench]:
    """Embedded Postgres (or DARKHORSES_DATABASE_URL's server) with a fresh `darkhorses_bench` database (kept as
    it is with `fresh=False`) and the simulator (never the real API); Dagster storage in that database through
    the project's dagster.yaml."""
    with local_services(simulator_rate_per_s=api_rate_per_s, simulator_today=simulator_today,
                        force_simulator=True) as services, tempfile.TemporaryDirectory() as dagster_home:
        server_url = services.env[DATABASE_URL_ENV]
        if fresh:
            drop_database(with_database(server_url, "postgres"), BENCH_DATABASE)  # no stale runs or pool slots
        ensure_database(with_database(server_url, "postgres"), BENCH_DATABASE)
        database_url = with_database(server_url, BENCH_DATABASE)
        os.environ[DAGSTER_STORAGE_URL_ENV] = sqlalchemy_psycopg2_url(database_url)
        (Path(dagster_home) / "dagster.yaml").write_text((PROJECT_ROOT / "dagster.yaml").read_text())
        env = services.env
        yield Bench(
            database_url=database_url,
            instance=DagsterInstance.from_config(dagster_home),
            resources={
                "io_manager": PostgresPolarsIOManager(database_url=database_url),
                "warehouse": WarehouseResource(database_url=database_url),
                "racing_api": RacingApiResource(
                    base_url=env["RACING_API_BASE_URL"], username=env["RACING_API_USERNAME"],
                    password=env["RACING_API_PASSWORD"],
                    requests_per_second=api_rate_per_s if api_rate_per_s > 0 else 1000.0,
                ),
            },
            api_url=env["RACING_API_BASE_URL"],
        )


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
