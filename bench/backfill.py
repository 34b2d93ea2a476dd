"""How API-bound is a raw backfill? Backfills raw results + racecards for N days against the simulator.

The simulator enforces the real limit (2 requests/second, 429 beyond), so the lower bound of a backfill is
requests ÷ 2 seconds. Last line: `api_bound_ratio=X.XX requests=N wall_s=S` (ratio = wall ÷ (requests ÷ 2);
goal ≤ 1.05). Starts the embedded Postgres and the simulator itself, the simulator in a process of its own as
the real API is (in this one it would take the run's interpreter lock to build its answers); never calls the
real API.

    .venv/bin/python bench/backfill.py --days 5

`--plan START:END` only counts: the requests a raw backfill of those days needs, and its duration at 2 req/s,
without calling any API or starting anything. Results cost 1 page of 50 per day, 2 on days with more than 50
races (races per day from the simulated world, a sample of at most 200 days for long ranges); pro racecards 1
page per day from DARKHORSES_RACECARDS_HISTORY_FROM (default 2023-01-23), none before; results none before
DARKHORSES_RESULTS_HISTORY_FROM when set, nor after today. The saving is against asking every day for both.
Last line: `requests=N hours_at_2_per_s=H results_requests=R racecards_requests=C racecards_skipped_days=S
results_skipped_days=T naive_requests=M saving_requests=V`.

    .venv/bin/python bench/backfill.py --plan 2015-01-01:2025-12-31
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from datetime import date, timedelta

API_RATE_PER_S = 2.0
PLAN_SAMPLE_DAYS = 200
"""Days of the simulated world generated for a plan (≈ 25 ms each); a longer range is sampled evenly."""


def _plan_range(text: str) -> tuple[date, date]:
    first, sep, last = text.partition(":")
    try:
        span = date.fromisoformat(first), date.fromisoformat(last)
    except ValueError:
        span = None
    if not sep or span is None or span[0] > span[1]:
        raise argparse.ArgumentTypeError(f"{text!r} is not START:END with START <= END, e.g. 2015-01-01:2025-12-31")
    return span


def _results_pages_per_day(days: list[date]) -> float:
    """Mean `/v1/results` pages per asked day: ceil(races ÷ 50), at least 1 (a day without racing still
    answers `total: 0`), with races per day from the simulated world (evenly sampled, a stride that is not a
    multiple of 7 so every weekday is seen)."""
    from darkhorses_assets.racing_api.client import RESULTS_PAGE_LIMIT
    from darkhorses_assets.racing_api.simulator.world import World

    if not days:
        return 0.0
    stride = max(1, math.ceil(len(days) / PLAN_SAMPLE_DAYS))
    stride += stride > 1 and stride % 7 == 0
    world = World(7)
    sample = days[::stride]
    return sum(max(1, math.ceil(len(world.races_on(day)) / RESULTS_PAGE_LIMIT)) for day in sample) / len(sample)


def _duration(requests: int) -> str:
    """How long `requests` take at the API's rate, as a person reads it."""
    seconds = round(requests / API_RATE_PER_S)
    hours, minutes = divmod(seconds // 60, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {seconds % 60:02d} s"


def plan(first: date, last: date) -> int:
    """Print what a raw backfill of first … last costs in requests and time, without calling the API."""
    from darkhorses_assets import settings
    from darkhorses_assets.partitions import today_in_uk

    today = today_in_uk()
    cards_from, results_from = settings.racecards_history_from(), settings.results_history_from()
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    results_days = [day for day in days if day <= today and (results_from is None or day >= results_from)]
    card_days = [day for day in days if day >= cards_from]
    pages_per_day = _results_pages_per_day(days)
    results_requests = round(pages_per_day * len(results_days))
    requests = results_requests + len(card_days)
    naive = round(pages_per_day * len(days)) + len(days)
    hours = requests / API_RATE_PER_S / 3600

    skipped_results = f"after today {today}" + (
        f", before {settings.RESULTS_HISTORY_FROM_ENV}={results_from}" if results_from else "")
    print(f"plan for a raw backfill of {first} .. {last} ({len(days)} race days), counted without calling the API")
    print(f"  raw_results:   {len(results_days)} days asked, {len(days) - len(results_days)} skipped "
          f"({skipped_results}); {pages_per_day:.3f} pages of 50 a day → {results_requests} requests")
    print(f"  raw_racecards: {len(card_days)} days asked (from {cards_from}, {settings.RACECARDS_HISTORY_FROM_ENV}), "
          f"{len(days) - len(card_days)} skipped; 1 page a day → {len(card_days)} requests")
    print(f"  total: {requests} requests, {_duration(requests)} at {API_RATE_PER_S:g} req/s")
    print(f"  asking every day for both: {naive} requests, {_duration(naive)}; "
          f"saving {naive - requests} requests, {_duration(naive - requests)}")
    print(f"requests={requests} hours_at_2_per_s={hours:.2f} results_requests={results_requests} "
          f"racecards_requests={len(card_days)} racecards_skipped_days={len(days) - len(card_days)} "
          f"results_skipped_days={len(days) - len(results_days)} naive_requests={naive} "
          f"saving_requests={naive - requests}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=5, help="race days to backfill (default 5)")
    parser.add_argument("--last-day", type=date.fromisoformat, default=None, help="last race day (default: yesterday)")
    parser.add_argument("--plan", type=_plan_range, default=None, metavar="START:END",
                        help="only count the requests a backfill of START..END needs (no API call, nothing started)")
    args = parser.parse_args()
    if args.plan:
        return plan(*args.plan)

    import requests
    from _setup import bench_environment

    from darkhorses_assets.assets.raw import DAYS_PER_RUN, raw_racecards, raw_results
    from darkhorses_assets.local.runs import materialize_days

    last = args.last_day or date.today() - timedelta(days=1)
    first = last - timedelta(days=args.days - 1)

    with bench_environment(api_rate_per_s=API_RATE_PER_S, simulator_process=True) as bench:
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
