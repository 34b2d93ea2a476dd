"""Dagster's run, event-log and schedule storage (dagster-postgres) on the project's Postgres, with nothing to set.

The project's `dagster.yaml` names these classes, so plain `dagster dev` in the project root works as it is:

1. DARKHORSES_DAGSTER_STORAGE_URL when set (a `postgresql+psycopg2://` URL; `darkhorses dev` sets it);
2. else DARKHORSES_DATABASE_URL, the warehouse, with the driver spelled `postgresql+psycopg2://` (SQLAlchemy 2.1
   would pick psycopg 3, on which dagster-postgres fails at its first NOTIFY: dagster issue 33958);
3. else the embedded Postgres that `make dev` uses (`<state dir>/pgdata`, DARKHORSES_STATE_DIR or `.darkhorses/`
   in the working directory), started on first use — the same server the resources reach when
   DARKHORSES_DATABASE_URL is unset (`local.postgres.embedded_database_url`).

Each Dagster process (the `dagster dev` command, webserver, daemon, run workers) builds its storage from
`dagster.yaml` and resolves the URL itself; start-up holds a file lock and reuses a running server, so they all share
one. The state folder is exported to the processes `dagster dev` starts (DARKHORSES_STATE_DIR), so every one of them
finds the same data folder whatever its working directory. The `dagster dev` command that started the server stops it
when it exits (Ctrl-C), as `make dev` does; a server left behind by a killed process is reused next time.
"""

from __future__ import annotations

import atexit
import os
import sys

from dagster._serdes import ConfigurableClassData
from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage
from dagster_postgres.utils import create_pg_engine

from darkhorses_assets import settings
from darkhorses_assets.instance_settings import configure_dagster_process
from darkhorses_assets.local.postgres import sqlalchemy_psycopg2_url, start_local_postgres
from darkhorses_assets.settings import DAGSTER_STORAGE_URL_ENV, STATE_DIR_ENV

_stop_registered: set[str] = set()


def storage_url() -> str:
    """The `postgresql+psycopg2://` URL of Dagster's storage (see the module's docstring for the order)."""
    url = settings.dagster_storage_url()
    if url:
        return url
    database_url = settings.database_url()
    if database_url:
        return sqlalchemy_psycopg2_url(database_url)
    state_dir = settings.state_dir()
    os.environ.setdefault(STATE_DIR_ENV, str(state_dir))  # every process dagster dev starts finds the same folder
    local = start_local_postgres(state_dir / "pgdata")
    if local.started_here and _is_dagster_dev_command() and str(local.data_dir) not in _stop_registered:
        _stop_registered.add(str(local.data_dir))
        atexit.register(local.stop)
    return sqlalchemy_psycopg2_url(local.url(), DAGSTER_STORAGE_URL_ENV)


def _is_dagster_dev_command() -> bool:
    """The `dagster dev` process itself (it outlives its webserver, daemon and code servers), not its children."""
    return os.environ.get("DAGSTER_IS_DEV_CLI") == "1" and sys.argv[1:2] == ["dev"]


class _ProjectPostgres:
    """`from_config_value` of the dagster-postgres storages with the URL resolved by `storage_url()`, and a
    connection kept open per process.

    dagster-postgres opens a new connection for every statement (`NullPool`, so that many instances in one
    process hold none): in a run that is ≈ 36 ms for each of the ~80 events stored one by one, ≈ 3 s of a
    quarter's 21 s clean run (profile, `bench/clean.py`). One pooled connection (more only while threads
    overlap, checked before use, recycled hourly) serves the same statements; a process holds one instance.
    Measured: 21 → 15 s a quarter (connecting was most of each stored event's cost).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._engine = create_pg_engine(self.postgres_url, self._token_provider, isolation_level="AUTOCOMMIT",
                                        pool_size=1, max_overflow=8, pool_pre_ping=True, pool_recycle=3600)

    @classmethod
    def config_type(cls):
        from dagster import Field

        return {"should_autocreate_tables": Field(bool, is_required=False, default_value=True)}

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None, config_value):
        configure_dagster_process()  # the webserver and daemon start here: they create runs and their events
        return cls(postgres_url=storage_url(), inst_data=inst_data,  # type: ignore[call-arg]
                   should_autocreate_tables=config_value.get("should_autocreate_tables", True))


class RunStorage(_ProjectPostgres, PostgresRunStorage):
    """dagster-postgres run storage on the project's Postgres."""


class EventLogStorage(_ProjectPostgres, PostgresEventLogStorage):
    """dagster-postgres event-log storage on the project's Postgres."""


class ScheduleStorage(_ProjectPostgres, PostgresScheduleStorage):
    """dagster-postgres schedule storage on the project's Postgres."""
