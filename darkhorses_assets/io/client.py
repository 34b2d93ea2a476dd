"""PostgresClient: connections, the atomic write and the typed read behind the IO manager (and benches)."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import polars as pl
import psycopg

from darkhorses_assets.database_url import (
    database_passwords,
    database_url_problem,
    libpq_url,
    redact_url,
    scrub,
)
from darkhorses_assets.io.copy import copy_in, copy_out
from darkhorses_assets.io.partitions import PartitionSlice
from darkhorses_assets.io.tables import (
    MissingTableError,
    TableRef,
    add_columns,
    check_drift,
    create_table,
    delete_rows,
    ensure_schema,
    lock_table,
    table_columns,
)
from darkhorses_assets.io.types import ColumnSpec, column_specs, read_spec, to_wire_frame

APPLICATION_NAME = "darkhorses-io"
_SESSION_SETTINGS = (
    "SET TIME ZONE 'UTC'",
    "SET datestyle = 'ISO, YMD'",
    "SET extra_float_digits = 1",
)
"""Text formats COPY relies on, whatever the server defaults: UTC offsets, ISO dates, exact floats."""


@dataclass(frozen=True)
class WriteResult:
    table: TableRef
    rows: int
    replaced_rows: int
    specs: list[ColumnSpec]
    seconds: float
    created: bool


class DatabaseConnectionError(ConnectionError):
    """Postgres could not be reached or refused the connection. The message never holds the password.

    `retryable` says whether trying again later can help (a server restarting, a dropped network); a malformed
    DARKHORSES_DATABASE_URL or refused credentials are `DatabaseSettingsError`s, which it cannot.
    """

    retryable = True


class DatabaseSettingsError(DatabaseConnectionError):
    """DARKHORSES_DATABASE_URL is malformed, or the server refused its user, password or database."""

    retryable = False


_REFUSED_SETTINGS = re.compile(
    r"password authentication failed|no password supplied|authentication failed|role \S+ does not exist|"
    r"database \S+ does not exist|pg_hba\.conf|not permitted to log in|invalid port number|"
    r"invalid \w+ value|invalid connection option|invalid integer value",
    re.IGNORECASE,
)
"""Connection errors no retry can fix: refused credentials, a missing role or database, a bad option."""


class PostgresClient:
    """Connections and whole-table / partition-slice reads and writes of polars frames."""

    def __init__(self, database_url: str, log: logging.Logger | None = None):
        """An empty `database_url` (DARKHORSES_DATABASE_URL unset): the embedded Postgres, started on first use."""
        if not database_url.strip():
            from darkhorses_assets.local.postgres import embedded_database_url  # deferred: local runs only

            database_url = embedded_database_url()
        self._url = libpq_url(database_url)
        self._log = log or logging.getLogger(__name__)

    def __repr__(self) -> str:
        return f"PostgresClient({redact_url(self._url)!r})"

    @contextmanager
    def connect(self) -> Iterator[psycopg.Connection]:
        """An autocommit connection with the session settings COPY relies on; use `conn.transaction()`.

        Raises DatabaseSettingsError (malformed URL, refused credentials, no such database: not worth a retry)
        or DatabaseConnectionError (server unreachable: may pass); neither message holds the password.
        """
        conn = self._open()
        with conn:
            for statement in _SESSION_SETTINGS:
                conn.execute(statement)
            yield conn

    def _open(self) -> psycopg.Connection:
        where = f"Postgres at {redact_url(self._url)} (DARKHORSES_DATABASE_URL)"
        problem = database_url_problem(self._url)
        if problem is not None:
            raise DatabaseSettingsError(f"cannot connect to {where}: the URL is malformed: {problem}")
        try:
            return psycopg.connect(self._url, autocommit=True, application_name=APPLICATION_NAME)
        except (psycopg.Error, ValueError) as error:
            reason = scrub(str(error), database_passwords(self._url))
            if _REFUSED_SETTINGS.search(reason):
                raise DatabaseSettingsError(
                    f"cannot connect to {where}: {reason} Fix the user, password, database name, port or option "
                    "in DARKHORSES_DATABASE_URL; retrying will not help"
                ) from None
            raise DatabaseConnectionError(
                f"cannot connect to {where}: {reason} Check DARKHORSES_DATABASE_URL and that the server is "
                "running (`darkhorses dev` starts a local one)"
            ) from None

    def write_frame(
        self,
        table: TableRef,
        frame: pl.DataFrame,
        partition: PartitionSlice | None = None,
        column_types: Mapping[str, str] | None = None,
    ) -> WriteResult:
        """Replace the partition slice's rows (or, without one, the whole table) with `frame`, atomically.

        One transaction: per-table advisory lock → create table or check drift → DELETE slice → COPY → commit.
        Concurrent writers of the table run one after the other; any failure (or a killed process) rolls back
        and leaves the previous rows as they were.
        """
        started = time.perf_counter()
        specs = column_specs(frame.schema, column_types)
        if partition is not None:
            partition.check_frame(frame, str(table))
        wire = to_wire_frame(frame, specs)
        with self.connect() as conn:
            ensure_schema(conn, table.schema)
            with conn.transaction():
                lock_table(conn, table, self._log)
                existing = table_columns(conn, table)
                created = existing is None
                if existing is None:
                    create_table(conn, table, specs, partition.column if partition else None)
                    existing = {spec.name: spec.pg_type for spec in specs}
                else:
                    added = check_drift(table, existing, specs)
                    add_columns(conn, table, added, self._log)
                    existing |= {spec.name: spec.pg_type for spec in added}
                if partition is None:
                    replaced = delete_rows(conn, table, None)
                else:
                    replaced = delete_rows(conn, table, *partition.where(existing[partition.column]))
                copy_in(conn, table.identifier, wire)
        return WriteResult(table, frame.height, replaced, specs, time.perf_counter() - started, created)

    def read_frame(
        self,
        table: TableRef,
        columns: Sequence[str] | None = None,
        partition: PartitionSlice | None = None,
    ) -> pl.DataFrame:
        """The table's rows (optionally one partition slice, optionally some columns) as a typed frame."""
        with self.connect() as conn, conn.transaction():
            existing = table_columns(conn, table)
            if existing is None:
                raise MissingTableError(f"table {table} does not exist")
            names = list(columns) if columns is not None else list(existing)
            unknown = [name for name in names if name not in existing]
            if unknown:
                raise KeyError(
                    f"column(s) {unknown} are not in table {table} (it has {list(existing)}); "
                    "fix the input's `columns` metadata"
                )
            where, params = None, ()
            if partition is not None:
                if partition.column not in existing:
                    raise KeyError(
                        f"partition column {partition.column!r} is not in table {table} "
                        f"(it has {list(existing)}); fix the asset's `partition_expr` metadata"
                    )
                where, params = partition.where(existing[partition.column])
            specs = [read_spec(name, existing[name]) for name in names]
            return copy_out(conn, table.identifier, specs, where, params)
