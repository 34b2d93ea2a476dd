"""Feature throughput: N synthetic years of clean data in Postgres → runner features, outcomes and statistics.

The synthetic world (`darkhorses_assets_tests.synthetic`) is written to clean.races / runners / results /
runner_odds (untimed, in a child process). Then every feature family is computed for every day of the N years
(each day as of itself) the way a backfill of the features group runs: one run per asset and BackfillPolicy
(runner_features, race_outcomes and speed_figures each a single run over the range, market_moves a year per
run, the seven entity statistics one run), two runs at a time as the run queue would on two cores (dagster.yaml
allows 4; `--concurrent-runs 1` runs them one after the other). `peak_rss_mb` is the peak of all those
processes' RSS together. Last line: `features_seconds=S peak_rss_mb=M runners=R`; goal for 10 years (≈ 1.3M
runners): < 40 s and < 3 GB (issue 18).

    .venv/bin/python bench/features.py --years 10
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime, timedelta

from _setup import TreeRssPeak, bench_environment
from dagster import AssetSpec, DagsterInstance, materialize

from darkhorses_assets.assets.features import (
    entity_statistics,
    market_moves,
    race_outcomes,
    runner_features,
    speed_figures,
)
from darkhorses_assets.assets.keys import clean_key
from darkhorses_assets.io import PostgresClient, PostgresPolarsIOManager, TableRef, time_window_slice
from darkhorses_assets.local.runs import materialize_days
from darkhorses_assets.partitions import race_days
from darkhorses_assets_tests.synthetic import synthetic_history, synthetic_odds


def write_synthetic_history(database_url: str, years: int, seed: int) -> tuple[date, date, int]:
    """Generate and store the synthetic clean tables; runs in a child process so that the parent's peak RSS
    measures only the feature computation."""
    tables = dict(zip(("races", "runners", "results"), synthetic_history(years, seed), strict=True))
    tables["runner_odds"] = synthetic_odds(tables["races"], tables["runners"], tables["results"], seed)
    first, last = tables["races"]["race_date"].min(), tables["races"]["race_date"].max()
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    end = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
    client = PostgresClient(database_url)
    for name, frame in tables.items():
        # In date order, as day-by-day clean runs store them (the race_date BRIN index then skips other years).
        client.write_frame(TableRef("clean", name), frame.sort("race_date", maintain_order=True),
                           time_window_slice("race_date", start, end, []))
    return first, last, tables["runners"].height


RUNS = {
    "runner_features": runner_features,
    "speed_figures": speed_figures,
    "race_outcomes": race_outcomes,
    "market_moves": market_moves,
    "entity_statistics": entity_statistics,
}
"""The backfill's runs by asset, longest first, as the queue would take them (a child process is handed the
name, not the definition)."""


def run_family(family: str, first: date, last: date, database_url: str, dagster_home: str) -> float:
    """One asset's runs over [first, last] in this (child) process, as a run worker would: its seconds."""
    started = time.perf_counter()
    resources = {"io_manager": PostgresPolarsIOManager(database_url=database_url)}
    instance = DagsterInstance.from_config(dagster_home)
    asset = RUNS[family]
    if asset is entity_statistics:
        materialize([entity_statistics, AssetSpec(clean_key("races")), AssetSpec(clean_key("results"))],
                    resources=resources, instance=instance)
    else:
        sources = [AssetSpec(clean_key(n), partitions_def=race_days, metadata={"partition_expr": "race_date"})
                   for n in ("races", "runners", "results", "runner_odds")]
        materialize_days([asset, *sources], first, last, resources=resources, instance=instance,
                         days_per_run=asset.backfill_policy.max_partitions_per_run or 100_000)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--years", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--concurrent-runs", type=int, default=2,
                        help="runs at a time, as the run queue would (default 2: one per core)")
    args = parser.parse_args()
    spawn = multiprocessing.get_context("spawn")
    with bench_environment(api_rate_per_s=0) as bench:
        print(f"generating {args.years} synthetic years and writing them to clean.* (untimed)…", flush=True)
        with ProcessPoolExecutor(1, mp_context=spawn) as pool:
            first, last, runners = pool.submit(write_synthetic_history, bench.database_url, args.years,
                                               args.seed).result()
        print(f"computing features for {first} .. {last} ({runners} runners), {args.concurrent_runs} runs at a "
              "time…", flush=True)
        with TreeRssPeak() as memory, ProcessPoolExecutor(args.concurrent_runs, mp_context=spawn) as pool:
            started = time.perf_counter()
            futures = {family: pool.submit(run_family, family, first, last, bench.database_url, bench.dagster_home)
                       for family in RUNS}
            for family, future in futures.items():
                print(f"  {family}: {future.result():.1f}s", flush=True)
            seconds = time.perf_counter() - started
        print(f"features_seconds={seconds:.1f} peak_rss_mb={memory.peak_mb:.0f} runners={runners}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
