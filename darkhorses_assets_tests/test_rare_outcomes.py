"""Positions and beaten distances no real sample shows (RO, SU, LFT, CO, RR, DSQ; nk, hd, dht, dist): how the
parsing rules read them, how often the simulator emits them, and that they pass the clean layer untouched."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, timedelta

import polars as pl
import pytest

from darkhorses_assets.racing_api.simulator.payloads import Payloads
from darkhorses_assets.racing_api.simulator.server import shared_world
from darkhorses_assets.transforms import parsing as p
from darkhorses_assets.transforms.clean_layer import clean_race_days

RARE_CODES = ("RO", "SU", "LFT", "CO", "RR", "DSQ")
RARE_MARGINS = ("nk", "hd", "dht", "dist")
YEAR = [date(2024, 11, 1) + timedelta(days=i) for i in range(365)]
AFTER_THE_YEAR = date(2025, 11, 2)


def parse(builder, value: str):
    frame = pl.DataFrame({"x": [value]}, schema={"x": pl.String})
    return frame.select(builder("x").alias("out"))["out"][0]


# -- the parsing rules ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("position", "status"),
    [
        ("RO", "RO"),
        ("SU", "SU"),
        ("LFT", "LFT"),
        ("CO", "CO"),
        ("RR", "RR"),
        ("DSQ", "DSQ"),
        ("dsq", "DSQ"),
        (" LFT ", "LFT"),
    ],
)
def test_a_non_finishing_code_has_no_position_and_is_its_own_status(position, status):
    assert parse(p.finish_position, position) is None
    assert parse(p.finish_status, position) == status
    assert parse(p.position_marks_dead_heat, position) is False
    assert status in p.NON_FINISH_CODES


@pytest.mark.parametrize(
    ("btn", "lengths"),
    [("nk", 0.3), ("hd", 0.2), ("dht", 0.0), ("dist", 30.0), ("NK", 0.3), (" hd", 0.2), ("DHT", 0.0)],
)
def test_a_word_margin_is_its_lengths(btn, lengths):
    assert parse(p.beaten_lengths, btn) == lengths


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (("1", "0"), ("1", "dht")),
        (("2", "nk"), ("2", "dht")),
        (("3", "¾"), ("3", "dht")),
        (("4", ".75"), ("4", "dht")),
    ],
)
def test_a_dead_heat_is_two_equal_positions_both_marked(first, second):
    """As the API writes one: the same position twice, the second with "dht" as its margin."""
    race = _race_with_runners([
        {"position": first[0], "btn": first[1], "ovr_btn": first[1]},
        {"position": second[0], "btn": second[1], "ovr_btn": first[1]},
        {"position": str(int(first[0]) + 2), "btn": "2", "ovr_btn": "4"},
    ])
    order = {runner["horse_id"]: i for i, runner in enumerate(race["runners"])}
    results = _clean([race]).tables["results"].sort(pl.col("horse_id").replace_strict(order))
    assert results["finish_position"].to_list() == [int(first[0]), int(first[0]), int(first[0]) + 2]
    assert results["dead_heat"].to_list() == [True, True, False]
    assert results["btn_lengths"][1] == 0.0


# -- the simulator --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def year() -> dict:
    """A year of simulated results: counts of positions and margins, and some races showing each one."""
    payloads = Payloads(shared_world(7), AFTER_THE_YEAR)
    seen = {"races": 0, "flat_runners": 0, "jump_runners": 0, "codes": Counter(), "jump_codes": Counter()}
    seen |= {"margins": Counter(), "flat_dist": 0, "dead_heat_races": 0, "examples": {}}
    for day in YEAR:
        for race in payloads.results(day):
            jump = race["type"] != "Flat"
            seen["races"] += 1
            seen["jump_runners" if jump else "flat_runners"] += len(race["runners"])
            positions = [r["position"] for r in race["runners"]]
            margins = {r["btn"] for r in race["runners"]} & set(RARE_MARGINS)
            codes = set(positions) & set(RARE_CODES)
            seen["codes"].update(p for p in positions if p in RARE_CODES)
            if jump:
                seen["jump_codes"].update(p for p in positions if p in RARE_CODES)
            elif "dist" in margins:
                seen["flat_dist"] += 1
            seen["margins"].update(r["btn"] for r in race["runners"] if r["btn"] in RARE_MARGINS)
            finishers = [p for p in positions if p.isdigit()]
            seen["dead_heat_races"] += len(finishers) != len(set(finishers))
            for token in codes | margins:
                seen["examples"].setdefault(token, [])
                if len(seen["examples"][token]) < 3:
                    seen["examples"][token].append(race)
    return seen


@pytest.mark.parametrize(
    ("code", "per_1000_jump_runners", "low", "high"),
    [("RO", 2, 1.0, 3.0), ("SU", 2, 1.0, 3.0), ("CO", 1, 0.5, 2.0), ("RR", 1, 0.5, 2.0), ("LFT", 1, 0.5, 2.0)],
)
def test_jump_non_finishing_codes_come_at_realistic_rates(year, code, per_1000_jump_runners, low, high):
    rate = 1000 * year["jump_codes"][code] / year["jump_runners"]
    assert low <= rate <= high, f"{code}: {rate:.2f} per 1,000 jump runners, about {per_1000_jump_runners} wanted"


def test_disqualifications_are_about_one_runner_in_2000(year):
    rate = 1000 * year["codes"]["DSQ"] / (year["flat_runners"] + year["jump_runners"])
    assert 0.25 <= rate <= 1.0, f"DSQ: {rate:.2f} per 1,000 runners"
    assert year["codes"]["DSQ"] > year["jump_codes"]["DSQ"] > 0, "on the flat and over jumps"


def test_dead_heats_are_about_one_race_in_500(year):
    per_500_races = 500 * year["dead_heat_races"] / year["races"]
    assert 0.4 <= per_500_races <= 2.0, f"{per_500_races:.2f} dead heats per 500 races"
    assert year["margins"]["dht"] == year["dead_heat_races"], "each dead heat shows one 'dht'"


def test_dist_is_for_tailed_off_jumpers(year):
    per_1000_jump_runners = 1000 * year["margins"]["dist"] / year["jump_runners"]
    assert 0.5 <= per_1000_jump_runners <= 5.0, f"dist: {per_1000_jump_runners:.2f} per 1,000 jump runners"
    assert year["flat_dist"] == 0


def test_neck_and_head_margins_are_common(year):
    assert year["margins"]["nk"] > 100 and year["margins"]["hd"] > 100


def test_every_rare_outcome_passes_the_clean_layer_with_nothing_quarantined(year):
    examples = year["examples"]
    assert set(examples) == set(RARE_CODES) | set(RARE_MARGINS), "a year shows each of them"
    races = list({race["race_id"]: race for shown in examples.values() for race in shown}.values())
    world = shared_world(7)
    cards = [Payloads(world, AFTER_THE_YEAR).racecard(world.race(race["race_id"])) for race in races]
    cleaned = _clean(races, cards)

    assert cleaned.quarantine.is_empty()
    results = cleaned.tables["results"]
    assert results.height == sum(len(race["runners"]) for race in races)
    assert cleaned.tables["runners"].height == sum(len(card["runners"]) for card in cards)

    by_status = results.group_by("finish_status").agg(pl.col("finish_position").is_not_null().sum())
    positioned = dict(by_status.iter_rows())
    for code in RARE_CODES:
        assert positioned.get(code) == 0, f"{code}: every runner kept, none with a position"

    raw_btn = {
        (race["race_id"], runner["horse_id"]): runner["btn"] for race in races for runner in race["runners"]
    }
    lengths = {
        word: {
            row["btn_lengths"]
            for row in results.iter_rows(named=True)
            if raw_btn[(row["race_id"], row["horse_id"])] == word
        }
        for word in RARE_MARGINS
    }
    assert lengths == {"nk": {0.3}, "hd": {0.2}, "dht": {0.0}, "dist": {30.0}}

    dead_heats = results.filter(pl.col("dead_heat"))
    shared = dead_heats.group_by("race_id", "finish_position").len()
    assert dead_heats.height > 0 and shared["len"].to_list() == [2] * shared.height


# -- helpers --------------------------------------------------------------------------------------------


def _race_with_runners(runners: list[dict]) -> dict:
    """A real-looking result race (taken from the simulator) with its runners' position, btn and ovr_btn set."""
    race = Payloads(shared_world(7), AFTER_THE_YEAR).results(date(2025, 10, 7))[0]
    race = json.loads(json.dumps(race))
    race["runners"] = [dict(race["runners"][i], **fields) for i, fields in enumerate(runners)]
    assert len(race["runners"]) == len(runners)
    return race


def _clean(results: list[dict], racecards: list[dict] | None = None):
    def rows(races: list[dict]) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "race_id": [race["race_id"] for race in races],
                "race_date": [date.fromisoformat(race["date"]) for race in races],
                "payload": [json.dumps(race) for race in races],
            },
            schema={"race_id": pl.String, "race_date": pl.Date, "payload": pl.String},
        )

    return clean_race_days(rows(racecards or []), rows(results))
