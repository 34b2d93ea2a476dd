"""Clean-layer throughput: materializes the clean tables for N simulated days already in raw.

Raw is filled first from the simulator with its rate limit off, then vacuumed (neither timed: the fill's 700 MB
would otherwise set autovacuum reading the raw tables in the middle of the timed runs, as it did on 2026-12-03:
62.1 s, then 72.4 s with autovacuum on raw.raw_racecards alongside). Then the range is cut into runs
the way the clean asset's BackfillPolicy cuts a backfill (a quarter per run; `--days-per-run 365` for one
run), each parsing, validating and writing races, runners, results, non-runners, odds and quarantine.
Last line: `clean_runners_per_s=N seconds=S`; goal: one year (≈ 120k runners) < 10 s.

    .venv/bin/python bench/clean.py --days 365
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date, timedelta

import psycopg
from _setup import bench_environment, peak_rss_mb

from darkhorses_assets.assets.clean import DAYS_PER_RUN, clean_assets
from darkhorses_assets.assets.raw import raw_racecards, raw_results
from darkhorses_assets.local.runs import materialize_days

SIMULATOR_TODAY = date(2025, 11, 1)


def _raw_filled(instance, first: date, last: date) -> bool:
    """Whether both raw assets have every day of [first, last] materialized (days without racing included)."""
    wanted = {(first + timedelta(days=offset)).isoformat() for offset in range((last - first).days + 1)}
    return all(wanted <= instance.get_materialized_partitions(asset.key) for asset in (raw_racecards, raw_results))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--days-per-run", type=int, default=DAYS_PER_RUN,
                        help=f"days per run, as the asset's BackfillPolicy cuts a backfill (default {DAYS_PER_RUN})")
    parser.add_argument("--reuse-raw", action="store_true",
                        help="keep the bench database and skip the raw fill when raw already holds every day")
    args = parser.parse_args()
    last = SIMULATOR_TODAY - timedelta(days=1)
    first = last - timedelta(days=args.days - 1)
    with bench_environment(api_rate_per_s=0, simulator_today=SIMULATOR_TODAY, fresh=not args.reuse_raw) as bench:
        from dagster import AssetSpec

        from darkhorses_assets.partitions import race_days

        if args.reuse_raw and _raw_filled(bench.instance, first, last):
            print(f"raw already holds {first} .. {last}: reusing it", flush=True)
        else:
            print(f"filling raw for {first} .. {last} from the simulator (untimed)…", flush=True)
            materialize_days([raw_results, raw_racecards], first, last, resources=bench.resources,
                             instance=bench.instance, days_per_run=31)
        with psycopg.connect(bench.database_url, autocommit=True) as conn:
            conn.execute("VACUUM (ANALYZE) raw.raw_racecards, raw.raw_results")
        sources = [AssetSpec(a.key, partitions_def=race_days, metadata={"partition_expr": "race_date"})
                   for a in (raw_results, raw_racecards)]
        runs = -(-args.days // args.days_per_run)
        print(f"materializing the clean tables in {runs} run(s) of ≤ {args.days_per_run} days…", flush=True)
        started = time.perf_counter()
        materialize_days([*clean_assets, *sources], first, last, resources=bench.resources,
                         instance=bench.instance, days_per_run=args.days_per_run)
        seconds = time.perf_counter() - started
        with psycopg.connect(bench.database_url) as conn:
            runners = conn.execute("SELECT count(*) FROM clean.runners WHERE race_date BETWEEN %s AND %s",
                                   (first, last)).fetchone()[0]
        print(f"runners={runners} peak_rss_mb={peak_rss_mb():.0f}")
        print(f"clean_runners_per_s={runners / seconds:.0f} seconds={seconds:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
