"""The simulated world: realistic volumes, an informative market, form that carries signal, determinism."""

from __future__ import annotations

import statistics
import time
from collections import Counter
from datetime import date, timedelta

import pytest
import requests

from darkhorses_assets.racing_api.simulator import SimulatorConfig, SimulatorServer
from darkhorses_assets.racing_api.simulator.server import shared_world
from darkhorses_assets.racing_api.simulator.world import World

TODAY = date(2025, 11, 1)
AUTH = ("darkhorses", "simulator")
DAYS = [date(2025, 8, 1) + timedelta(days=i) for i in range(60)]


@pytest.fixture(scope="module")
def results_by_day() -> dict[date, list[dict]]:
    """60 days of results fetched over HTTP, paging by 50 until ``total``."""
    found: dict[date, list[dict]] = {}
    config = SimulatorConfig(today=TODAY, rate_limit_per_s=1000.0)
    with SimulatorServer(config) as server, requests.Session() as session:
        session.auth = AUTH
        for day in DAYS:
            races: list[dict] = []
            while True:
                params = {"start_date": day.isoformat(), "region": ["gb", "ire"], "limit": 50}
                params["skip"] = len(races)
                page = session.get(server.url + "/v1/results", params=params, timeout=30).json()
                races += page["results"]
                if len(races) >= page["total"]:
                    break
            found[day] = races
    return found


def test_daily_volumes_are_realistic(results_by_day):
    per_day = [len(races) for races in results_by_day.values()]
    runners = [len(race["runners"]) for races in results_by_day.values() for race in races]
    assert 25 <= statistics.mean(per_day) <= 55
    assert 8 <= statistics.mean(runners) <= 12
    assert min(runners) >= 1 and max(runners) <= 30
    assert any(n > 50 for n in per_day) or max(per_day) > 40, "some days need more than one results page"


def test_favourites_win_about_a_third_of_races(results_by_day):
    races = [race for races in results_by_day.values() for race in races]
    favourite_won = sum(
        any(r["position"] == "1" and r["sp"].endswith(("F", "J", "C")) for r in race["runners"])
        for race in races
    )
    assert 0.25 <= favourite_won / len(races) <= 0.45


def test_non_finishers_are_mostly_in_jump_races(results_by_day):
    codes = Counter()
    for races in results_by_day.values():
        for race in races:
            for runner in race["runners"]:
                if not runner["position"].isdigit():
                    codes[race["type"] == "Flat"] += 1
    assert codes[False] > 3 * codes[True]


def test_abler_horses_win_more():
    world = shared_world(7)
    wins, runs = Counter(), Counter()
    for day in DAYS[:30]:
        for race in world.races_on(day):
            starters = sorted(race.starters, key=lambda r: r.horse.ability_at(r.age))
            for rank, runner in enumerate(starters):
                third = min(2, 3 * rank // len(starters))
                runs[third] += 1
                wins[third] += runner.position == 1
    rates = [wins[t] / runs[t] for t in range(3)]
    assert rates[0] < rates[1] < rates[2]
    assert rates[2] > 2 * rates[0]


def test_a_day_does_not_depend_on_what_was_generated_before():
    shared = shared_world(7)
    fresh = World(7)
    fresh.races_on(date(2025, 9, 9))
    day = date(2025, 6, 5)

    def fingerprint(races):
        return [(r.race_id, r.course.id, [(x.horse.id, x.position, x.status, x.sp_num) for x in r.runners])
                for r in races]

    assert fingerprint(fresh.races_on(day)) == fingerprint(shared.races_on(day))


def test_every_date_from_2015_to_next_week_has_racing_except_christmas():
    world = shared_world(7)
    for day in (date(2015, 1, 1), date(2019, 7, 20), date(2022, 12, 26), TODAY + timedelta(days=7)):
        assert len(world.races_on(day)) >= 15, day
    assert world.races_on(date(2023, 12, 25)) == []
    assert world.races_on(date(2014, 12, 31)) == []


def test_a_horse_runs_at_most_once_a_day_and_last_run_points_at_a_real_run():
    world = shared_world(7)
    day = date(2025, 9, 20)
    horses = [runner.horse for race in world.races_on(day) for runner in race.runners]
    assert len(horses) == len({h.number for h in horses})
    ordinal, checked, consistent = day.toordinal(), 0, 0
    for horse in horses[:60]:
        previous = world.previous_runs(horse, ordinal, 1)
        if previous:
            earlier = world.races_on(date.fromordinal(previous[0]))
            checked += 1
            consistent += any(r.horse.number == horse.number for race in earlier for r in race.runners)
    assert checked > 20 and consistent >= 0.9 * checked


def test_winter_brings_abandoned_meetings_and_dead_heats_happen():
    """Dead heats are about 1 race in 500 (~40 races a day): a quarter has a handful, a month may have none."""
    world = shared_world(7)
    abandoned = dead_heats = 0
    for i in range(90):
        for race in world.races_on(date(2025, 1, 1) + timedelta(days=i)):
            abandoned += race.abandoned and i < 30
            dead_heats += any(r.dead_heat for r in race.runners)
    assert abandoned > 0 and dead_heats > 0


def test_generating_a_day_is_fast():
    world = shared_world(7)
    world.races_on(date(2020, 5, 1))
    started = time.perf_counter()
    days = [date(2020, 5, 2) + timedelta(days=i) for i in range(20)]
    for day in days:
        world.races_on(day)
    assert (time.perf_counter() - started) / len(days) < 0.1
