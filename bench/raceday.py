"""A simulated race day, unattended: how late do results reach clean.results, and at what API cost?

Starts the embedded Postgres (stopped afterwards if it started it) and the simulator with its clock frozen, in
a fresh scratch database `darkhorses_bench_raceday`, then drives every schedule and sensor from 05:30 to 22:00
UK (`darkhorses_assets.local.raceday`). Last line:
`results_lag_p95_min=X api_requests=N runs=R missed_races=M` (lag: simulated minutes from a result appearing on
the API to its rows in clean.results; API requests exclude horse profiles, which have their own budget).
Goal: lag p95 ≤ 10, missed_races=0, api_requests < 400.

    .venv/bin/python bench/raceday.py --date 2025-10-18
"""

from __future__ import annotations

import argparse
import logging
import time as clock
from collections import Counter
from datetime import date, datetime, time

from darkhorses_assets.definitions import build_definitions
from darkhorses_assets.local.postgres import DATABASE_URL_ENV, drop_database, ensure_database, with_database
from darkhorses_assets.local.raceday import UK, RaceDayDriver, race_day_resources
from darkhorses_assets.local.services import local_services

BENCH_DATABASE = "darkhorses_bench_raceday"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--date", type=date.fromisoformat, default=date(2025, 10, 18))
    args = parser.parse_args()
    logging.getLogger("dagster").setLevel(logging.ERROR)
    start = datetime.combine(args.date, time(5, 0), UK)
    with local_services(simulator_now=start, simulator_time_scale=0, simulator_rate_per_s=0,
                        force_simulator=True) as services:
        admin = with_database(services.env[DATABASE_URL_ENV], "postgres")
        drop_database(admin, BENCH_DATABASE)
        ensure_database(admin, BENCH_DATABASE)
        database_url = with_database(admin, BENCH_DATABASE)
        sim = services.simulator
        defs = build_definitions(race_day_resources(database_url, sim))
        started = clock.perf_counter()
        report = RaceDayDriver(defs, sim, database_url, args.date, progress=print).run()
        wall = clock.perf_counter() - started
        drop_database(admin, BENCH_DATABASE)
    runs = Counter(run.source.split("@")[0].split(":")[0] for run in report.runs)
    print(f"races published={len(report.published)} lags_min={report.lags_min} "
          f"failed_runs={len(report.failed_runs)} failed_checks={report.failed_checks} "
          f"duplicates={report.duplicate_run_keys} tomorrow_runners={report.tomorrow_runners} "
          f"with_features={report.tomorrow_runners_with_features}")
    print(f"runs by source: {dict(runs)}; wall_s={wall:.0f}")
    print(report.summary())


if __name__ == "__main__":
    main()
