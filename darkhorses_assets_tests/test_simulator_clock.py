"""The simulator's clock over real HTTP: results appear after the off, racecards change during the day."""

from __future__ import annotations

import math
import statistics
import time
from datetime import date, datetime, timedelta

import pytest
import requests

from darkhorses_assets.racing_api.simulator import SimulatorConfig, SimulatorServer, timeline
from darkhorses_assets.racing_api.simulator.__main__ import build_parser, config_from_args, main
from darkhorses_assets.racing_api.simulator.clock import SimulatorClock
from darkhorses_assets.racing_api.simulator.model import UK
from darkhorses_assets.racing_api.simulator.server import SimulatorApp

DAY = date(2025, 10, 18)
ABANDON_DAY = date(2025, 1, 4)
"""Market Rasen's meeting is abandoned on this day of the seed-7 world."""
GOING_DAY = date(2025, 1, 10)
"""Stratford's going changes on this day of the seed-7 world."""
AUTH = ("darkhorses", "simulator")


def uk(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=UK)


@pytest.fixture(scope="module")
def sim():
    """One server whose clock each test sets before using it (frozen: time_scale 0)."""
    config = SimulatorConfig(now=uk(DAY, 11), time_scale=0, rate_limit_per_s=0)
    with SimulatorServer(config) as server:
        yield server


def get(server: SimulatorServer, path: str, params=None) -> requests.Response:
    return requests.get(server.url + path, params=params, auth=AUTH, timeout=30)


def results(server: SimulatorServer, day: date) -> tuple[int, list[dict]]:
    """``(total, races)`` of ``day``, paged by 50."""
    races: list[dict] = []
    while True:
        page = get(server, "/v1/results", {"start_date": day.isoformat(), "limit": 50, "skip": len(races)}).json()
        races += page["results"]
        if len(races) >= page["total"]:
            return page["total"], races


def cards(server: SimulatorServer, day: date) -> dict[str, dict]:
    page = get(server, "/v1/racecards/pro", {"date": day.isoformat()}).json()
    return {card["race_id"]: card for card in page["racecards"]}


# -- the clock itself ------------------------------------------------------------------------------------


def test_a_frozen_clock_stands_still_and_moves_only_by_set_and_advance():
    clock = SimulatorClock(datetime(2025, 10, 18, 13, 5), time_scale=0)
    first = clock.now()
    time.sleep(0.05)
    assert clock.now() == first == uk(DAY, 13, 5)
    assert first.tzinfo is UK and clock.today() == DAY
    clock.advance(timedelta(minutes=55))
    assert clock.now() == uk(DAY, 14)
    clock.set(datetime(2025, 10, 19, 9, 30, tzinfo=UK))
    assert clock.now() == uk(date(2025, 10, 19), 9, 30) and clock.today() == date(2025, 10, 19)
    with pytest.raises(ValueError):
        SimulatorClock(time_scale=-1)


def test_naive_times_are_uk_local_and_utc_arithmetic_crosses_the_clock_change():
    clock = SimulatorClock(datetime(2025, 10, 26, 0, 30), time_scale=0)
    assert clock.now().utcoffset() == timedelta(hours=1)
    clock.advance(timedelta(hours=3))  # clocks went back at 02:00 BST
    assert clock.now().replace(tzinfo=None) == datetime(2025, 10, 26, 2, 30)
    clock.set(datetime(2025, 10, 26, 12, 0))
    assert clock.now().utcoffset() == timedelta(0)


def test_a_running_clock_follows_real_time_times_the_scale():
    clock = SimulatorClock(datetime(2025, 10, 18, 13, 5), time_scale=60)
    started, before = time.monotonic(), clock.now()
    time.sleep(0.5)
    real, simulated = time.monotonic() - started, (clock.now() - before).total_seconds()
    assert simulated == pytest.approx(60 * real, rel=0.1)
    assert abs((SimulatorClock().now() - datetime.now(UK)).total_seconds()) < 2


# -- configuration and command line ----------------------------------------------------------------------


def test_today_alone_freezes_the_clock_at_midnight():
    app = SimulatorApp(SimulatorConfig(today=DAY))
    assert app.clock.now() == uk(DAY, 0) and app.clock.time_scale == 0 and app.today == DAY
    with pytest.raises(ValueError, match="give now instead"):
        SimulatorConfig(today=DAY, time_scale=60)
    with pytest.raises(ValueError, match="not on today"):
        SimulatorConfig(today=DAY, now=datetime(2025, 10, 19, 9, 0))
    both = SimulatorConfig(today=DAY, now=datetime(2025, 10, 18, 9, 0), time_scale=0)
    assert both.make_clock().now() == uk(DAY, 9)


def test_command_line_now_and_time_scale():
    config = config_from_args(build_parser().parse_args(["--now", "2025-10-18T13:05", "--time-scale", "60"]))
    assert (config.now, config.time_scale, config.today) == (datetime(2025, 10, 18, 13, 5), 60.0, None)
    with SimulatorServer(config) as server:
        started, before = time.monotonic(), server.clock.now()
        time.sleep(0.5)
        real, simulated = time.monotonic() - started, (server.clock.now() - before).total_seconds()
    assert before >= uk(DAY, 13, 5) and simulated == pytest.approx(60 * real, rel=0.1)

    frozen = config_from_args(build_parser().parse_args(["--today", "2025-10-18"])).make_clock()
    assert frozen.now() == uk(DAY, 0) and frozen.time_scale == 0
    running = config_from_args(build_parser().parse_args(["--today", "2025-10-18", "--time-scale", "0"]))
    assert running.now == datetime(2025, 10, 18) and running.time_scale == 0
    delayed = config_from_args(build_parser().parse_args(["--result-delay-minutes", "5"]))
    assert delayed.result_delay_minutes == 5 and delayed.now is None and delayed.today is None
    with pytest.raises(SystemExit):
        main(["--today", "2025-10-18", "--now", "2025-10-19T10:00", "--port", "0"])


# -- results ---------------------------------------------------------------------------------------------


def test_results_of_today_appear_at_off_plus_delay_and_total_grows(sim):
    day_timeline = sim.app.race_day_timeline(DAY)
    assert len(day_timeline) >= 20
    assert all(off < published for _, off, published in day_timeline if published)
    sim.clock.set(uk(DAY, 11))
    assert results(sim, DAY)[0] == 0
    totals = []
    for race_id, _, published in day_timeline[:6]:
        sim.clock.set(published - timedelta(seconds=1))
        assert race_id not in {r["race_id"] for r in results(sim, DAY)[1]}
        assert get(sim, f"/v1/results/{race_id}").status_code == 404
        sim.clock.set(published)
        total, races = results(sim, DAY)
        listed = {r["race_id"]: r for r in races}
        assert race_id in listed and get(sim, f"/v1/results/{race_id}").json() == listed[race_id]
        totals.append(total)
    assert totals == sorted(totals) and totals[-1] > totals[0]
    sim.clock.set(uk(DAY, 22))
    total, races = results(sim, DAY)
    assert total == len(races) == sum(published is not None for _, _, published in day_timeline)
    assert [r["off_dt"] for r in races] == sorted((r["off_dt"] for r in races), reverse=True)


def test_about_a_tenth_of_results_come_10_to_30_minutes_late(sim):
    delays = [
        (published - off) / timedelta(minutes=1)
        for day in (DAY + timedelta(days=i) for i in range(7))
        for _, off, published in sim.app.race_day_timeline(day)
        if published
    ]
    late = [d for d in delays if d != 15]
    assert all(25 <= d <= 45 for d in late)
    assert 0.04 <= len(late) / len(delays) <= 0.2


def test_the_result_delay_is_configurable():
    app = SimulatorApp(SimulatorConfig(now=uk(DAY, 12), result_delay_minutes=5))
    delays = {(published - off) / timedelta(minutes=1) for _, off, published in app.race_day_timeline(DAY)}
    assert 5 in delays and all(d == 5 or 15 <= d <= 35 for d in delays)


def test_last_off_is_21_00_at_the_latest_so_results_are_out_by_21_45(sim):
    evenings = [date(2025, 7, 10), date(2025, 7, 27)]  # a meeting would end after 21:00 without the cap
    for day in [*evenings, *(date(2025, 6, 20) + timedelta(days=i) for i in range(0, 70, 3))]:
        day_timeline = sim.app.race_day_timeline(day)
        assert max(off for _, off, _ in day_timeline) <= uk(day, 21)
        assert max(p for _, _, p in day_timeline if p) <= uk(day, 21, 45)


def test_a_past_day_is_complete_and_its_payload_never_changes(sim):
    yesterday = DAY - timedelta(days=1)
    params = {"start_date": yesterday.isoformat(), "limit": 50}
    sim.clock.set(uk(DAY, 0, 1))
    first = get(sim, "/v1/results", params).content
    sim.clock.set(uk(DAY, 21))
    assert get(sim, "/v1/results", params).content == first
    expected = sum(p is not None for _, _, p in sim.app.race_day_timeline(yesterday))
    assert results(sim, yesterday)[0] == expected


# -- abandoned meetings ----------------------------------------------------------------------------------


def test_abandoned_races_never_get_results_and_are_marked_on_the_day(sim):
    day_timeline = sim.app.race_day_timeline(ABANDON_DAY)
    abandoned = [race_id for race_id, _, published in day_timeline if published is None]
    assert abandoned and len(abandoned) < len(day_timeline)
    race = sim.app.world.race(abandoned[0])
    announced = timeline.abandonment_announced_at(race)
    assert announced == race.meeting_off_dt - timedelta(hours=2)

    sim.clock.set(uk(ABANDON_DAY, 7))
    assert not any(card["is_abandoned"] for card in cards(sim, ABANDON_DAY).values())
    sim.clock.set(announced)
    marked = {race_id for race_id, card in cards(sim, ABANDON_DAY).items() if card["is_abandoned"]}
    assert marked == set(abandoned)
    sim.clock.set(uk(ABANDON_DAY + timedelta(days=2), 12))
    listed = {r["race_id"] for r in results(sim, ABANDON_DAY)[1]}
    assert listed and not listed & marked
    assert sim.app.result_published_at(abandoned[0]) is None
    assert get(sim, f"/v1/results/{abandoned[0]}").status_code == 404
    with pytest.raises(KeyError):
        sim.app.result_published_at("rac_1")


# -- racecards during the day ----------------------------------------------------------------------------


def non_runners(day_cards: dict[str, dict]) -> set[tuple[str, str]]:
    return {(race_id, r["horse_id"]) for race_id, card in day_cards.items() for r in card["runners"]
            if r["number"] == "NR"}


def test_non_runners_are_announced_during_the_day(sim):
    sim.clock.set(uk(DAY, 6))
    morning = cards(sim, DAY)
    sim.clock.set(uk(DAY, 11))
    late_morning = cards(sim, DAY)
    sim.clock.set(uk(DAY, 23))
    night = cards(sim, DAY)
    assert not non_runners(morning)
    assert set() < non_runners(late_morning) < non_runners(night)
    for race_id, horse_id in non_runners(night) - non_runners(late_morning):
        before = next(r for r in late_morning[race_id]["runners"] if r["horse_id"] == horse_id)
        assert before["number"] != "NR" and before["odds"] and not before["jockey"].startswith("NON-RUNNER")
    for day_cards in (morning, night):
        for card in day_cards.values():
            declared = [r for r in card["runners"] if r["number"] != "NR"]
            assert card["field_size"] == str(len(declared))
    sim.clock.set(uk(DAY + timedelta(days=1), 12))
    assert cards(sim, DAY) == night, "a past day is final"


def odds_rows(day_cards: dict[str, dict]) -> list[tuple[str, str, str, dict]]:
    return [(race_id, r["horse_id"], o["bookmaker"], o) for race_id, card in day_cards.items()
            for r in card["runners"] for o in r["odds"]]


def test_prices_are_restamped_every_five_minutes_never_after_now(sim):
    stamps = {}
    for moment in (uk(DAY, 7, 30), uk(DAY, 12, 2), uk(DAY, 12, 7, 30), uk(DAY, 15, 59)):
        sim.clock.set(moment)
        day_odds = odds_rows(cards(sim, DAY))
        assert day_odds
        updated = {datetime.fromisoformat(o["updated"]).replace(tzinfo=UK) for *_, o in day_odds}
        assert max(updated) <= moment
        stamps[moment] = {(race_id, horse_id, bookmaker): o for race_id, horse_id, bookmaker, o in day_odds}
    assert {o["updated"] for o in stamps[uk(DAY, 7, 30)].values()} == {"2025-10-17 17:00:00"}
    assert "2025-10-18 12:05:00" in {o["updated"] for o in stamps[uk(DAY, 12, 7, 30)].values()}
    early, later = stamps[uk(DAY, 12, 2)], stamps[uk(DAY, 12, 7, 30)]
    common = early.keys() & later.keys()
    changed = sum(early[k]["decimal"] != later[k]["decimal"] for k in common)
    assert changed > len(common) / 4


def test_prices_move_toward_the_sp_as_the_off_approaches(sim):
    sim.clock.set(uk(DAY + timedelta(days=1), 0))
    sp = {(r["race_id"], runner["horse_id"]): float(runner["sp_dec"])
          for r in results(sim, DAY)[1] for runner in r["runners"]}

    def gaps(race_id: str, card: dict) -> list[float]:
        """How far each starter's exchange price is from its SP (the exchange sits ~8 % above the SP)."""
        found = []
        for runner in card["runners"]:
            price = next((o for o in runner["odds"] if o["bookmaker"] == "Betfair Exchange"), None)
            if price and (race_id, runner["horse_id"]) in sp:
                found.append(abs(math.log(float(price["decimal"]) / (1.08 * sp[(race_id, runner["horse_id"])]))))
        return found

    sim.clock.set(uk(DAY, 7, 30))
    eve = [gap for race_id, card in cards(sim, DAY).items() for gap in gaps(race_id, card)]
    near_off = []
    for race_id, off, _ in sim.app.race_day_timeline(DAY)[::4]:
        sim.clock.set(off - timedelta(minutes=5))
        near_off += gaps(race_id, cards(sim, DAY)[race_id])
    assert statistics.mean(eve) > 1.5 * statistics.mean(near_off)


def test_going_changes_once_for_some_meetings(sim):
    races = sim.app.world.races_on(GOING_DAY)
    changing = [race for race in races if timeline.going_change(7, race)]
    assert changing and len(changing) < len(races)
    race = changing[0]
    before, at = timeline.going_change(7, race)
    assert before != race.going and uk(GOING_DAY, 8) <= at < race.meeting_off_dt
    sim.clock.set(at - timedelta(minutes=5))
    assert cards(sim, GOING_DAY)[race.race_id]["going"] == before
    sim.clock.set(at)
    assert cards(sim, GOING_DAY)[race.race_id]["going"] == race.going
    sim.clock.set(uk(GOING_DAY + timedelta(days=1), 9))
    result = get(sim, f"/v1/results/{race.race_id}").json()
    assert result["going"] == race.going == cards(sim, GOING_DAY)[race.race_id]["going"]


def test_tomorrows_prices_appear_at_17_00_and_the_window_moves_with_the_clock(sim):
    tomorrow = DAY + timedelta(days=1)
    sim.clock.set(uk(DAY, 16, 55))
    assert not odds_rows(cards(sim, tomorrow))
    assert get(sim, "/v1/racecards/pro", {"date": (DAY + timedelta(days=8)).isoformat()}).status_code == 422
    sim.clock.set(uk(DAY, 17))
    assert {o["updated"] for *_, o in odds_rows(cards(sim, tomorrow))} == {"2025-10-18 17:00:00"}
    sim.clock.advance(timedelta(days=1))
    assert get(sim, "/v1/racecards/pro", {"date": (DAY + timedelta(days=8)).isoformat()}).status_code == 200
