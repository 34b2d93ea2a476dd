"""How API-bound is a raw backfill? Backfills raw results + racecards for N days against the simulator.

The simulator enforces the real limit (2 requests/second, 429 beyond), so the lower bound of a backfill is
requests ÷ 2 seconds. Last line: `api_bound_ratio=X.XX requests=N wall_s=S` (ratio = wall ÷ (requests ÷ 2);
goal ≤ 1.10). Starts the embedded Postgres and the simulator itself; never calls the real API.

    .venv/bin/python bench/backfill.py --days 5
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date, timedelta

import requests
from _setup import bench_environment

from darkhorses_assets.assets.raw import DAYS_PER_RUN, raw_racecards, raw_results
from darkhorses_assets.local.runs import materialize_days

API_RATE_PER_S = 2.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=5, help="race days to backfill (default 5)")
    parser.add_argument("--last-day", type=date.fromisoformat, default=None, help="last race day (default: yesterday)")
    args = parser.parse_args()
    last = args.last_day or date.today() - timedelta(days=1)
    first = last - timedelta(days=args.days - 1)

    with bench_environment(api_rate_per_s=API_RATE_PER_S) as bench:
        print(f"backfilling raw_results + raw_racecards for {first} .. {last} ({args.days} days) "
              f"against {bench.api_url} at {API_RATE_PER_S:g} req/s", flush=True)
        started = time.perf_counter()
        materialize_days([raw_results, raw_racecards], first, last, resources=bench.resources,
                         instance=bench.instance, days_per_run=DAYS_PER_RUN)
        wall_s = time.perf_counter() - started
        log = requests.get(f"{bench.api_url}/_simulator/stats", timeout=10).json()
        statuses = [status for _, _, status in log["requests"]]
        print(f"requests={len(statuses)} throttled_429={statuses.count(429)}", flush=True)
        ratio = wall_s / (len(statuses) / API_RATE_PER_S)
        print(f"api_bound_ratio={ratio:.2f} requests={len(statuses)} wall_s={wall_s:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
