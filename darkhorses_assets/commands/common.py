"""What every terminal command needs: one-line errors, dates checked against the partitions, the database
and the Dagster instance found the way `darkhorses dev` and `dagster` find them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

from darkhorses_assets import settings
from darkhorses_assets.settings import DAGSTER_STORAGE_URL_ENV, DATABASE_URL_ENV, SettingsError

USAGE_ERROR = 2
"""Exit code of a command refused for its input or its environment (argparse's own code for bad usage)."""
DAGSTER_HOME_ENV = "DAGSTER_HOME"
DAEMON_HEARTBEAT_TOLERANCE_S = 90
"""A daemon beats every 30 s: one whose last heartbeat is older than three beats is taken as not running."""


class CommandError(Exception):
    """A refused command: the message is one line saying what is wrong and what to do; exit code 2."""


def parse_day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{option} {text!r} is not a date written YYYY-MM-DD (e.g. 2025-06-01)") from None


def race_day_range(start: str, end: str) -> list[date]:
    """Every day of start … end, both checked to be race-day partitions and in order."""
    from darkhorses_assets.partitions import race_days

    first, last = parse_day(start, "--start"), parse_day(end, "--end")
    if first > last:
        raise CommandError(f"--start {first} is after --end {last}")
    lowest = date.fromisoformat(race_days.get_first_partition_key())
    highest = date.fromisoformat(race_days.get_last_partition_key())
    for option, day in (("--start", first), ("--end", last)):
        if not lowest <= day <= highest:
            raise CommandError(
                f"{option} {day} is outside the race-day partitions {lowest} … {highest} (the first is "
                f"{settings.START_DATE_ENV}, the last a week ahead of today)")
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def database_url() -> str:
    """The warehouse URL: DARKHORSES_DATABASE_URL, else the embedded Postgres `darkhorses dev` runs (reused,
    never started here). Raises CommandError when neither answers, saying which variable or `make dev`."""
    from darkhorses_assets.io.client import DatabaseConnectionError, PostgresClient
    from darkhorses_assets.local.postgres import start_local_postgres

    try:
        url = settings.database_url()
    except SettingsError as error:
        raise CommandError(str(error)) from None
    if url is None:
        data_dir = settings.state_dir() / "pgdata"
        if not (data_dir / "postmaster.pid").exists():
            raise CommandError(
                f"no database: {DATABASE_URL_ENV} is not set and the embedded Postgres (data in {data_dir}) is "
                f"not running; set {DATABASE_URL_ENV}=postgresql://user:pass@host:5432/db or start `make dev`")
        url = start_local_postgres(data_dir).url()  # the running server, reused
    try:
        with PostgresClient(url).connect() as conn:
            conn.execute("SELECT 1")
    except DatabaseConnectionError as error:
        raise CommandError(f"no database: {error}") from None
    return url


def dagster_home() -> Path:
    """DAGSTER_HOME when set (as `dagster` reads it), else the one `darkhorses dev` keeps in the state folder."""
    value = os.environ.get(DAGSTER_HOME_ENV, "").strip()
    if value:
        home = Path(value).expanduser().resolve()
        if not home.is_dir():
            raise CommandError(f"{DAGSTER_HOME_ENV}={value} is not a folder; point it at your Dagster instance")
        return home
    home = settings.state_dir() / "dagster_home"
    if not (home / "dagster.yaml").exists():
        raise CommandError(
            f"no Dagster instance: {DAGSTER_HOME_ENV} is not set and {home} has no dagster.yaml; run `make dev` "
            f"once (it creates it) or set {DAGSTER_HOME_ENV}")
    return home


@contextmanager
def open_instance() -> Iterator:
    """The Dagster instance of `dagster_home()`. A dagster.yaml reading its storage from
    DARKHORSES_DAGSTER_STORAGE_URL gets the URL `darkhorses dev` would give it when the variable is unset."""
    from dagster import DagsterInstance

    from darkhorses_assets.local.postgres import sqlalchemy_psycopg2_url

    home = dagster_home()
    config = home / "dagster.yaml"
    wants_storage_url = config.exists() and DAGSTER_STORAGE_URL_ENV in config.read_text()
    if wants_storage_url and not os.environ.get(DAGSTER_STORAGE_URL_ENV, "").strip():
        os.environ[DAGSTER_STORAGE_URL_ENV] = sqlalchemy_psycopg2_url(database_url())
    try:
        instance = DagsterInstance.from_config(str(home))
    except Exception as error:  # noqa: BLE001 - any load failure becomes one line
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise CommandError(f"cannot open the Dagster instance in {home}: {first_line}") from None
    with instance:
        yield instance


def load_definitions():
    """The project's Definitions (the code location `dagster dev` loads)."""
    try:
        from darkhorses_assets.definitions import defs
    except SettingsError as error:
        raise CommandError(str(error).splitlines()[0]) from None
    return defs
