"""What every benchmark needs: a scratch database, a Dagster instance on Postgres, the simulator, resources."""

from __future__ import annotations

import fcntl
import os
import resource
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil
from dagster import DagsterInstance

from darkhorses_assets import settings
from darkhorses_assets.instance_settings import configure_dagster_process
from darkhorses_assets.io import PostgresPolarsIOManager
from darkhorses_assets.io.warehouse import WarehouseResource
from darkhorses_assets.local.postgres import (
    DATABASE_URL_ENV,
    drop_database,
    ensure_database,
    sqlalchemy_psycopg2_url,
    start_local_postgres,
    with_database,
)
from darkhorses_assets.local.services import local_services
from darkhorses_assets.racing_api.client import RacingApiResource
from darkhorses_assets.settings import DAGSTER_STORAGE_URL_ENV

PROJECT_ROOT = Path(__file__).resolve().parent.parent
configure_dagster_process()
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))  # the tests' support package: synthetic histories for bench/features.py


@dataclass
class Bench:
    database_url: str
    instance: DagsterInstance
    resources: dict
    dagster_home: str
    env: dict[str, str]
    """The local services' environment: database, simulator URL and its credentials."""

    @property
    def api_url(self) -> str:
        return self.env["RACING_API_BASE_URL"]


def bench_name() -> str:
    """The running bench script's name (`clean` for bench/clean.py): its database and lock are its own."""
    return Path(sys.argv[0]).stem or "bench"


@contextmanager
def _only_instance(name: str) -> Iterator[None]:
    """Hold `<state dir>/bench_<name>.lock` for the bench's run: the same bench started twice fails at once."""
    lock_path = settings.state_dir() / f"bench_{name}.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SystemExit(f"bench/{name}.py is already running (lock {lock_path}); wait for it to finish") from None
        yield


@contextmanager
def bench_postgres() -> Iterator[str]:
    """The admin URL of the Postgres a bench without Dagster measures against (DARKHORSES_DATABASE_URL's server,
    else the embedded one, stopped at the end if this bench started it); the bench's lock is held meanwhile."""
    with _only_instance(bench_name()):
        external = settings.database_url()
        if external:
            yield with_database(external, "postgres")
            return
        local = start_local_postgres()
        try:
            yield local.url("postgres")
        finally:
            if local.started_here:
                local.stop()


@contextmanager
def bench_environment(*, api_rate_per_s: float = 2.0, simulator_today=None, fresh: bool = True,
                      simulator_process: bool = False) -> Iterator[Bench]:
    """Embedded Postgres (or DARKHORSES_DATABASE_URL's server) with a fresh database of this bench's own,
    `darkhorses_bench_<script>` (kept as it is with `fresh=False`), and the simulator (never the real API);
    Dagster storage in that database through the project's dagster.yaml. Two benches never share a database, the
    same bench cannot run twice at once, and an embedded Postgres this bench started is stopped when it ends.
    `simulator_process`: the simulator answers from a process of its own, as the real API would (a bench that
    times the API-bound part must not count the simulator's own work as the pipeline's)."""
    name = bench_name()
    database = f"darkhorses_bench_{name}"
    with _only_instance(name), local_services(simulator_rate_per_s=api_rate_per_s, simulator_today=simulator_today,
                                              force_simulator=True, simulator_process=simulator_process) \
            as services, \
            tempfile.TemporaryDirectory() as dagster_home:
        server_url = services.env[DATABASE_URL_ENV]
        if fresh:
            drop_database(with_database(server_url, "postgres"), database)  # no stale runs or pool slots
        ensure_database(with_database(server_url, "postgres"), database)
        database_url = with_database(server_url, database)
        os.environ[DAGSTER_STORAGE_URL_ENV] = sqlalchemy_psycopg2_url(database_url)
        (Path(dagster_home) / "dagster.yaml").write_text((PROJECT_ROOT / "dagster.yaml").read_text())
        yield Bench(
            database_url=database_url,
            instance=DagsterInstance.from_config(dagster_home),
            resources=bench_resources(database_url, services.env, api_rate_per_s),
            dagster_home=dagster_home,
            env=services.env,
        )


def bench_resources(database_url: str, env: dict[str, str], api_rate_per_s: float) -> dict:
    """The resources of a bench's runs, built from plain values: a child process builds its own (a resource's
    lock does not pickle)."""
    return {
        "io_manager": PostgresPolarsIOManager(database_url=database_url),
        "warehouse": WarehouseResource(database_url=database_url),
        "racing_api": RacingApiResource(
            base_url=env["RACING_API_BASE_URL"], username=env["RACING_API_USERNAME"],
            password=env["RACING_API_PASSWORD"],
            requests_per_second=api_rate_per_s if api_rate_per_s > 0 else 1000.0,
        ),
    }


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class TreeRssPeak:
    """The peak of this process's RSS plus its descendants' at the same moment (sampled every 50 ms): what a
    bench that runs work in child processes needs of the machine, not one process's share."""

    def __init__(self) -> None:
        self.peak_mb = 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> TreeRssPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join()

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._done.wait(0.05):
            total = 0
            for process in [me, *me.children(recursive=True)]:
                try:
                    total += process.memory_info().rss
                except psutil.Error:
                    pass  # ended between listing and reading
            self.peak_mb = max(self.peak_mb, total / 2**20)
