"""Every pro-racecard analysis field reaches a clean table, typed, and its rules can fail.

Values are read by hand from the real sample `racecards_pro_2025-10-13_gb_first2.json` (Hereford and Ayr,
2025-10-13). The sample has no odds `history` item: those tests add one to a real runner's odds.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest

from darkhorses_assets.schemas.validation import validate
from darkhorses_assets.transforms.racecards import parse_racecards
from darkhorses_assets.transforms.races import merge_races
from darkhorses_assets_tests.racecard_sample import runner

SAMPLES = Path(__file__).parent / "fixtures" / "samples"


def test_trainer_form_and_card_texts(frames):
    border_gem = runner(frames, "Border Gem")
    assert (border_gem["trainer_14_days_runs"], border_gem["trainer_14_days_wins"]) == (3, 1)
    assert border_gem["trainer_14_days_percent"] == 33.0
    assert border_gem["trainer_rtf"] == 50.0
    assert border_gem["comment"] == "Second in her last bumper and the winner ran well on Friday's hurdling debut"
    assert border_gem["spotlight"].startswith("Went close in her third bumper at Newton Abbot (good)")
    assert runner(frames, "Indigo Blu")["trainer_rtf"] is None  # the card gives ""


def test_headgear_and_wind_surgery_runs(frames):
    indigo_blu = runner(frames, "Indigo Blu")
    assert (indigo_blu["headgear"], indigo_blu["headgear_run"]) == ("t", 1)
    assert (indigo_blu["wind_surgery"], indigo_blu["wind_surgery_run"]) == (True, 1)
    assert indigo_blu["medical"] == [{"date": date(2025, 3, 24), "type": "Wind Surgery"}]
    border_gem = runner(frames, "Border Gem")
    no_operation = (border_gem["headgear_run"], border_gem["wind_surgery"], border_gem["wind_surgery_run"])
    assert no_operation == (None, False, None)


def test_past_results_flags_as_given_and_as_booleans(frames):
    jackstell = runner(frames, "Jackstell")
    assert jackstell["past_results_flags"] == ["D"]
    assert (jackstell["distance_winner"], jackstell["course_winner"]) == (True, False)
    assert (jackstell["course_and_distance_winner"], jackstell["beaten_favourite"]) == (False, False)
    assert runner(frames, "Border Gem")["past_results_flags"] == []


@pytest.mark.parametrize(("flags", "course", "distance", "both", "beaten_favourite"), [
    (["CD"], True, True, True, False),
    (["C", "BF"], True, False, False, True),
    ([" d "], False, True, False, False),
    (None, None, None, None, None),
])  # fmt: skip
def test_flags_read_as_an_analyst_would(cards, flags, course, distance, both, beaten_favourite):
    edited = copy.deepcopy(cards[:1])
    edited[0]["runners"][0]["past_results_flags"] = flags
    row = parse_racecards(edited).runners.row(0, named=True)
    assert (row["course_winner"], row["distance_winner"]) == (course, distance)
    assert (row["course_and_distance_winner"], row["beaten_favourite"]) == (both, beaten_favourite)


def test_previous_trainers_and_owners(frames):
    jackstell = runner(frames, "Jackstell")
    assert jackstell["prev_trainers"] == [
        {"trainer_id": "trn_278739", "trainer_name": "Emmet Mullins", "change_date": date(2024, 11, 18)}
    ]
    assert jackstell["prev_owners"] == [
        {"owner_id": "own_1085564", "owner_name": "Paul Byrne", "change_date": date(2024, 11, 18)}
    ]
    assert [owner["owner_id"] for owner in runner(frames, "Spartan Times")["prev_owners"]] == [
        "own_615768", "own_968612",
    ]


def test_quotes_and_stable_tour(frames):
    champ = runner(frames, "Marhaba The Champ")
    first = champ["quotes"][0]
    assert {k: v for k, v in first.items() if k != "quote"} == {
        "date": date(2023, 8, 25), "race_id": "rac_10997064", "race": "Sky Bet Handicap (Heritage Handicap)",
        "course_id": "crs_2782", "course": "York", "distance_f": 12.0, "distance_yards": 2608,
    }
    assert first["quote"].endswith("- Kevin Ryan, trainer.")
    assert champ["quotes"][1]["distance_f"] == 10.5
    assert len(champ["stable_tour"]) == 1
    assert champ["stable_tour"][0].startswith("He's a cracking horse")


def test_race_tip_verdict_and_betting_forecast(frames):
    hereford = frames.races.filter(pl.col("race_id") == "rac_11744434").row(0, named=True)
    assert hereford["tip"] == "Ride Like A Girl"
    assert hereford["verdict"].startswith("It was probably a better race in which RIDE LIKE A GIRL")
    assert hereford["betting_forecast"].startswith("15/8 Ride Like A Girl, 7/2 Lady Kara")
    prices = hereford["betting_forecast_prices"]
    assert prices[:4] == [
        {"horse_name": "Ride Like A Girl", "fractional": "15/8", "decimal": 2.875},
        {"horse_name": "Lady Kara", "fractional": "7/2", "decimal": 4.5},
        {"horse_name": "Border Gem", "fractional": "5/1", "decimal": 6.0},
        {"horse_name": "Ninna Collina", "fractional": "5/1", "decimal": 6.0},  # shares the price before it
    ]
    assert len(prices) == 8
    merged = merge_races(frames.races, None).filter(pl.col("race_id") == "rac_11744434")
    assert merged["betting_forecast_prices"].to_list() == [prices]


def test_odds_history_is_typed(cards):
    edited = copy.deepcopy(cards[:1])
    edited[0]["runners"][0]["odds"][0]["history"] = [
        {"fractional": "25/1", "decimal": "26", "updated": "2025-10-13 09:00:00"},
        {"fractional": "22/1", "decimal": "", "updated": "2025-10-13 11:30:00"},
    ]
    odds = parse_racecards(edited).runner_odds
    assert odds["history"][0].to_list() == [
        {"fractional": "25/1", "decimal": 26.0, "updated": datetime(2025, 10, 13, 8, 0, tzinfo=UTC)},
        {"fractional": "22/1", "decimal": 23.0, "updated": datetime(2025, 10, 13, 10, 30, tzinfo=UTC)},
    ]
    assert odds["history"][1].to_list() == []


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("prev_trainers", "", None),  # the API's "missing"
    ("prev_trainers", None, None),
    ("prev_trainers", {"trainer": "A Trainer", "trainer_id": "trn_1", "change_date": "2024-01-02"},
     [{"trainer_id": "trn_1", "trainer_name": "A Trainer", "change_date": date(2024, 1, 2)}]),  # one, not in a list
    ("past_results_flags", "CD", ["CD"]),
    ("stable_tour", [{"quote": "Goes well fresh."}, "not an object"], ["Goes well fresh."]),
    ("medical", [{"date": "2024-13-45", "type": 7}], [{"date": None, "type": "7"}]),
])  # fmt: skip
def test_unexpected_shapes_parse_the_same_from_dicts_and_json(cards, key, value, expected):
    edited = copy.deepcopy(cards[:1])
    edited[0]["runners"][0][key] = value
    from_dicts = parse_racecards(edited).runners
    from_json = parse_racecards(pl.Series([json.dumps(race) for race in edited])).runners
    assert from_dicts.equals(from_json)
    assert from_dicts[key][0] == expected if expected is None else from_dicts[key].to_list()[0] == expected


def test_the_sample_satisfies_every_new_rule(frames):
    for table, frame in (("runners", frames.runners), ("runner_odds", frames.runner_odds),
                         ("racecard_races", frames.races)):
        validation = validate(frame, table)
        assert validation.quarantined.is_empty()
        assert [rule.name for rule in validation.soft_rules if rule.failing_rows] == []


def with_first(frame: pl.DataFrame, **values) -> pl.DataFrame:
    """`frame` with the given columns set on its first row (lists and structs included)."""
    first = frame.head(1).to_dicts()[0] | values
    return pl.concat([pl.DataFrame([first], schema=frame.schema), frame.slice(1)])


@pytest.mark.parametrize(("table", "values", "rule"), [
    ("runners", {"trainer_14_days_wins": 5}, "trainer_14_days_adds_up"),  # 5 wins from 3 runs
    ("runners", {"trainer_14_days_percent": 80.0}, "trainer_14_days_adds_up"),  # 1 from 3 is 33 %
    ("runners", {"trainer_14_days_runs": 1001, "trainer_14_days_wins": 0, "trainer_14_days_percent": 0.0},
     "trainer_14_days_runs:in_range(0, 1000)"),
    ("runners", {"trainer_rtf": 101.0}, "trainer_rtf:in_range(0, 100)"),
    ("runners", {"headgear_run": 0}, "headgear_run:in_range(1, 100)"),
    ("runners", {"wind_surgery_run": 500}, "wind_surgery_run:in_range(1, 100)"),
    ("runners", {"past_results_flags": ["C", "XYZ"]}, "past_results_flags:known_past_results_flags"),
    ("runners", {"medical": [{"date": date(2025, 10, 14), "type": "Wind Surgery"}]}, "card_history_before_race"),
    ("runners", {"prev_owners": [{"owner_id": "own_1", "owner_name": "X", "change_date": date(2026, 1, 1)}]},
     "card_history_before_race"),
    ("racecard_races", {"betting_forecast_prices": [{"horse_name": "A", "fractional": None, "decimal": None}]},
     "betting_forecast_prices:forecast_names_priced"),
    ("runner_odds", {"history": [{"fractional": "1/2", "decimal": 0.5, "updated": None}]},
     "history_prices_before_latest"),
    ("runner_odds", {"history": [{"fractional": "5/1", "decimal": 6.0,
                                  "updated": datetime(2025, 10, 13, 23, 0, tzinfo=UTC)}]},
     "history_prices_before_latest"),  # stamped after the row's own latest price
])  # fmt: skip
def test_each_new_rule_fails_on_an_implausible_value(frames, table, values, rule):
    frame = {"runners": frames.runners, "runner_odds": frames.runner_odds, "racecard_races": frames.races}[table]
    validation = validate(with_first(frame, **values), table)
    assert validation.quarantined.is_empty()
    failing = {r.name: r.failing_rows for r in validation.soft_rules if r.failing_rows}
    assert failing == {rule: 1}


def test_two_simulated_weeks_of_cards_break_no_rule():
    """The simulator's pro fields are plausible too (a trainer change it reports happened before the race)."""
    from datetime import timedelta

    from darkhorses_assets.racing_api.simulator.payloads import Payloads
    from darkhorses_assets.racing_api.simulator.world import World

    world, today = World(7), date(2025, 11, 1)
    payloads = Payloads(world, today)
    cards = [payloads.racecard(race) for back in range(1, 15) for race in world.races_on(today - timedelta(days=back))]
    frames = parse_racecards(cards)
    assert frames.runners["prev_trainers"].list.len().sum() > 0
    for table, frame in (("runners", frames.runners), ("runner_odds", frames.runner_odds),
                         ("racecard_races", frames.races)):
        validation = validate(frame, table)
        assert validation.quarantined.is_empty()
        assert {rule.name: rule.failing_rows for rule in validation.soft_rules if rule.failing_rows} == {}
