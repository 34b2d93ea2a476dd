"""The write path shared by the IO manager and the bench: atomicity, locking, drift and type round trips."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import polars as pl
import psycopg
import pytest

from darkhorses_assets.io import PostgresClient, SchemaDriftError, TableRef, time_window_slice

LONDON = ZoneInfo("Europe/London")
TABLE = TableRef("clean", "runners")


def day_slice(day: date, days: int = 1):
    start = datetime(day.year, day.month, day.day, tzinfo=LONDON)
    keys = [str(day + timedelta(days=n)) for n in range(days)]
    return time_window_slice("race_date", start, start + timedelta(days=days), keys)


def runners(day: date, rows: int, tag: str) -> pl.DataFrame:
    return pl.DataFrame({
        "race_date": pl.repeat(day, rows, eager=True),
        "runner_id": pl.int_range(rows, eager=True).cast(pl.Utf8),
        "tag": pl.repeat(tag, rows, eager=True),
    })


def table_rows(url: str, table: TableRef = TABLE) -> list[tuple]:
    with psycopg.connect(url) as conn:
        query = psycopg.sql.SQL("SELECT race_date, tag, count(*) FROM {} GROUP BY 1, 2 ORDER BY 1, 2")
        return conn.execute(query.format(table.identifier)).fetchall()


def test_a_server_side_error_late_in_the_copy_keeps_the_previous_rows(postgres_url):
    client = PostgresClient(postgres_url)
    day = date(2024, 3, 1)
    client.write_frame(TABLE, runners(day, 10, "old").with_columns(payload=pl.lit("{}")),
                       day_slice(day), column_types={"payload": "jsonb"})
    rows = 200_000
    bad = runners(day, rows, "new").with_columns(
        payload=pl.when(pl.int_range(rows) == rows - 1).then(pl.lit("{not json")).otherwise(pl.lit("{}"))
    )
    with pytest.raises(psycopg.errors.InvalidTextRepresentation, match="json"):
        client.write_frame(TABLE, bad, day_slice(day), column_types={"payload": "jsonb"})
    assert table_rows(postgres_url) == [(day, "old", 10)]


def test_a_write_in_pieces_commits_them_together_and_others_see_the_old_rows_meanwhile(postgres_url):
    client = PostgresClient(postgres_url)
    first = date(2024, 3, 1)
    client.write_frame(TABLE, runners(first, 4, "old"), day_slice(first, days=3))
    with client.replacing(TABLE, runners(first, 0, "").schema, day_slice(first, days=3)) as writer:
        writer.append(runners(first, 2, "new"))
        writer.append(runners(first + timedelta(days=2), 3, "new"))
        assert table_rows(postgres_url) == [(first, "old", 4)]
    assert table_rows(postgres_url) == [(first, "new", 2), (first + timedelta(days=2), "new", 3)]
    assert (writer.result.rows, writer.result.replaced_rows) == (5, 4)


def test_a_write_in_pieces_outlasts_a_server_that_ends_idle_transactions(postgres_url):
    """Pieces arrive as slowly as the API answers; a session default that ends sessions idle in a transaction
    for 200 ms (as managed servers often set) must not roll the write back."""
    separator = "&" if "?" in postgres_url else "?"
    client = PostgresClient(f"{postgres_url}{separator}options=-c%20idle_in_transaction_session_timeout%3D200")
    day = date(2024, 3, 1)
    with client.replacing(TABLE, runners(day, 0, "").schema, day_slice(day)) as writer:
        for _ in range(2):
            time.sleep(0.5)
            writer.append(runners(day, 2, "new"))
    assert table_rows(postgres_url) == [(day, "new", 4)]


@pytest.mark.parametrize("failure", ["raised", "outside the slice", "other columns"])
def test_a_write_in_pieces_that_fails_midway_keeps_every_previous_row(postgres_url, failure):
    client = PostgresClient(postgres_url)
    day = date(2024, 3, 1)
    client.write_frame(TABLE, runners(day, 4, "old"), day_slice(day))
    bad = {"raised": None, "outside the slice": runners(day + timedelta(days=1), 1, "new"),
           "other columns": runners(day, 1, "new").drop("tag")}[failure]
    with pytest.raises((RuntimeError, ValueError), match="late failure|outside|columns"):
        with client.replacing(TABLE, runners(day, 0, "").schema, day_slice(day)) as writer:
            writer.append(runners(day, 3, "new"))
            if bad is None:
                raise RuntimeError("late failure")
            writer.append(bad)
    assert table_rows(postgres_url) == [(day, "old", 4)]
    assert writer.result is None


SIGKILL_WRITER = textwrap.dedent("""
    import sys
    from datetime import date, datetime, timedelta
    from zoneinfo import ZoneInfo
    import polars as pl
    from darkhorses_assets.io import PostgresClient, TableRef, time_window_slice

    rows = 4_000_000
    day = date(2024, 3, 1)
    start = datetime(2024, 3, 1, tzinfo=ZoneInfo("Europe/London"))
    frame = pl.DataFrame({
        "race_date": pl.repeat(day, rows, eager=True),
        "runner_id": pl.int_range(rows, eager=True).cast(pl.Utf8),
        "tag": pl.repeat("killed", rows, eager=True),
    })
    window = time_window_slice("race_date", start, start + timedelta(days=1), ["2024-03-01"])
    PostgresClient(sys.argv[1]).write_frame(TableRef("clean", "runners"), frame, window)
    print("finished")
""")


def test_sigkill_mid_copy_keeps_the_previous_rows_and_frees_the_lock(postgres_url):
    client = PostgresClient(postgres_url)
    day = date(2024, 3, 1)
    client.write_frame(TABLE, runners(day, 5, "old"), day_slice(day))
    writer = subprocess.Popen([sys.executable, "-c", SIGKILL_WRITER, postgres_url], stdout=subprocess.PIPE)
    try:
        backend = _wait_for_copy(postgres_url, writer)
        writer.kill()
        assert writer.wait(timeout=30) == -9
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
    _wait_until_gone(postgres_url, backend)
    assert table_rows(postgres_url) == [(day, "old", 5)]
    client.write_frame(TABLE, runners(day, 7, "after"), day_slice(day))
    assert table_rows(postgres_url) == [(day, "after", 7)]


def _wait_for_copy(url: str, writer: subprocess.Popen, timeout: float = 60) -> int:
    """The backend pid of the writer's COPY once it is streaming rows."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            assert writer.poll() is None, "writer exited before its COPY was seen"
            row = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND application_name = 'darkhorses-io' AND state = 'active' AND query LIKE 'COPY%'"
            ).fetchone()
            if row:
                return row[0]
            time.sleep(0.02)
    raise AssertionError("the writer's COPY never showed up in pg_stat_activity")


def _wait_until_gone(url: str, backend: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as conn:
        while conn.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (backend,)).fetchone():
            assert time.monotonic() < deadline, "killed writer's backend never went away"
            time.sleep(0.05)


def test_concurrent_writers_of_one_partition_serialize(postgres_url):
    day = date(2024, 3, 2)
    rows = 150_000
    PostgresClient(postgres_url).write_frame(TABLE, runners(day, 1, "seed"), day_slice(day))
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def write(tag: str) -> None:
        frame = runners(day, rows, tag)
        start.wait()
        try:
            PostgresClient(postgres_url).write_frame(TABLE, frame, day_slice(day))
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(tag,)) for tag in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    result = table_rows(postgres_url)
    assert len(result) == 1 and result[0][0] == day and result[0][1] in {"a", "b"} and result[0][2] == rows


def test_first_writers_of_a_new_table_in_a_new_schema_do_not_collide(postgres_url):
    days = [date(2024, 4, n) for n in range(1, 7)]
    threads = [
        threading.Thread(target=PostgresClient(postgres_url).write_frame,
                         args=(TABLE, runners(day, 1000, "x"), day_slice(day)))
        for day in days
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert table_rows(postgres_url) == [(day, "x", 1000) for day in days]


def test_schema_drift_names_every_added_missing_and_retyped_column(postgres_url):
    client = PostgresClient(postgres_url)
    day = date(2024, 3, 3)
    frame = runners(day, 3, "old").with_columns(weight=pl.lit(9, dtype=pl.Int64), jockey=pl.lit("x"))
    client.write_frame(TABLE, frame, day_slice(day))

    reordered = frame.select(reversed(frame.columns))
    client.write_frame(TABLE, reordered, day_slice(day))

    drifted = frame.drop("jockey").with_columns(pl.col("weight").cast(pl.Float64), trainer=pl.lit("t"))
    with pytest.raises(SchemaDriftError) as raised:
        client.write_frame(TABLE, drifted, day_slice(day))
    message = str(raised.value)
    assert "added column 'trainer' (text)" in message
    assert "missing column 'jockey' (text)" in message
    assert "retyped column 'weight': table has bigint, frame gives double precision" in message
    assert "Drop or migrate table clean.runners" in message
    assert table_rows(postgres_url) == [(day, "old", 3)]


def test_new_columns_are_added_and_older_rows_keep_null(postgres_url):
    client = PostgresClient(postgres_url)
    old_day, new_day = date(2024, 3, 3), date(2024, 3, 4)
    client.write_frame(TABLE, runners(old_day, 2, "old"), day_slice(old_day))

    wider = runners(new_day, 2, "new").with_columns(comment=pl.lit("goes well"), flags=pl.lit(["C"]))
    client.write_frame(TABLE, wider, day_slice(new_day))

    with psycopg.connect(postgres_url) as conn:
        rows = conn.execute(
            'SELECT race_date, "comment", flags FROM clean.runners ORDER BY race_date').fetchall()
    assert rows == [(old_day, None, None)] * 2 + [(new_day, "goes well", ["C"])] * 2
    assert client.read_frame(TABLE, partition=day_slice(new_day))["comment"].to_list() == ["goes well"] * 2


def test_every_supported_type_round_trips(postgres_url):
    client = PostgresClient(postgres_url)
    table = TableRef("features", "types")
    moment = datetime(2024, 6, 1, 12, 30, 15, 123456)
    frame = pl.DataFrame({
        "text": ["a", "", None, 'q"u,o\nte|x'],
        "i8": pl.Series([1, None, -3, 127], dtype=pl.Int8),
        "i16": pl.Series([1, 2, None, -32768], dtype=pl.Int16),
        "i32": pl.Series([1, 2, 3, None], dtype=pl.Int32),
        "i64": pl.Series([2**62, None, -1, 0], dtype=pl.Int64),
        "u32": pl.Series([2**32 - 1, 0, None, 1], dtype=pl.UInt32),
        "f32": pl.Series([0.5, None, 1.25, -2.0], dtype=pl.Float32),
        "f64": [0.1, float("nan"), float("inf"), None],
        "flag": [True, False, None, True],
        "day": [date(2024, 1, 1), None, date(1999, 12, 31), date(2030, 6, 30)],
        "at_utc": pl.Series([moment, moment.replace(microsecond=0), None, moment]).dt.replace_time_zone(
            "UTC"),
        "at_london": pl.Series([moment, None, moment, moment]).dt.replace_time_zone("Europe/London"),
        "naive": [moment, None, moment.replace(microsecond=0), moment],
        "took": [timedelta(seconds=1.5), None, timedelta(days=2, microseconds=7), timedelta(0)],
        "price": pl.Series([Decimal("1.25"), None, Decimal("-3.50"), Decimal("0")], dtype=pl.Decimal(10, 2)),
        "tags": [[1, 2], None, [], [3]],
        "meta": [{"a": 1, "b": "x"}, None, {"a": None, "b": 'q"'}, {"a": 2, "b": ""}],
        "blob": [b"\x00\xff", None, b"", b"abc"],
    })
    client.write_frame(table, frame)
    loaded = client.read_frame(table)

    assert dict(loaded.schema) == {
        "text": pl.Utf8, "i8": pl.Int16, "i16": pl.Int16, "i32": pl.Int32, "i64": pl.Int64, "u32": pl.Int64,
        "f32": pl.Float64, "f64": pl.Float64, "flag": pl.Boolean, "day": pl.Date,
        "at_utc": pl.Datetime("us", "UTC"), "at_london": pl.Datetime("us", "UTC"), "naive": pl.Datetime("us"),
        "took": pl.Duration("us"), "price": pl.Decimal(10, 2), "tags": pl.Utf8, "meta": pl.Utf8,
        "blob": pl.Binary,
    }
    same = ["text", "i64", "flag", "day", "at_utc", "naive", "took", "price", "blob"]
    assert loaded.select(same).to_dict(as_series=False) == frame.select(same).to_dict(as_series=False)
    assert loaded["i8"].to_list() == frame["i8"].to_list()
    assert loaded["f32"].to_list() == [0.5, None, 1.25, -2.0]
    f64 = loaded["f64"].to_list()
    assert f64[0] == 0.1 and f64[1] != f64[1] and f64[2] == float("inf") and f64[3] is None
    assert loaded["at_london"].to_list() == frame["at_london"].dt.convert_time_zone("UTC").to_list()
    assert [json.loads(v) if v is not None else None for v in loaded["tags"]] == frame["tags"].to_list()
    assert [json.loads(v) if v is not None else None for v in loaded["meta"]] == frame["meta"].to_list()


def test_values_postgres_cannot_hold_fail_loudly(postgres_url):
    client = PostgresClient(postgres_url)
    too_big = pl.DataFrame({"n": pl.Series([2**64 - 1], dtype=pl.UInt64)})
    with pytest.raises(psycopg.errors.NumericValueOutOfRange):
        client.write_frame(TableRef("features", "big"), too_big)
    with pytest.raises(TypeError, match="cast it"):
        objects = pl.DataFrame({"o": pl.Series([object()], dtype=pl.Object)})
        client.write_frame(TableRef("features", "objects"), objects)
    with pytest.raises(ValueError, match="not a plain Postgres type name"):
        client.write_frame(TableRef("features", "inject"), pl.DataFrame({"a": ["x"]}),
                           column_types={"a": "text); DROP TABLE x; --"})
    with pytest.raises(ValueError, match="frame does not have"):
        client.write_frame(TableRef("features", "typo"), pl.DataFrame({"a": ["x"]}),
                           column_types={"b": "jsonb"})


def test_timestamptz_partition_column(postgres_url):
    client = PostgresClient(postgres_url)
    table = TableRef("clean", "events")
    start = datetime(2024, 3, 31, tzinfo=LONDON)
    window = time_window_slice("at", start, start + timedelta(days=1), ["2024-03-31"])
    inside = datetime(2024, 3, 31, 0, 30, tzinfo=LONDON).astimezone(UTC)
    frame = pl.DataFrame({"at": [inside], "n": [1]}).with_columns(pl.col("at").dt.replace_time_zone("UTC"))
    client.write_frame(table, frame, window)
    client.write_frame(table, frame.with_columns(n=pl.lit(2)), window)
    assert client.read_frame(table, partition=window)["n"].to_list() == [2]
    before = datetime(2024, 3, 30, 23, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match="outside the run's partition"):
        client.write_frame(table, pl.DataFrame({"at": [before], "n": [3]}), window)


def test_a_read_failing_mid_copy_raises_the_servers_error_and_the_connection_goes_on(postgres_url):
    from psycopg import sql

    from darkhorses_assets.io.copy import copy_out
    from darkhorses_assets.io.types import read_spec

    client = PostgresClient(postgres_url)
    client.write_frame(TableRef("t", "numbers"), pl.DataFrame({"n": list(range(-50_000, 50_000))}))
    table = TableRef("t", "numbers").identifier
    with client.connect() as conn:
        specs = [read_spec("n", "bigint")]
        with pytest.raises(psycopg.errors.DivisionByZero):
            copy_out(conn, table, specs, where=sql.SQL("1 / (n + 10) <> 7"))
        assert conn.execute("SELECT 1").fetchone() == (1,)
        frame = copy_out(conn, table, specs, where=sql.SQL("n >= %s"), params=(49_990,))
    assert frame["n"].to_list() == list(range(49_990, 50_000))


def test_the_wire_frame_shares_the_columns_it_does_not_convert():
    """A 150-column, 1.3M-row features frame must not be copied on its way to COPY: only converted columns
    (lists, structs, durations…) are new; the rest are the frame's own buffers."""
    from darkhorses_assets.io.types import column_specs, to_wire_frame

    frame = pl.DataFrame({"n": [1, 2, 3], "x": [0.5, None, 2.0], "tags": [["a"], [], None]})
    wire = to_wire_frame(frame, column_specs(frame.schema))

    def address(series: pl.Series) -> int:
        return series.to_arrow().buffers()[1].address

    assert address(wire["n"]) == address(frame["n"]) and address(wire["x"]) == address(frame["x"])
    assert wire["tags"].to_list() == ['["a"]', "[]", None]
