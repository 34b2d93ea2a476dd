"""What every terminal command needs: one-line errors, dates checked against the partitions, the database
and the Dagster instance found the way `darkhorses dev` and `dagster` find them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

from darkhorses_assets import settings
from darkhorses_assets.settings import DATABASE_URL_ENV, SettingsError

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
    """The warehouse URL: DARKHORSES_DATABASE_URL, else the embedded Postgres `make dev` uses (started on first
    use, as every process of the project does). Raises CommandError when it does not answer, saying which
    variable to fix or to run `make dev`."""
    from darkhorses_assets.io.client import DatabaseConnectionError, PostgresClient
    from darkhorses_assets.local.postgres import embedded_database_url

    try:
        url = settings.database_url()
    except SettingsError as error:
        raise CommandError(str(error)) from None
    if url is None:
        try:
            url = embedded_database_url()
        except Exception as error:  # noqa: BLE001 - whatever stopped it, one line
            raise CommandError(
                f"no database: {DATABASE_URL_ENV} is not set and the embedded Postgres did not start "
                f"({_first_line(error)}); set {DATABASE_URL_ENV}=postgresql://user:pass@host:5432/db or run "
                "`make dev`") from None
    try:
        with PostgresClient(url).connect() as conn:
            conn.execute("SELECT 1")
    except DatabaseConnectionError as error:
        raise CommandError(f"no database: {error}") from None
    return url


def dagster_home() -> Path:
    """DAGSTER_HOME when set (as `dagster` reads it), else the one `darkhorses dev` keeps in the state folder
    (made as `darkhorses dev` makes it: a copy of the project's dagster.yaml, storage in the same Postgres)."""
    value = os.environ.get(DAGSTER_HOME_ENV, "").strip()
    if value:
        home = Path(value).expanduser().resolve()
        if not (home / "dagster.yaml").is_file():
            raise CommandError(f"{DAGSTER_HOME_ENV}={value} has no dagster.yaml; point it at your Dagster instance")
        return home
    from darkhorses_assets.cli import prepare_dagster_home

    try:
        return prepare_dagster_home(settings.state_dir())
    except SettingsError as error:
        raise CommandError(str(error)) from None


@contextmanager
def open_instance() -> Iterator:
    """The Dagster instance of `dagster_home()`, checked to answer (its storage may be a Postgres that is down)."""
    from dagster import DagsterInstance

    home = dagster_home()
    try:
        instance = DagsterInstance.from_config(str(home))
        instance.get_runs(limit=1)
    except Exception as error:  # noqa: BLE001 - any load failure becomes one line
        raise CommandError(f"cannot open the Dagster instance in {home}: {_first_line(error)} (the storage is "
                           f"{DATABASE_URL_ENV}'s Postgres or the embedded one of `make dev`)") from None
    with instance:
        yield instance


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def load_definitions():
    """The project's Definitions (the code location `dagster dev` loads)."""
    try:
        from darkhorses_assets.definitions import defs
    except SettingsError as error:
        raise CommandError(str(error).splitlines()[0]) from None
    return defs
