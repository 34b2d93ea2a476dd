"""End to end: the dagster CLI with the project's dagster.yaml materializes raw assets for 3 race days from the
simulator over HTTP into Postgres, and the runs are recorded in the Postgres run storage."""

import json
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import psycopg
import pytest
import requests

from darkhorses_assets.local.postgres import sqlalchemy_psycopg2_url
from darkhorses_assets.racing_api.simulator import SimulatorConfig, SimulatorServer

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DAYS = ["2025-10-06", "2025-10-07", "2025-10-08"]


def _simulator_race_ids(sim, config, day: str) -> set[str]:
    auth = (config.username, config.password)
    ids, skip = set(), 0
    while True:
        page = requests.get(
            f"{sim.url}/v1/results",
            params={"start_date": day, "end_date": day, "region": ["gb", "ire"], "limit": 50, "skip": skip},
            auth=auth, timeout=10,
        ).json()
        ids |= {race["race_id"] for race in page["results"]}
        skip += 50
        if skip >= page["total"]:
            return ids


@pytest.mark.slow
def test_raw_assets_for_three_days_via_dagster_cli(postgres_url, tmp_path):
    config = SimulatorConfig(today=date(2025, 11, 1), rate_limit_per_s=1000.0)
    with SimulatorServer(config, host="127.0.0.1", port=0) as sim:
        shutil.copyfile(PROJECT_ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
        env = {
            **os.environ,
            "DAGSTER_HOME": str(tmp_path),
            "DARKHORSES_DATABASE_URL": postgres_url,
            "DARKHORSES_DAGSTER_STORAGE_URL": sqlalchemy_psycopg2_url(postgres_url),
            "RACING_API_BASE_URL": sim.url,
            "RACING_API_USERNAME": config.username,
            "RACING_API_PASSWORD": config.password,
        }
        for day in DAYS:
            result = subprocess.run(
                [sys.executable, "-m", "dagster", "asset", "materialize", "-m", "darkhorses_assets.definitions",
                 "--select", "raw/raw_results,raw/raw_racecards", "--partition", day],
                cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300,
            )
            assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
            assert config.password not in result.stdout + result.stderr

        expected = {day: _simulator_race_ids(sim, config, day) for day in DAYS}

    with psycopg.connect(postgres_url) as conn:
        stored = conn.execute(
            "SELECT race_date::text, array_agg(race_id), count(*), count(DISTINCT race_id), "
            "bool_and(payload->>'race_id' = race_id) FROM raw.raw_results GROUP BY race_date ORDER BY 1"
        ).fetchall()
        requests_logged = conn.execute("SELECT DISTINCT request->>'path' FROM raw.raw_results").fetchall()
        racecard_days = conn.execute("SELECT count(DISTINCT race_date) FROM raw.raw_racecards").fetchone()[0]
        runs = conn.execute("SELECT status, run_body FROM runs").fetchall()

    assert [row[0] for row in stored] == DAYS
    for day, race_ids, count, distinct, payload_matches in stored:
        assert set(race_ids) == expected[day] and count == distinct == len(expected[day]) > 0
        assert payload_matches
    assert requests_logged == [("/v1/results",)]
    assert racecard_days == 3
    assert [status for status, _ in runs] == ["SUCCESS"] * 3
    assert all(config.password not in json.dumps(body) for _, body in runs)
