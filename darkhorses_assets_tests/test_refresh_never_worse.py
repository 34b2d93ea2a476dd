"""Never worse, under the automation: the refresh schedules re-fetch stored partitions all day, so a broken or
shrunken API answer at one of their ticks must fail that run and leave the stored rows as they were.

Each case runs a schedule's own RunRequest (built at a fixed UK instant) as the daemon would, first against a
healthy simulator, then against one that answers worse, on one real Postgres database."""

from datetime import date, datetime, time, timedelta

import polars as pl
import pytest
import time_machine
from dagster import DagsterInstance, build_schedule_context

from darkhorses_assets.automation.schedules import racecards_today_refresh, results_final
from darkhorses_assets.definitions import build_definitions
from darkhorses_assets.io import PostgresClient, TableRef
from darkhorses_assets.local.raceday import UK, execute_request, race_day_resources
from darkhorses_assets.racing_api.simulator import Faults, SimulatorConfig, SimulatorServer

DAY = date(2025, 10, 18)
FAST_RETRIES = {"max_attempts": 2, "retry_initial_wait_s": 0.01, "retry_max_wait_s": 0.05}


def _tick(schedule, database_url: str, instance: DagsterInstance, when: datetime, **simulator):
    """The schedule's tick at `when` (UK), its request executed against a simulator whose clock says `when`."""
    config = SimulatorConfig(now=simulator.pop("now", when), time_scale=0, rate_limit_per_s=0, **simulator)
    with SimulatorServer(config) as sim, time_machine.travel(when, tick=True):
        defs = build_definitions(race_day_resources(database_url, sim, **FAST_RETRIES))
        repository = defs.get_repository_def()
        request = schedule.evaluate_tick(
            build_schedule_context(instance=instance, scheduled_execution_time=when, repository_def=repository)
        ).run_requests[0]
        return execute_request(repository, instance, request, schedule.job_name)


def _stored(database_url: str, table: str, day: date) -> pl.DataFrame:
    frame = PostgresClient(database_url).read_frame(TableRef("raw", table), ["race_id", "race_date", "payload"])
    return frame.filter(pl.col("race_date") == day).sort("race_id")


def _error(result) -> str:
    return result.get_step_failure_events()[0].step_failure_data.error.message


@pytest.mark.parametrize("fault", ["truncated", "malformed"])
def test_a_refresh_tick_meeting_unreadable_pages_keeps_todays_racecards(postgres_url, fault):
    instance = DagsterInstance.ephemeral()
    morning = datetime.combine(DAY, time(9, 0), UK)
    assert _tick(racecards_today_refresh, postgres_url, instance, morning).success
    stored = _stored(postgres_url, "raw_racecards", DAY)
    assert stored.height > 0

    broken = _tick(racecards_today_refresh, postgres_url, instance, morning + timedelta(minutes=30),
                   faults=Faults(**{f"rate_{fault}": 1.0}))

    assert not broken.success
    assert "could not be read" in _error(broken)
    assert _stored(postgres_url, "raw_racecards", DAY).equals(stored)


def test_the_final_results_tick_meeting_an_empty_answer_keeps_yesterdays_results(postgres_url):
    instance = DagsterInstance.ephemeral()
    yesterday = DAY - timedelta(days=1)
    dawn = datetime.combine(DAY, time(6, 30), UK)
    assert _tick(results_final, postgres_url, instance, dawn).success
    stored = _stored(postgres_url, "raw_results", yesterday)
    assert stored.height > 0

    # A simulator whose clock still says the day before yesterday answers 200 {"results": [], "total": 0}.
    empty = _tick(results_final, postgres_url, instance, dawn,
                  now=datetime.combine(yesterday - timedelta(days=1), time(12, 0), UK))

    assert not empty.success
    message = _error(empty)
    assert f"{yesterday} ({stored['race_id'].n_unique()} stored, 0 now)" in message
    assert "allow_fewer_races" in message
    assert _stored(postgres_url, "raw_results", yesterday).equals(stored)
