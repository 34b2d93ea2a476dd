"""Clean-layer throughput: materializes the clean tables for N simulated days already in raw.

Raw is filled first from the simulator with its rate limit off, then vacuumed (neither timed: the fill's 700 MB
would otherwise set autovacuum reading the raw tables in the middle of the timed runs, as it did on 2026-12-03:
62.1 s, then 72.4 s with autovacuum on raw.raw_racecards alongside). Then the range is cut into runs
the way the clean asset's BackfillPolicy cuts a backfill (a quarter per run; `--days-per-run 365` for one
run), each parsing, validating and writing races, runners, results, non-runners, odds and quarantine. The runs
go two at a time, each in a process of its own, as the run queue would take a backfill's runs on two cores (the
clean assets are in no pool; dagster.yaml allows 4 runs; `--concurrent-runs 1` runs them one after the other).
`peak_rss_mb` is the peak of those processes' RSS together (the raw fill not included).
Last line: `clean_runners_per_s=N seconds=S`; goal: one year (≈ 120k runners) < 10 s.

    .venv/bin/python bench/clean.py --days 365
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date, timedelta

import psycopg
from _setup import TreeRssPeak, bench_environment, bench_resources
from dagster import AssetSpec, DagsterInstance

from darkhorses_assets.assets.clean import DAYS_PER_RUN, clean_assets
from darkhorses_assets.assets.raw import raw_racecards, raw_results
from darkhorses_assets.io import PostgresPolarsIOManager
from darkhorses_assets.local.runs import day_chunks, materialize_days
from darkhorses_assets.partitions import race_days

SIMULATOR_TODAY = date(2025, 11, 1)


def _raw_filled(instance, first: date, last: date) -> bool:
    """Whether both raw assets have every day of [first, last] materialized (days without racing included)."""
    wanted = {(first + timedelta(days=offset)).isoformat() for offset in range((last - first).days + 1)}
    return all(wanted <= instance.get_materialized_partitions(asset.key) for asset in (raw_racecards, raw_results))


def fill_raw(first: date, last: date, database_url: str, env: dict[str, str], dagster_home: str) -> None:
    """Raw racecards and results for [first, last] from the simulator, in a child process: the parent's memory
    stays out of the clean runs' peak."""
    materialize_days([raw_results, raw_racecards], first, last,
                     resources=bench_resources(database_url, env, api_rate_per_s=0),
                     instance=DagsterInstance.from_config(dagster_home), days_per_run=31)


def clean_run(first: date, last: date, database_url: str, dagster_home: str) -> float:
    """One clean run over [first, last] in this (child) process, as a run worker would: its seconds."""
    started = time.perf_counter()
    sources = [AssetSpec(a.key, partitions_def=race_days, metadata={"partition_expr": "race_date"})
               for a in (raw_results, raw_racecards)]
    resources = {"io_manager": PostgresPolarsIOManager(database_url=database_url)}
    materialize_days([*clean_assets, *sources], first, last, resources=resources,
                     instance=DagsterInstance.from_config(dagster_home), days_per_run=(last - first).days + 1)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--days-per-run", type=int, default=DAYS_PER_RUN,
                        help=f"days per run, as the asset's BackfillPolicy cuts a backfill (default {DAYS_PER_RUN})")
    parser.add_argument("--reuse-raw", action="store_true",
                        help="keep the bench database and skip the raw fill when raw already holds every day")
    parser.add_argument("--concurrent-runs", type=int, default=2,
                        help="runs at a time, as the run queue would (default 2: one per core)")
    args = parser.parse_args()
    last = SIMULATOR_TODAY - timedelta(days=1)
    first = last - timedelta(days=args.days - 1)
    spawn = multiprocessing.get_context("spawn")
    with bench_environment(api_rate_per_s=0, simulator_today=SIMULATOR_TODAY, fresh=not args.reuse_raw) as bench:
        if args.reuse_raw and _raw_filled(bench.instance, first, last):
            print(f"raw already holds {first} .. {last}: reusing it", flush=True)
        else:
            print(f"filling raw for {first} .. {last} from the simulator (untimed)…", flush=True)
            with ProcessPoolExecutor(1, mp_context=spawn) as pool:
                pool.submit(fill_raw, first, last, bench.database_url, bench.env, bench.dagster_home).result()
        with psycopg.connect(bench.database_url, autocommit=True) as conn:
            conn.execute("VACUUM (ANALYZE) raw.raw_racecards, raw.raw_results")
        runs = list(day_chunks(first, last, args.days_per_run))
        print(f"materializing the clean tables in {len(runs)} run(s) of ≤ {args.days_per_run} days, "
              f"{args.concurrent_runs} at a time…", flush=True)
        with TreeRssPeak() as memory, ProcessPoolExecutor(args.concurrent_runs, mp_context=spawn) as pool:
            started = time.perf_counter()
            futures = [pool.submit(clean_run, start, end, bench.database_url, bench.dagster_home)
                       for start, end in runs]
            for (start, end), future in zip(runs, futures, strict=True):
                print(f"  {start} .. {end}: {future.result():.1f}s", flush=True)
            seconds = time.perf_counter() - started
        with psycopg.connect(bench.database_url) as conn:
            runners = conn.execute("SELECT count(*) FROM clean.runners WHERE race_date BETWEEN %s AND %s",
                                   (first, last)).fetchone()[0]
        print(f"runners={runners} peak_rss_mb={memory.peak_mb:.0f}")
        print(f"clean_runners_per_s={runners / seconds:.0f} seconds={seconds:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
