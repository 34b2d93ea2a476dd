"""WarehouseResource: explicit reads of stored assets, for an asset that must know its own earlier output.

Dagster cannot give an asset its own previous value as an input; an incremental asset (the horse profiles,
which must never re-fetch a horse) or one that must never replace good rows with worse (the raw race days)
reads it through this resource instead. It also keeps what must not go into an asset's own table: API pages
that could not be read are appended to `raw.unreadable_pages`, never written in place of stored rows.

And it lets an asset whose rows arrive slowly write them as they come (`replacing`): the raw race days store
each day while the API is asked for the next, in the same atomic replace the IO manager does at the end.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date

import polars as pl
from dagster import AssetKey, ConfigurableResource
from psycopg import sql
from pydantic import Field

from darkhorses_assets.io.client import PostgresClient, SliceWriter
from darkhorses_assets.io.copy import copy_in
from darkhorses_assets.io.io_manager import table_for
from darkhorses_assets.io.partitions import PartitionSlice, keys_slice
from darkhorses_assets.io.tables import (
    MissingTableError,
    TableRef,
    add_columns,
    check_drift,
    create_table,
    ensure_schema,
    lock_table,
    table_columns,
)
from darkhorses_assets.io.types import column_specs, to_wire_frame

_log = logging.getLogger(__name__)

UNREADABLE_PAGES = TableRef("raw", "unreadable_pages")
"""Every API page a raw asset could not read, one row per page and run (see transforms.raw_rows)."""
UNREADABLE_PAGE_TYPES = {"request": "json"}


class WarehouseResource(ConfigurableResource):
    """Read access to the tables the IO manager writes (same asset key → table mapping), and the page archive."""

    database_url: str = Field(
        description="libpq URL of the warehouse database, e.g. EnvVar('DARKHORSES_DATABASE_URL')."
    )

    def _client(self) -> PostgresClient:
        return PostgresClient(self.database_url)

    def read_asset(self, key: AssetKey, columns: Sequence[str] | None = None) -> pl.DataFrame | None:
        """The stored table of asset `key` (only `columns` if given), or None when it was never materialized."""
        try:
            return self._client().read_frame(table_for(key, {}), columns)
        except MissingTableError:
            return None

    def stored_races_per_day(self, key: AssetKey, first: date, last: date) -> dict[date, int]:
        """Distinct stored `race_id`s per `race_date` of asset `key`, first … last inclusive (one GROUP BY).

        Days without a stored race are absent; the dict is empty when the asset was never materialized.
        """
        table = table_for(key, {})
        query = sql.SQL(
            "SELECT race_date, count(DISTINCT race_id) FROM {} WHERE race_date BETWEEN %s AND %s GROUP BY race_date"
        ).format(table.identifier)
        with self._client().connect() as conn, conn.transaction():
            if table_columns(conn, table) is None:
                return {}
            return dict(conn.execute(query, (first, last)).fetchall())

    def read_race_days(self, key: AssetKey, days: Sequence[date], columns: Sequence[str]) -> pl.DataFrame:
        """The stored rows of asset `key` whose `race_date` is one of `days` (only `columns`)."""
        partition = keys_slice("race_date", [day.isoformat() for day in days])
        return self._client().read_frame(table_for(key, {}), columns, partition)

    def stored_distinct_count(self, key: AssetKey, column: str) -> int:
        """How many distinct non-null `column` values asset `key` has stored; 0 when it was never materialized."""
        table = table_for(key, {})
        query = sql.SQL("SELECT count(DISTINCT {}) FROM {}").format(sql.Identifier(column), table.identifier)
        with self._client().connect() as conn, conn.transaction():
            if table_columns(conn, table) is None:
                return 0
            return conn.execute(query).fetchone()[0]

    @contextmanager
    def replacing(self, key: AssetKey, schema: Mapping[str, pl.DataType], partition: PartitionSlice,
                  column_types: Mapping[str, str] | None = None) -> Iterator[SliceWriter]:
        """The IO manager's atomic replace of asset `key`'s `partition` rows, written piece by piece
        (`PostgresClient.replacing`): committed when the block ends, rolled back if it raises."""
        with self._client().replacing(table_for(key, {}), schema, partition, column_types) as writer:
            yield writer

    def archive_unreadable(self, pages: pl.DataFrame) -> int:
        """Append `pages` to `raw.unreadable_pages` (created on first use) in one transaction; returns the rows.

        An append, not a replace: each failed run's pages stay, so a page that keeps coming back unreadable
        shows as one row per attempt. Same lock, drift check and COPY as the IO manager's writes.
        """
        table = UNREADABLE_PAGES
        specs = column_specs(pages.schema, UNREADABLE_PAGE_TYPES)
        wire = to_wire_frame(pages, specs)
        with self._client().connect() as conn:
            ensure_schema(conn, table.schema)
            with conn.transaction():
                lock_table(conn, table)
                existing = table_columns(conn, table)
                if existing is None:
                    create_table(conn, table, specs, None)
                else:
                    add_columns(conn, table, check_drift(table, existing, specs), _log)
                copy_in(conn, table.identifier, wire)
        return pages.height
