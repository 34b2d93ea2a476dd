"""Moving frames through COPY as CSV, which polars writes and parses in native code.

Measured on 1M runner-like rows (bench/io_write.py): a psycopg binary COPY fed by `iter_rows()` spends most
of its time in Python building tuples, while `write_csv` on row slices costs ~1.5 µs/row. Chunks are
handed to a psycopg writer thread, so polars encodes the next slice while the server parses the previous
one. Reads go the other way: `COPY (SELECT ...) TO STDOUT (FORMAT csv)` into `pl.read_csv` with known dtypes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import polars as pl
import psycopg
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter

from darkhorses_assets.io.types import ReadSpec

CHUNK_ROWS = 25_000


def copy_in(
    conn: psycopg.Connection, table: sql.Composable, wire: pl.DataFrame, chunk_rows: int = CHUNK_ROWS
) -> None:
    """Append a wire frame (see types.to_wire_frame) to `table`; runs inside the caller's transaction."""
    columns = sql.SQL(", ").join(sql.Identifier(name) for name in wire.columns)
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(table, columns)
    with conn.cursor() as cursor:
        with cursor.copy(statement, writer=QueuedLibpqWriter(cursor)) as copy:
            for chunk in wire.iter_slices(chunk_rows):
                buffer = io.BytesIO()
                chunk.write_csv(buffer, include_header=False)
                copy.write(buffer.getbuffer())


def copy_out(
    conn: psycopg.Connection, table: sql.Composable, specs: Sequence[ReadSpec],
    where: sql.Composable | None = None, params: tuple = (),
) -> pl.DataFrame:
    """SELECT the spec'd columns of `table` (optionally filtered) into a frame with the specs' dtypes."""
    query = sql.SQL("SELECT {} FROM {}").format(
        sql.SQL(", ").join(spec.select for spec in specs), table
    )
    if where is not None:
        query += sql.SQL(" WHERE ") + where
    statement = sql.SQL("COPY ({}) TO STDOUT (FORMAT csv)").format(query)
    buffer = bytearray()
    with conn.cursor() as cursor, cursor.copy(statement, params or None) as copy:
        for data in copy:
            buffer += data
    csv_schema = {spec.name: spec.csv_dtype for spec in specs}
    if buffer:
        frame = pl.read_csv(io.BytesIO(buffer), has_header=False, schema=csv_schema)
    else:
        frame = pl.DataFrame(schema=csv_schema)
    return frame.select([spec.finish for spec in specs])
