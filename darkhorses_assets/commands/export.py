"""`darkhorses export TABLE --start D --end D -o FILE.parquet|.csv`: a table's race-day range for notebooks.

Streams a week at a time (io/export.py) into a pyarrow ParquetWriter or an appended CSV, so memory stays at
one chunk whatever the range. The file is written beside the target and renamed at the end: a failed export
leaves no half file.
"""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import closing
from pathlib import Path

from darkhorses_assets.commands.common import CommandError, database_url, race_day_range

FORMATS = (".parquet", ".csv")


def add_parser(commands) -> None:
    parser = commands.add_parser("export", help="write a table's race-day range to Parquet or CSV")
    parser.add_argument("table", help="schema.table, e.g. clean.runners (or the bare name when unique)")
    parser.add_argument("--start", required=True, help="first race day, YYYY-MM-DD")
    parser.add_argument("--end", required=True, help="last race day, YYYY-MM-DD (inclusive)")
    parser.add_argument("-o", "--output", required=True, help="FILE.parquet or FILE.csv")
    parser.add_argument("--days-per-chunk", type=int, default=None, help=argparse.SUPPRESS)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from darkhorses_assets.io.export import DAYS_PER_CHUNK, known_tables, race_day_chunks
    from darkhorses_assets.io.tables import TableRef

    output = Path(args.output)
    if output.suffix.lower() not in FORMATS:
        raise CommandError(f"-o {args.output}: the file name must end in .parquet or .csv")
    days = race_day_range(args.start, args.end)
    url = database_url()
    tables = known_tables(url)
    name = resolve_table(args.table, tables)
    if not tables[name]:
        race_day_tables = ", ".join(table for table, has_race_date in tables.items() if has_race_date)
        raise CommandError(f"table {name} has no race_date column, so no date range; race-day tables: "
                           f"{race_day_tables}")
    schema, table = name.split(".", 1)
    chunks = race_day_chunks(url, TableRef(schema, table), days[0], days[-1],
                             args.days_per_chunk or DAYS_PER_CHUNK)
    partial = output.with_name(f".{output.name}.partial")
    writer = _write_parquet if output.suffix.lower() == ".parquet" else _write_csv
    try:
        with closing(chunks):
            rows = writer(chunks, partial)
        os.replace(partial, output)
    finally:
        partial.unlink(missing_ok=True)
    print(f"darkhorses: {rows} rows of {name} ({days[0]} … {days[-1]}) written to {output}", file=sys.stderr)
    return 0


def resolve_table(given: str, tables: dict[str, bool]) -> str:
    """`schema.table` of a known table, from the full or (when unique) the bare name."""
    if given in tables:
        return given
    matches = [name for name in tables if name.split(".", 1)[1] == given]
    if len(matches) == 1:
        return matches[0]
    known = ", ".join(tables) or "none yet: materialize some assets first"
    if matches:
        raise CommandError(f"table {given!r} is ambiguous ({', '.join(matches)}); name its schema")
    raise CommandError(f"unknown table {given!r}; known tables: {known}")


def _write_parquet(chunks, path: Path) -> int:
    import pyarrow.parquet as pq

    rows, writer, schema = 0, None, None
    try:
        for frame in chunks:
            table = frame.to_arrow()
            if writer is None:
                schema = table.schema
                writer = pq.ParquetWriter(path, schema, compression="zstd")
            elif table.schema != schema:
                table = table.cast(schema)
            if table.num_rows:
                writer.write_table(table)
            rows += table.num_rows
    finally:
        if writer is not None:
            writer.close()
    return rows


def _write_csv(chunks, path: Path) -> int:
    rows = 0
    with path.open("wb") as out:
        for index, frame in enumerate(chunks):
            if frame.height or index == 0:
                frame.write_csv(out, include_header=index == 0)
            rows += frame.height
    return rows
