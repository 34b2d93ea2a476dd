"""Postgres stopped in the middle of a partition write: the write fails, and once the server is back the partition
holds its previous rows — never half of the new ones — and no lock is left behind."""

import subprocess
import sys
from datetime import date

import psycopg
import pytest

from darkhorses_assets.io import PostgresClient
from darkhorses_assets.local.postgres import stop_local_postgres
from darkhorses_assets_tests.test_io_writes import (
    SIGKILL_WRITER,
    TABLE,
    _wait_for_copy,
    day_slice,
    runners,
    table_rows,
)


@pytest.mark.slow
def test_postgres_stopped_mid_copy_keeps_the_previous_rows(scratch_dir, own_server):
    data_dir = scratch_dir / "pgdata"
    url = own_server(data_dir).url()
    day = date(2024, 3, 1)
    PostgresClient(url).write_frame(TABLE, runners(day, 5, "old"), day_slice(day))
    writer = subprocess.Popen([sys.executable, "-c", SIGKILL_WRITER, url], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_copy(url, writer)
        stop_local_postgres(data_dir)
        out, err = writer.communicate(timeout=60)
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
    assert writer.returncode != 0 and "finished" not in out
    assert "server closed the connection" in err

    url = own_server(data_dir).url()
    assert table_rows(url) == [(day, "old", 5)]
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'").fetchone()[0] == 0
    PostgresClient(url).write_frame(TABLE, runners(day, 7, "after"), day_slice(day))
    assert table_rows(url) == [(day, "after", 7)]
