"""Feature throughput: N synthetic years of clean data in Postgres → runner features, outcomes and statistics.

The synthetic world (`darkhorses_assets_tests.synthetic`) is written to clean.races / runners / results /
runner_odds (untimed, in a child process, so `peak_rss_mb` is the feature computation's own). Then one Dagster
run computes every race-day feature family — runner_features (form, records, draw bias, speed), race_outcomes,
market_moves and speed_figures — for every day of the N years (each day as of itself), and a second computes
the seven entity statistics. Last line: `features_seconds=S peak_rss_mb=M runners=R`; goal for 10 years
(≈ 1.3M runners): < 40 s and < 3 GB (issue 18).

    .venv/bin/python bench/features.py --years 10
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime, timedelta

from _setup import bench_environment, peak_rss_mb
from dagster import AssetSpec, materialize

from darkhorses_assets.assets.features import (
    entity_statistics,
    market_moves,
    race_outcomes,
    runner_features,
    speed_figures,
)
from darkhorses_assets.assets.keys import clean_key
from darkhorses_assets.io import PostgresClient, TableRef, time_window_slice
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
        client.write_frame(TableRef("clean", name), frame, time_window_slice("race_date", start, end, []))
    return first, last, tables["runners"].height


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--years", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with bench_environment(api_rate_per_s=0) as bench:
        print(f"generating {args.years} synthetic years and writing them to clean.* (untimed)…", flush=True)
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            first, last, runners = pool.submit(write_synthetic_history, bench.database_url, args.years,
                                               args.seed).result()
        sources = [AssetSpec(clean_key(n), partitions_def=race_days, metadata={"partition_expr": "race_date"})
                   for n in ("races", "runners", "results", "runner_odds")]
        print(f"computing features for {first} .. {last} ({runners} runners) in one run…", flush=True)
        started = time.perf_counter()
        # As a backfill runs them: each asset by its BackfillPolicy (market_moves a year per run).
        materialize_days([runner_features, race_outcomes, speed_figures, *sources], first, last,
                         resources=bench.resources, instance=bench.instance, days_per_run=100_000)
        materialize_days([market_moves, *sources], first, last, resources=bench.resources, instance=bench.instance,
                         days_per_run=market_moves.backfill_policy.max_partitions_per_run)
        features_s = time.perf_counter() - started
        print(f"race-day features (runner features, outcomes, market moves, speed figures): {features_s:.1f}s; "
              "computing statistics…", flush=True)
        materialize([entity_statistics, AssetSpec(clean_key("races")), AssetSpec(clean_key("results"))],
                    resources=bench.resources, instance=bench.instance)
        seconds = time.perf_counter() - started
        print(f"statistics: {seconds - features_s:.1f}s")
        print(f"features_seconds={seconds:.1f} peak_rss_mb={peak_rss_mb():.0f} runners={runners}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
