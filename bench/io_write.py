"""How much does the IO manager's write path cost over a bare binary COPY?

Writes N runner-like rows (35 columns: text ids, ints, floats, bools, a date, timestamptz) spread over a
month of race days, twice:
  io    — PostgresClient.write_frame, the function handle_output calls: one transaction taking the table
          lock, creating the table (+ partition index), deleting the month's window and COPYing the frame;
  copy  — a bare psycopg binary COPY (`set_types` + `write_row` over `iter_rows()`) into an identical
          table without the index, the straightforward fast way.
Each method runs --repeat times into a fresh table, alternating order, after an untimed CHECKPOINT (disk
write-back noise otherwise swamps the comparison); medians are reported. Then the io path rewrites the
same month once more (a backfill re-run: the DELETE now removes N rows), reported but not in the ratio.
Generating the frame is not timed. Last line: `io_rows_per_s=N copy_rows_per_s=M ratio=R` (goal ≥ 0.8).

Uses DARKHORSES_DATABASE_URL's server if set, else starts the embedded Postgres; writes to a scratch
database `darkhorses_bench_io` that it recreates.

    .venv/bin/python bench/io_write.py --rows 1000000
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl
import psycopg
from _setup import bench_postgres
from psycopg import sql

from darkhorses_assets.io.tables import TableRef, create_table, ensure_schema
from darkhorses_assets.io.types import column_specs

SCRATCH_DATABASE = "darkhorses_bench_io"
FIRST_DAY = date(2024, 1, 1)
RACE_TIMEZONE = ZoneInfo("Europe/London")


def runner_frame(rows: int, days: int) -> pl.DataFrame:
    """Deterministic runner-like rows: ~35 columns in the mix the clean layer will have."""
    n = pl.int_range(rows, eager=True)

    def pick(seed: int, modulo: int) -> pl.Series:
        return n.hash(seed) % modulo

    def ident(prefix: str, seed: int, modulo: int) -> pl.Series:
        return prefix + pick(seed, modulo).cast(pl.Utf8)

    fetched = datetime(2024, 2, 1, 6, 0).timestamp() * 1_000_000
    return pl.DataFrame({
        "race_date": (pick(1, days).cast(pl.Int32) + (FIRST_DAY - date(1970, 1, 1)).days).cast(pl.Date),
        "race_id": ident("rac_", 2, 40_000),
        "runner_id": ident("run_", 3, 10**9),
        "horse_id": ident("hrs_", 4, 200_000),
        "horse": ident("Horse ", 5, 200_000),
        "jockey_id": ident("jky_", 6, 5_000),
        "jockey": ident("Jockey ", 7, 5_000),
        "trainer_id": ident("trn_", 8, 4_000),
        "trainer": ident("Trainer ", 9, 4_000),
        "owner_id": ident("own_", 10, 50_000),
        "course_id": ident("crs_", 11, 90),
        "course": ident("Course ", 12, 90),
        "sire_id": ident("sir_", 13, 20_000),
        "dam_id": ident("dam_", 14, 100_000),
        "going": ident("going_", 15, 12),
        "race_class": ident("Class ", 16, 7),
        "draw": pick(17, 30).cast(pl.Int32),
        "age": pick(18, 12).cast(pl.Int32) + 2,
        "weight_lbs": pick(19, 80).cast(pl.Int32) + 100,
        "official_rating": pick(20, 140).cast(pl.Int32),
        "position": pick(21, 20).cast(pl.Int32) + 1,
        "field_size": pick(22, 25).cast(pl.Int32) + 2,
        "distance_yards": pick(23, 6000).cast(pl.Int64) + 1000,
        "prize_pence": pick(24, 10**8).cast(pl.Int64),
        "sp_decimal": pick(25, 10_000).cast(pl.Float64) / 100 + 1,
        "bsp": pick(26, 100_000).cast(pl.Float64) / 1000 + 1,
        "beaten_lengths": pick(27, 5_000).cast(pl.Float64) / 100,
        "rpr": pick(28, 1_400).cast(pl.Float64) / 10,
        "topspeed": pick(29, 1_300).cast(pl.Float64) / 10,
        "time_seconds": pick(30, 30_000).cast(pl.Float64) / 100 + 55,
        "is_handicap": pick(31, 2) == 0,
        "is_favourite": pick(32, 10) == 0,
        "non_runner": pick(33, 50) == 0,
        "off_time": (pick(34, 86_400 * days).cast(pl.Int64) * 1_000_000
                     + int(datetime(2024, 1, 1).timestamp() * 1_000_000)).cast(pl.Datetime("us", "UTC")),
        "fetched_at": (pick(35, 3_600_000_000).cast(pl.Int64) + int(fetched)).cast(pl.Datetime("us", "UTC")),
    })


def scratch_database(admin_url: str) -> str:
    from darkhorses_assets.local.postgres import drop_database, ensure_database, with_database

    drop_database(admin_url, SCRATCH_DATABASE)
    ensure_database(admin_url, SCRATCH_DATABASE)
    return with_database(admin_url, SCRATCH_DATABASE)


def bare_binary_copy(url: str, frame: pl.DataFrame, table: TableRef) -> float:
    """Seconds for one binary COPY of `frame` into a new table of the same column types (DDL not timed)."""
    specs = column_specs(frame.schema)
    columns = sql.SQL(", ").join(sql.Identifier(name) for name in frame.columns)
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(table.identifier, columns)
    with psycopg.connect(url, autocommit=True) as conn:
        ensure_schema(conn, table.schema)
        create_table(conn, table, specs, index_column=None)
        started = time.perf_counter()
        with conn.transaction(), conn.cursor() as cursor, cursor.copy(statement) as copy:
            copy.set_types([spec.pg_type for spec in specs])
            for row in frame.iter_rows():
                copy.write_row(row)
        return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows to write (default 1,000,000)")
    parser.add_argument("--days", type=int, default=31, help="race days the rows spread over (default 31)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per method (default 3)")
    args = parser.parse_args()
    with bench_postgres() as admin_url:
        return _measure(args, scratch_database(admin_url))


def _measure(args: argparse.Namespace, url: str) -> int:
    from darkhorses_assets.io import PostgresClient, TableRef, redact_url, time_window_slice

    print(f"[setup] scratch database {redact_url(url)}", flush=True)

    started = time.perf_counter()
    frame = runner_frame(args.rows, args.days)
    size_mb = frame.estimated_size("mb")
    print(f"[setup] generated {frame.height:,} rows x {frame.width} columns ({size_mb:.0f} MB) "
          f"in {time.perf_counter() - started:.1f}s (not timed)", flush=True)

    start = datetime(FIRST_DAY.year, FIRST_DAY.month, FIRST_DAY.day, tzinfo=RACE_TIMEZONE)
    keys = [str(FIRST_DAY + timedelta(days=n)) for n in range(args.days)]
    window = time_window_slice("race_date", start, start + timedelta(days=args.days), keys)
    client = PostgresClient(url)
    io_table, copy_table = TableRef("bench", "runners_io"), TableRef("bench", "runners_copy")

    def io_write() -> float:
        return client.write_frame(io_table, frame, window).seconds

    def bare_copy() -> float:
        return bare_binary_copy(url, frame, copy_table)

    methods = {"io": io_write, "copy": bare_copy}
    tables = {"io": io_table, "copy": copy_table}
    seconds: dict[str, list[float]] = {"io": [], "copy": []}
    for run in range(args.repeat):
        order = ["io", "copy"] if run % 2 == 0 else ["copy", "io"]
        for name in order:
            settle(url, drop=tables[name])
            print(f"[{name} {run + 1}/{args.repeat}] {frame.height:,} rows ({window.label}) ...",
                  end=" ", flush=True)
            seconds[name].append(methods[name]())
            print(f"{seconds[name][-1]:.2f}s  {frame.height / seconds[name][-1]:,.0f} rows/s", flush=True)

    settle(url)
    print(f"[io rewrite] same window again (DELETE of {frame.height:,} rows + COPY) ...", end=" ", flush=True)
    rewrite = client.write_frame(io_table, frame, window)
    rewrite_rate = frame.height / rewrite.seconds
    print(f"{rewrite.seconds:.2f}s  {rewrite_rate:,.0f} rows/s (not in the ratio)", flush=True)

    io_rate = frame.height / statistics.median(seconds["io"])
    copy_rate = frame.height / statistics.median(seconds["copy"])
    print(f"io_rows_per_s={io_rate:.0f} copy_rows_per_s={copy_rate:.0f} ratio={io_rate / copy_rate:.2f}")
    return 0


def settle(url: str, drop: TableRef | None = None) -> None:
    """Untimed: drop the method's table and CHECKPOINT, so no run pays for the previous run's dirty pages."""
    with psycopg.connect(url, autocommit=True) as conn:
        if drop is not None:
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(drop.identifier))
        try:
            conn.execute("CHECKPOINT")
        except psycopg.errors.InsufficientPrivilege:
            pass


if __name__ == "__main__":
    raise SystemExit(main())
