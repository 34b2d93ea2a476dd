"""A daily run's local cost: one new race day through raw → clean → features, the way automation runs it.

History comes first (untimed): `--history-days` days of raw racecards and results, their clean tables, from
the simulator with its rate limit off. Then the day itself, as the automation path does it — one run for the
day's raw racecards + results (the schedules), one for its clean tables and one for its runner features and
outcomes (the automation conditions) — is timed. The day is fetched once before (untimed) so the simulator
answers from its cache: what remains of the API in the timed runs is loopback HTTP, and the time measured is
the platform's own work (decode, parse, validate, COPY, features, Dagster's bookkeeping) beside the requests a
real API would take 0.5 s each to answer. Last line: `local_seconds=S api_requests=N`; goal: S < 15.

    .venv/bin/python bench/day.py
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date, timedelta

from _setup import bench_environment, peak_rss_mb
from dagster import AssetSpec

from darkhorses_assets.assets.clean import clean_assets
from darkhorses_assets.assets.features import race_outcomes, runner_features
from darkhorses_assets.assets.keys import clean_key
from darkhorses_assets.assets.raw import raw_racecards, raw_results
from darkhorses_assets.local.runs import materialize_days
from darkhorses_assets.partitions import race_days

SIMULATOR_TODAY = date(2025, 11, 1)


def _sources(*keys) -> list[AssetSpec]:
    """Upstream assets a run reads but does not materialize."""
    return [AssetSpec(key, partitions_def=race_days, metadata={"partition_expr": "race_date"}) for key in keys]


def _api_requests(instance) -> int:
    total = 0
    for asset in (raw_racecards, raw_results):
        event = instance.get_latest_materialization_event(asset.key)
        total += event.asset_materialization.metadata["api_requests"].value if event else 0
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--history-days", type=int, default=90, help="days of history before the day (default 90)")
    args = parser.parse_args()
    day = SIMULATOR_TODAY - timedelta(days=1)
    first = day - timedelta(days=args.history_days)
    with bench_environment(api_rate_per_s=0, simulator_today=SIMULATOR_TODAY) as bench:
        run = dict(resources=bench.resources, instance=bench.instance)
        print(f"history {first} .. {day - timedelta(days=1)} (untimed)…", flush=True)
        materialize_days([raw_results, raw_racecards], first, day, days_per_run=31, **run)
        materialize_days([*clean_assets, *_sources(raw_results.key, raw_racecards.key)], first, day - timedelta(days=1),
                         days_per_run=92, **run)
        steps = {
            "raw": [raw_racecards, raw_results],
            "clean": [*clean_assets, *_sources(raw_results.key, raw_racecards.key)],
            "features": [runner_features, race_outcomes, *_sources(*map(clean_key, ("races", "runners", "results")))],
        }
        timings = {}
        for name, assets in steps.items():
            started = time.perf_counter()
            materialize_days(assets, day, day, **run)
            timings[name] = time.perf_counter() - started
        requests = _api_requests(bench.instance)
        print(" ".join(f"{name}_seconds={seconds:.2f}" for name, seconds in timings.items())
              + f" peak_rss_mb={peak_rss_mb():.0f}")
        print(f"local_seconds={sum(timings.values()):.1f} api_requests={requests}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
