"""A simulated race day, unattended: 05:30 → 22:00 UK with every schedule and sensor ticked at its cadence,
runs executed in process against the real Postgres and the simulator (clock driven by the test).

One test, one day (2025-10-18: 40 races, 9 meetings, one late result), because the day takes minutes."""

from datetime import date, datetime, time

import pytest

from darkhorses_assets.definitions import build_definitions
from darkhorses_assets.local.raceday import UK, RaceDayDriver, race_day_resources
from darkhorses_assets.racing_api.simulator import SimulatorConfig, SimulatorServer

DAY = date(2025, 10, 18)


@pytest.mark.slow
def test_a_race_day_runs_itself(postgres_url):
    config = SimulatorConfig(now=datetime.combine(DAY, time(5, 0), UK), time_scale=0, rate_limit_per_s=0)
    with SimulatorServer(config) as sim:
        defs = build_definitions(race_day_resources(postgres_url, sim))
        report = RaceDayDriver(defs, sim, postgres_url, DAY).run()

    assert report.failed_runs == []
    assert report.duplicate_run_keys == []
    assert report.failed_checks == []
    assert len(report.published) == 40
    assert report.missed_races == []
    assert report.tomorrow_runners > 0
    assert report.tomorrow_runners_with_features == report.tomorrow_runners
    assert report.api_requests < 400, report.summary()
    assert report.lag_p95_min() <= 10, report.summary()
    sources = {run.source.split("@")[0].split(":")[0] for run in report.runs}
    assert {"racecards_week_ahead", "racecards_today_refresh", "racecards_tomorrow_refresh", "results_final",
            "results_watch", "automation", "raw_racecards_freshness", "raw_results_freshness"} <= sources
