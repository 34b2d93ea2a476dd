"""Rows per race counted from the raw JSON text, without the parsers."""

import json
from pathlib import Path

import polars as pl
import pytest

from darkhorses_assets.transforms.raw_counts import racecard_counts, result_counts, rows_per_race

SAMPLES = Path(__file__).parent / "fixtures" / "samples"


def raw(*races: dict, race_ids: list | None = None) -> pl.DataFrame:
    ids = race_ids if race_ids is not None else [race.get("race_id") for race in races]
    return pl.DataFrame({"race_id": ids, "payload": [json.dumps(race) for race in races]},
                        schema={"race_id": pl.String, "payload": pl.String})


def test_real_racecards_count_runners_and_odds_as_in_the_json():
    races = json.loads((SAMPLES / "racecards_pro_2025-10-13_gb_first2.json").read_text())["racecards"]
    counts = racecard_counts(raw(*races))
    assert counts.rows() == [
        (race["race_id"], len(race["runners"]), sum(len(runner["odds"]) for runner in race["runners"]))
        for race in races
    ]
    assert any(runner["quotes"] for race in races for runner in race["runners"]), \
        "quotes carry horse_id and race_id, which must not count as runners"


def test_real_results_count_runners_and_non_runners():
    races = json.loads((SAMPLES / "results_2025-10-07.json").read_text())["results"]
    counts = result_counts(raw(*races))
    assert counts["results"].to_list() == [len(race["runners"]) for race in races]
    assert counts["non_runners"].to_list() == [2, 0, 0, 0, 2]
    assert races[0]["non_runners"] == "How's The Guvnor (unsuitable ground), Just King High (travel problems)"


@pytest.mark.parametrize(("runners", "expected"), [
    ([{"jockey_id": "j1"}, {"jockey_id": ""}], 2),
    ([], 0),
    ("", 0),
    (None, 0),
    ("unavailable", 1),
    ({"jockey_id": "j1"}, 1),
])
def test_runners_follow_the_decoders_convention_for_values_that_are_not_lists(runners, expected):
    assert racecard_counts(raw({"race_id": "rac_1", "runners": runners}))["runners"].to_list() == [expected]


@pytest.mark.parametrize("history_item", [
    {"fractional": "5/1", "decimal": "6", "updated": "2025-10-13 09:00:00"},
    {"bookmaker": "Bet365", "fractional": "5/1", "decimal": "6", "updated": "2025-10-13 09:00:00"},
])
def test_odds_are_bookmaker_entries_not_history_items(history_item):
    runner = {"jockey_id": "j", "odds": [
        {"bookmaker": "Bet365", "history": [history_item, history_item]},
        {"bookmaker": "Coral", "history": []},
    ]}
    no_odds = {"jockey_id": "k", "odds": ""}
    counts = racecard_counts(raw({"race_id": "rac_1", "runners": [runner, no_odds]}))
    assert counts.rows() == [("rac_1", 2, 2)]


def test_keys_inside_text_values_do_not_count():
    race = {"race_id": "rac_1", "runners": [{"jockey_id": "j", "comment": 'said "jockey_id": no'}],
            "non_runners": 'A "B" (ill), C'}
    assert racecard_counts(raw(race))["runners"].to_list() == [1]
    assert result_counts(raw(race))["non_runners"].to_list() == [2]


def test_rows_per_race_groups_blank_ids_and_skips_rows_without_payload():
    frame = pl.concat([
        raw({"runners": [{"jockey_id": "j"}]}, {"runners": []}, {"runners": [{"jockey_id": "k"}]},
            race_ids=["rac_1", " ", "rac_1"]),
        pl.DataFrame({"race_id": ["rac_9"], "payload": [None]}, schema={"race_id": pl.String, "payload": pl.String}),
    ])
    counts = racecard_counts(frame)
    assert rows_per_race(counts).sort("race_id", nulls_last=True).rows() == [("rac_1", 2), (None, 1)]
    assert rows_per_race(counts, "runners").sort("race_id", nulls_last=True).rows() == [("rac_1", 2), (None, 0)]
