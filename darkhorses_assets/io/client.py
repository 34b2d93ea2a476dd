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


class SliceWriter:
    """Appends frames to a slice that `PostgresClient.replacing` has emptied, inside its transaction."""

    def __init__(self, conn: psycopg.Connection, table: TableRef, specs: list[ColumnSpec],
                 partition: PartitionSlice | None):
        self._conn, self._table, self._specs, self._partition = conn, table, specs, partition
        self._names = [spec.name for spec in specs]
        self.rows = 0
        self.result: WriteResult | None = None
        """Set when the block has committed."""

    def append(self, frame: pl.DataFrame, *, checked: bool = False) -> None:
        """COPY `frame`'s rows (its columns those the writer was opened with, in any order); rows outside the
        slice are refused (`checked`: the caller has already verified that)."""
        if frame.is_empty():
            return
        if sorted(frame.columns) != sorted(self._names):
            raise ValueError(f"a piece for {self._table} has columns {frame.columns}; the write was opened with "
                             f"{self._names}")
        if self._partition is not None and not checked:
            self._partition.check_frame(frame, str(self._table))
        copy_in(self._conn, self._table.identifier, to_wire_frame(frame, self._specs))
        self.rows += frame.height


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
        if partition is not None:
            partition.check_frame(frame, str(table))
        with self.replacing(table, frame.schema, partition, column_types) as writer:
            writer.append(frame, checked=True)
        return writer.result

    @contextmanager
    def replacing(
        self,
        table: TableRef,
        schema: Mapping[str, pl.DataType],
        partition: PartitionSlice | None = None,
        column_types: Mapping[str, str] | None = None,
    ) -> Iterator[SliceWriter]:
        """`write_frame` in pieces: the slice's rows are deleted on entry, each `append` COPYs more rows of
        `schema` in the same transaction, and the exit commits them all at once; an exception in the block
        rolls everything back, leaving the previous rows as they were.

        For a writer whose rows arrive slowly (API answers at 2 a second): the server parses and stores each
        piece while the next is awaited, instead of all of them at the end. The table's advisory lock is held
        for the whole block, so other writers of the table wait for it.
        """
        started = time.perf_counter()
        specs = column_specs(schema, column_types)
        with self.connect() as conn:
            ensure_schema(conn, table.schema)
            with conn.transaction():
                # Between pieces the session idles in its transaction; a server that ends such sessions
                # (idle_in_transaction_session_timeout, common on managed Postgres) would roll the write back.
                conn.execute("SET LOCAL idle_in_transaction_session_timeout = 0")
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
                writer = SliceWriter(conn, table, specs, partition)
                yield writer
        writer.result = WriteResult(table, writer.rows, replaced, specs, time.perf_counter() - started, created)

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
