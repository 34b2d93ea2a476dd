"""Declarative automation on the project's real definitions: ticks evaluated in order, requested runs executed
against the simulator and a real Postgres, the clock moved with time-machine.

One race week around Christmas: the simulated world has no racing on 24 and 25 December, so those days are
materialized with 0 races and must not hold back 26 December or the days after it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest
import time_machine
from dagster import AssetKey, DagsterInstance, evaluate_automation_conditions
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from darkhorses_assets.automation.freshness import FRESHNESS_CHECK_KEYS
from darkhorses_assets.definitions import build_definitions
from darkhorses_assets.local.raceday import race_day_resources
from darkhorses_assets.racing_api.simulator import SimulatorConfig, SimulatorServer

UK = ZoneInfo("Europe/London")
TODAY = date(2025, 12, 26)
CHRISTMAS_EVE, CHRISTMAS = date(2025, 12, 24), date(2025, 12, 25)
NEWEST = TODAY + timedelta(days=7)
"""2026-01-02: the newest partition (racecards are published a week ahead)."""

RAW_RACECARDS, RAW_RESULTS = AssetKey(["raw", "raw_racecards"]), AssetKey(["raw", "raw_results"])
CLEAN = [AssetKey(["clean", name]) for name in ("races", "runners", "results", "non_runners", "runner_odds",
                                                 "quarantine")]
OUTCOMES = AssetKey(["features", "race_outcomes"])
MARKET = AssetKey(["features", "market_moves"])
"""Follows the same day's clean tables, like the outcomes."""
SPEED = AssetKey(["features", "speed_figures"])
"""Follows the same day's clean results and the races up to its day: a day's new results ask for the days after."""
FEATURES = AssetKey(["features", "runner_features"])
NIGHTLY = {
    *(AssetKey(["clean", name]) for name in ("horses", "jockeys", "trainers", "owners", "sires", "dams",
                                             "damsires")),
    *(AssetKey(["features", f"{name}_stats"]) for name in ("jockey", "trainer", "owner", "horse", "sire", "dam",
                                                           "damsire")),
    AssetKey(["features", "feature_signal"]),
}
"""Rebuilt after racing. Not clean/courses: its raw_courses was never fetched. Not the horse profiles: no raw."""


def at(day: date, h: int, mi: int = 0, s: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, h, mi, s, tzinfo=UK)


def days(first: date, last: date) -> set[str]:
    return {(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)}


class Automation:
    """The automation sensor's ticks and the runs they ask for, on one instance and one clock."""

    def __init__(self, defs, instance: DagsterInstance, sim: SimulatorServer, traveller):
        self.defs, self.instance, self.sim, self.traveller = defs, instance, sim, traveller
        self.job = defs.get_implicit_global_asset_job_def()
        self.checks = defs.resolve_asset_graph().asset_check_keys
        self.cursor = None

    def move_to(self, when: datetime) -> None:
        self.traveller.move_to(when)
        self.sim.clock.set(when)

    def tick(self, when: datetime) -> dict[AssetKey, set[str | None]]:
        """Evaluate every condition at ``when``; what it requested, by asset."""
        self.move_to(when)
        result = evaluate_automation_conditions(defs=self.defs, instance=self.instance, evaluation_time=when,
                                                cursor=self.cursor)
        self.cursor = result.cursor
        requested = {entity.key: set(result.get_requested_partitions(entity.key))
                     for entity in result.results
                     if isinstance(entity.key, AssetKey) and not entity.true_subset.is_empty}
        assert sum(len(p) for p in requested.values()) == result.total_requested
        assert not [key for key in requested if key.path[0] == "raw"]  # the API is spent by schedules only
        return requested

    def run(self, when: datetime, keys, first: date, last: date | None = None) -> None:
        """One run of ``keys`` over ``first`` … ``last`` (a range run, as the sensors and backfills start them)."""
        self.move_to(when)
        last = last or first
        tags = {ASSET_PARTITION_RANGE_START_TAG: first.isoformat(), ASSET_PARTITION_RANGE_END_TAG: last.isoformat()}
        checks = {check for check in self.checks if check.asset_key in set(keys)} - set(FRESHNESS_CHECK_KEYS)
        result = self.job.get_subset(asset_selection=set(keys), asset_check_selection=checks).execute_in_process(
            instance=self.instance, tags=tags, raise_on_error=False)
        assert result.success, [e.message for e in result.all_events if e.is_failure]


@pytest.fixture
def automation(postgres_url) -> Iterator[tuple[Automation, str]]:
    config = SimulatorConfig(now=at(TODAY, 9), time_scale=0, rate_limit_per_s=0)
    with SimulatorServer(config) as sim, time_machine.travel(at(TODAY, 9), tick=True) as traveller:
        defs = build_definitions(race_day_resources(postgres_url, sim))
        yield Automation(defs, DagsterInstance.ephemeral(), sim, traveller), postgres_url


def races_on(url: str, day: date) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM clean.races WHERE race_date = %s", (day,)).fetchone()[0]


def test_the_simulated_christmas_has_no_racing():
    with SimulatorServer(SimulatorConfig(now=at(TODAY, 9), time_scale=0, rate_limit_per_s=0)) as sim:
        assert sim.app.race_day_timeline(CHRISTMAS_EVE) == sim.app.race_day_timeline(CHRISTMAS) == []
        assert len(sim.app.race_day_timeline(TODAY)) > 20


def test_a_race_week_follows_its_raw_data(automation):
    auto, url = automation
    assert auto.tick(at(TODAY, 9, 0, 10)) == {}  # initial evaluation: nothing stored, nothing asked

    # racecards for a fortnight land (two weeks back to the newest partition); only the race week follows
    auto.run(at(TODAY, 9, 1), [RAW_RACECARDS], TODAY - timedelta(days=6), NEWEST)
    requested = auto.tick(at(TODAY, 9, 1, 30))
    race_week = days(CHRISTMAS_EVE, NEWEST)  # today-2 … today+7
    assert requested == {**{key: race_week for key in CLEAN}, OUTCOMES: race_week, MARKET: race_week,
                         SPEED: race_week}
    # features wait for their half-hour tick even though their inputs were just asked for

    # clean runs for every day but the newest (as if that day's run had failed), Christmas with 0 races
    auto.run(at(TODAY, 9, 2), [*CLEAN, OUTCOMES, MARKET, SPEED], CHRISTMAS_EVE, NEWEST - timedelta(days=1))
    assert races_on(url, CHRISTMAS) == races_on(url, CHRISTMAS_EVE) == 0
    assert races_on(url, TODAY) > 0 and races_on(url, TODAY + timedelta(days=1)) > 0
    assert auto.tick(at(TODAY, 9, 2, 30)) == {}  # nothing new: nothing asked again
    assert auto.tick(at(TODAY, 9, 3)) == {}

    # 09:30 passed: features of every day whose declared runners exist (not the newest: no runners yet)
    requested = auto.tick(at(TODAY, 9, 30, 30))
    assert requested == {FEATURES: days(CHRISTMAS_EVE, NEWEST - timedelta(days=1))}
    assert {TODAY.isoformat(), CHRISTMAS.isoformat()} <= requested[FEATURES]
    auto.run(at(TODAY, 9, 31), [FEATURES], CHRISTMAS_EVE, NEWEST - timedelta(days=1))
    assert auto.tick(at(TODAY, 9, 31, 30)) == {}
    assert auto.tick(at(TODAY, 10, 0, 30)) == {}  # a half-hour tick alone asks for nothing

    # today's results: clean and outcomes of today; the features of today onwards ride along (13:30 passed)
    auto.run(at(TODAY, 13, 40), [RAW_RESULTS], TODAY)
    requested = auto.tick(at(TODAY, 13, 40, 30))
    today_onwards = days(TODAY, NEWEST - timedelta(days=1))
    today = {TODAY.isoformat()}
    assert requested == {**{key: today for key in CLEAN}, OUTCOMES: today, MARKET: today, SPEED: today_onwards,
                         FEATURES: today_onwards}
    auto.run(at(TODAY, 13, 41), [*CLEAN, OUTCOMES, MARKET], TODAY)
    auto.run(at(TODAY, 13, 41, 30), [SPEED], TODAY, NEWEST - timedelta(days=1))
    auto.run(at(TODAY, 13, 42), [FEATURES], TODAY, NEWEST - timedelta(days=1))
    assert auto.tick(at(TODAY, 13, 42, 30)) == {}
    assert auto.tick(at(TODAY, 13, 43)) == {}

    # more results ten minutes later: clean again at once, features not before the next half hour
    auto.run(at(TODAY, 13, 50), [RAW_RESULTS], TODAY)
    requested = auto.tick(at(TODAY, 13, 50, 30))
    assert requested == {**{key: today for key in CLEAN}, OUTCOMES: today, MARKET: today, SPEED: today_onwards}
    auto.run(at(TODAY, 13, 51), [*CLEAN, OUTCOMES, MARKET], TODAY)
    auto.run(at(TODAY, 13, 51, 30), [SPEED], TODAY, NEWEST - timedelta(days=1))
    for minute in (51, 55, 59):
        assert FEATURES not in auto.tick(at(TODAY, 13, minute, 30)), minute
    assert auto.tick(at(TODAY, 14, 0, 30)) == {FEATURES: today_onwards}

    # the newest day's clean run succeeds at last: its features follow at once (never asked before)
    auto.run(at(TODAY, 14, 5), CLEAN, NEWEST)
    requested = auto.tick(at(TODAY, 14, 5, 30))
    newest = {NEWEST.isoformat()}
    assert requested == {OUTCOMES: newest, MARKET: newest, SPEED: newest, FEATURES: newest}

    # dimensions, statistics and the signal: once, after 22:00 UK, not at the next half hour
    assert auto.tick(at(TODAY, 21, 59, 30)) == {}
    nightly = auto.tick(at(TODAY, 22, 0, 30))
    assert set(nightly) == NIGHTLY
    assert all(partitions == {None} for partitions in nightly.values())
    assert auto.tick(at(TODAY, 22, 1)) == {}
    assert auto.tick(at(TODAY, 22, 30, 30)) == {}
    assert set(auto.tick(at(TODAY + timedelta(days=1), 22, 0, 30))) == NIGHTLY  # the next night again

    # a result landing between clean's own run and the next tick is not lost (Dagster's since_last_handled lost
    # it: the tick saw clean's update, a reset, and the new raw results, a trigger, and the reset won)
    next_day = TODAY + timedelta(days=1)
    auto.run(at(next_day, 22, 40), [RAW_RESULTS], TODAY)
    assert auto.tick(at(next_day, 22, 40, 30))[CLEAN[0]] == today
    auto.run(at(next_day, 22, 41), [*CLEAN, OUTCOMES, MARKET], TODAY)
    auto.run(at(next_day, 22, 41, 20), [RAW_RESULTS], TODAY)
    assert auto.tick(at(next_day, 22, 41, 30))[CLEAN[0]] == today
    auto.run(at(next_day, 22, 42), [*CLEAN, OUTCOMES, MARKET], TODAY)
    assert CLEAN[0] not in auto.tick(at(next_day, 22, 42, 30))
