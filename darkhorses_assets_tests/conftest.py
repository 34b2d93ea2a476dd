"""Shared fixtures: a real Postgres (embedded unless DARKHORSES_DATABASE_URL is set), a fresh database per test."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest

from darkhorses_assets.instance_settings import configure_dagster_process
from darkhorses_assets.local.postgres import (
    DATABASE_URL_ENV,
    drop_database,
    ensure_database,
    project_state_dir,
    start_local_postgres,
    stop_local_postgres,
    with_database,
)
from darkhorses_assets.racing_api.limiter import reset_shared_buckets
from darkhorses_assets.transforms.racecards import parse_racecards
from darkhorses_assets_tests.racecard_sample import sample_cards

configure_dagster_process()  # as every Dagster process of the project does, before a test module defines assets

FIXTURES = Path(__file__).parent / "fixtures"
_STARTED_POSTGRES = pytest.StashKey[bool]()


def _runs_workers(config: pytest.Config) -> bool:
    """This process hands tests to pytest-xdist workers (`make test` runs `-n 2`)."""
    return bool(getattr(config.option, "numprocesses", None)) and not hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    """Under xdist, the controller owns the embedded Postgres: each worker's `postgres_admin_url` finds it running
    and leaves it be, and it is stopped once, after the last worker is done."""
    if _runs_workers(config) and not os.environ.get(DATABASE_URL_ENV):
        data_dir = project_state_dir() / "pgdata"
        config.stash[_STARTED_POSTGRES] = not (data_dir / "postmaster.pid").exists()
        start_local_postgres(data_dir)


def pytest_unconfigure(config: pytest.Config) -> None:
    if config.stash.get(_STARTED_POSTGRES, False):
        stop_local_postgres(project_state_dir() / "pgdata")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Slow tests (each starts Dagster processes or drives a whole simulated day) run one after another on one
    xdist worker: timing bounds such as "slot freed within 2 minutes" hold when two of them never compete for
    the two cores, while the other worker runs the rest."""
    for item in items:
        if item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.xdist_group("slow"))


@pytest.fixture(scope="session")
def postgres_admin_url():
    """URL of a maintenance database on a real server; the embedded one is stopped afterwards if we started it."""
    external = os.environ.get(DATABASE_URL_ENV)
    if external:
        yield with_database(external, "postgres")
        return
    data_dir = project_state_dir() / "pgdata"
    was_running = (data_dir / "postmaster.pid").exists()
    local = start_local_postgres(data_dir)
    yield local.url("postgres")
    if not was_running:
        local.stop()


@pytest.fixture
def postgres_url(postgres_admin_url):
    """A brand-new empty database for one test, dropped afterwards."""
    name = f"dh_test_{uuid.uuid4().hex[:12]}"
    ensure_database(postgres_admin_url, name)
    yield with_database(postgres_admin_url, name)
    drop_database(postgres_admin_url, name)


@pytest.fixture
def scratch_dir():
    """A folder for our own servers' data outside pytest's base temporary folder: a pytest session starting
    meanwhile (another user of the checkout) resets that base to 0700, cutting the server's user off mid-start."""
    folder = Path(tempfile.mkdtemp(prefix="dh-pgtest-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def own_server():
    """Start servers on the given data directories; every one is stopped afterwards."""
    started: list[Path] = []

    def start(data_dir: Path):
        started.append(data_dir)
        return start_local_postgres(data_dir)

    yield start
    for data_dir in started:
        stop_local_postgres(data_dir)


@pytest.fixture(scope="session")
def cards() -> list[dict]:
    """The real pro-racecard sample's races (`racecard_sample`)."""
    return sample_cards()


@pytest.fixture(scope="session")
def frames(cards):
    """The sample parsed by `parse_racecards`."""
    return parse_racecards(cards)


@pytest.fixture(autouse=True)
def fresh_limiters():
    """Every test starts with no API rate-limiter state: ports get reused between tests, and a stale bucket
    of an earlier simulator must not pace this one."""
    reset_shared_buckets()
    yield
    reset_shared_buckets()
