"""Reading a table's race-day range in chunks, for `darkhorses export` (bounded memory, one snapshot).

Each chunk is one `COPY (SELECT ... WHERE race_date in chunk) TO STDOUT` parsed with the same typed read
specs as the IO manager's loads (`types.read_spec`), so an exported column has the type an asset would read.
Every chunk is read in one REPEATABLE READ transaction: a backfill writing meanwhile never shows half a range.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import polars as pl
from psycopg import sql

from darkhorses_assets.io.client import PostgresClient
from darkhorses_assets.io.copy import copy_out
from darkhorses_assets.io.tables import MissingTableError, TableRef, table_columns
from darkhorses_assets.io.types import read_spec

EXPORT_SCHEMAS = ("raw", "clean", "features")
"""The schemas the assets write (raw → clean → features)."""
RACE_DATE = "race_date"
DAYS_PER_CHUNK = 7
"""A week of runners is a few tens of thousands of rows: a few MB per chunk."""


def known_tables(database_url: str) -> dict[str, bool]:
    """`schema.table` → whether it has a `race_date` column, for every table of the asset schemas."""
    with PostgresClient(database_url).connect() as conn:
        rows = conn.execute(
            """SELECT n.nspname || '.' || c.relname,
                      EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = %s
                              AND a.attnum > 0 AND NOT a.attisdropped)
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = ANY(%s) AND c.relkind IN ('r', 'p', 'v', 'm')
               ORDER BY 1""",
            (RACE_DATE, list(EXPORT_SCHEMAS)),
        ).fetchall()
    return dict(rows)


def race_day_chunks(
    database_url: str, table: TableRef, first: date, last: date, days_per_chunk: int = DAYS_PER_CHUNK
) -> Iterator[pl.DataFrame]:
    """The table's rows with `race_date` in first … last (inclusive), `days_per_chunk` days per frame, in date
    order (sorted by race_date within a chunk); every frame has the same schema, empty ones included."""
    with PostgresClient(database_url).connect() as conn, conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        existing = table_columns(conn, table)
        if existing is None:
            raise MissingTableError(f"table {table} does not exist")
        if RACE_DATE not in existing:
            raise KeyError(f"table {table} has no {RACE_DATE} column")
        specs = [read_spec(name, pg_type) for name, pg_type in existing.items()]
        where = sql.SQL("{} >= %s AND {} < %s").format(sql.Identifier(RACE_DATE), sql.Identifier(RACE_DATE))
        start = first
        while start <= last:
            end = min(start + timedelta(days=days_per_chunk), last + timedelta(days=1))
            frame = copy_out(conn, table.identifier, specs, where, (start, end))
            yield frame.sort(RACE_DATE, maintain_order=True)
            start = end
