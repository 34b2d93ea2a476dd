"""How API-bound is a raw backfill? Backfills raw results + racecards for N days against the simulator.

The simulator enforces the real limit (2 requests/second, 429 beyond), so the lower bound of a backfill is
requests ÷ 2 seconds. Last line: `api_bound_ratio=X.XX requests=N wall_s=S` (ratio = wall ÷ (requests ÷ 2);
goal ≤ 1.10). Starts the embedded Postgres and the simulator itself; never calls the real API.

    .venv/bin/python bench/backfill.py --days 5
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import requests
from dagster import DagsterInstance

PROJECT_ROOT = Path(__file__).resolve().parent.parent
API_RATE_PER_S = 2.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=5, help="race days to backfill (default 5)")
    parser.add_argument("--last-day", type=date.fromisoformat, default=None,
                        help="last race day (default: yesterday)")
    args = parser.parse_args()
    last = args.last_day or date.today() - timedelta(days=1)
    first = last - timedelta(days=args.days - 1)

    from darkhorses_assets.assets.raw import DAYS_PER_RUN, raw_racecards, raw_results
    from darkhorses_assets.io import PostgresPolarsIOManager
    from darkhorses_assets.local.postgres import ensure_database, with_database
    from darkhorses_assets.local.runs import materialize_days
    from darkhorses_assets.local.services import local_services
    from darkhorses_assets.racing_api.client import RacingApiResource

    with local_services(simulator_rate_per_s=API_RATE_PER_S, force_simulator=True) as services, \
            tempfile.TemporaryDirectory() as dagster_home:
        server_url = services.env["DARKHORSES_DATABASE_URL"]
        ensure_database(with_database(server_url, "postgres"), "darkhorses_bench")
        database_url = with_database(server_url, "darkhorses_bench")
        os.environ["DARKHORSES_DAGSTER_STORAGE_URL"] = services.env["DARKHORSES_DAGSTER_STORAGE_URL"].replace(
            "/darkhorses?", "/darkhorses_bench?")
        (Path(dagster_home) / "dagster.yaml").write_text((PROJECT_ROOT / "dagster.yaml").read_text())
        instance = DagsterInstance.from_config(dagster_home)
        resources = {
            "io_manager": PostgresPolarsIOManager(database_url=database_url),
            "racing_api": RacingApiResource(
                base_url=services.env["RACING_API_BASE_URL"],
                username=services.env["RACING_API_USERNAME"],
                password=services.env["RACING_API_PASSWORD"],
                requests_per_second=API_RATE_PER_S,
            ),
        }
        print(f"backfilling raw_results + raw_racecards for {first} .. {last} ({args.days} days) "
              f"against {services.env['RACING_API_BASE_URL']} at {API_RATE_PER_S:g} req/s", flush=True)
        started = time.perf_counter()
        materialize_days([raw_results, raw_racecards], first, last, resources=resources, instance=instance,
                         days_per_run=DAYS_PER_RUN)
        wall_s = time.perf_counter() - started
        log = requests.get(f"{services.env['RACING_API_BASE_URL']}/_simulator/stats", timeout=10).json()
        statuses = [status for _, path, status in log["requests"] if path.startswith("/v1/")]
        throttled = sum(1 for status in statuses if status == 429)
        print(f"requests={len(statuses)} throttled_429={throttled}", flush=True)
        ratio = wall_s / (len(statuses) / API_RATE_PER_S)
        print(f"api_bound_ratio={ratio:.2f} requests={len(statuses)} wall_s={wall_s:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
