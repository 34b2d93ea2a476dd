"""`darkhorses export`: a race-day range of a real Postgres table to Parquet and CSV equals the table's rows, read
a few days at a time; bad input (unknown table, start after end, a day outside the partitions, no database)
gives one line and exit code 2."""

from datetime import UTC, date, datetime, timedelta

import polars as pl
import pyarrow.parquet as pq
import pytest

from darkhorses_assets.cli import main
from darkhorses_assets.io import PostgresClient, TableRef

DAYS = [date(2025, 6, 1) + timedelta(days=offset) for offset in range(10)]
RUNNERS = TableRef("clean", "runners")


def _runners() -> pl.DataFrame:
    """Three runners a day over ten days, with the column types the clean tables use (nulls included)."""
    rows = []
    for index, day in enumerate(DAYS):
        for runner in range(3):
            rows.append({
                "race_id": f"rac_{index}", "race_date": day, "horse_id": f"hrs_{runner}",
                "finish_position": runner + 1 if runner < 2 else None, "sp_decimal": 2.5 + runner / 3,
                "dead_heat": runner == 0, "off_dt": datetime(2025, 6, 1, 14, 30, tzinfo=UTC) + timedelta(days=index),
                "comment": None if runner else f"led, \"kept on\" {index}",
            })
    return pl.DataFrame(rows)


@pytest.fixture
def stored(postgres_url, monkeypatch):
    monkeypatch.setenv("DARKHORSES_DATABASE_URL", postgres_url)
    client = PostgresClient(postgres_url)
    client.write_frame(RUNNERS, _runners())
    client.write_frame(TableRef("clean", "horses"), pl.DataFrame({"horse_id": ["hrs_0"], "name": ["Arkle"]}))
    return client


def _expected(client: PostgresClient, first: date, last: date) -> pl.DataFrame:
    rows = client.read_frame(RUNNERS)
    return rows.filter(pl.col("race_date").is_between(first, last)).sort("race_date", "race_id", "horse_id")


def test_export_to_parquet_and_csv_equals_the_tables_rows(stored, tmp_path, capsys):
    first, last = DAYS[2], DAYS[8]
    expected = _expected(stored, first, last)
    assert expected.height == 21

    parquet = tmp_path / "runners.parquet"
    assert main(["export", "clean.runners", "--start", str(first), "--end", str(last), "-o", str(parquet),
                 "--days-per-chunk", "2"]) == 0
    assert pq.ParquetFile(parquet).num_row_groups == 4  # written a chunk at a time: 7 days in chunks of 2
    exported = pl.read_parquet(parquet).sort("race_date", "race_id", "horse_id")
    assert exported.schema == expected.schema
    assert exported.equals(expected)

    csv = tmp_path / "runners.csv"
    assert main(["export", "runners", "--start", str(first), "--end", str(last), "-o", str(csv),
                 "--days-per-chunk", "3"]) == 0
    text = csv.read_text()
    assert text.count("race_id,") == 1  # one header
    read_back = pl.read_csv(csv, schema=expected.schema).sort("race_date", "race_id", "horse_id")
    assert read_back.equals(expected)
    assert "21 rows of clean.runners" in capsys.readouterr().err
    assert not list(tmp_path.glob(".*partial"))


def test_an_empty_range_writes_the_columns_and_no_rows(stored, tmp_path):
    out = tmp_path / "none.parquet"
    assert main(["export", "clean.runners", "--start", "2024-01-01", "--end", "2024-01-31", "-o", str(out)]) == 0
    frame = pl.read_parquet(out)
    assert frame.height == 0 and frame.schema == _expected(stored, DAYS[0], DAYS[0]).schema


def _one_line_error(capsys, argv) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err


def test_bad_input_is_one_line_and_exit_code_2(stored, tmp_path, capsys):
    out = str(tmp_path / "x.csv")
    err = _one_line_error(capsys, ["export", "clean.nope", "--start", "2025-06-01", "--end", "2025-06-02", "-o", out])
    assert "unknown table 'clean.nope'" in err and "clean.runners" in err and "clean.horses" in err

    err = _one_line_error(capsys, ["export", "clean.runners", "--start", "2025-06-03", "--end", "2025-06-02",
                                   "-o", out])
    assert "--start 2025-06-03 is after --end 2025-06-02" in err

    err = _one_line_error(capsys, ["export", "clean.runners", "--start", "2014-12-31", "--end", "2025-06-02",
                                   "-o", out])
    assert "outside the race-day partitions 2015-01-01" in err and "DARKHORSES_START_DATE" in err

    err = _one_line_error(capsys, ["export", "clean.runners", "--start", "2025-13-01", "--end", "2025-06-02",
                                   "-o", out])
    assert "not a date written YYYY-MM-DD" in err

    err = _one_line_error(capsys, ["export", "clean.horses", "--start", "2025-06-01", "--end", "2025-06-02",
                                   "-o", out])
    assert "has no race_date column" in err and "clean.runners" in err

    err = _one_line_error(capsys, ["export", "clean.runners", "--start", "2025-06-01", "--end", "2025-06-02",
                                   "-o", str(tmp_path / "x.xlsx")])
    assert ".parquet or .csv" in err
    assert not (tmp_path / "x.csv").exists()


def test_no_database_names_the_variable(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DARKHORSES_DATABASE_URL", "postgresql://nobody:secret@127.0.0.1:1/darkhorses")
    err = _one_line_error(capsys, ["export", "clean.runners", "--start", "2025-06-01", "--end", "2025-06-02",
                                   "-o", str(tmp_path / "x.csv")])
    assert err.startswith("darkhorses: no database: cannot connect") and "DARKHORSES_DATABASE_URL" in err
    assert "secret" not in err
