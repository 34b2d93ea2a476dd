"""clean_race_days on the real samples: every row clean, and a broken one quarantined with its raw fragment."""

import json
from datetime import date
from pathlib import Path

import polars as pl

from darkhorses_assets.clean_layer import clean_race_days, raw_runner_count

SAMPLES = Path(__file__).parent / "fixtures" / "samples"


def raw_rows(races: list[dict]) -> pl.DataFrame:
    return pl.DataFrame({
        "race_id": [race.get("race_id") for race in races],
        "race_date": [date.fromisoformat(race.get("date", "2025-10-13")) for race in races],
        "payload": [json.dumps(race) for race in races],
    })


def sample(name: str, envelope: str) -> list[dict]:
    return json.loads((SAMPLES / name).read_text())[envelope]


def test_real_samples_clean_without_quarantine():
    cards = raw_rows(sample("racecards_pro_2025-10-13_gb_first2.json", "racecards"))
    results = raw_rows(sample("results_2025-10-13_gb_first2.json", "results"))
    cleaned = clean_race_days(cards, results)
    assert cleaned.quarantine.is_empty()
    assert cleaned.tables["runners"].height == raw_runner_count(cards)
    assert all(r.balanced for r in cleaned.reconciliations.values())
    race_ids = set(cards["race_id"]) | set(results["race_id"])
    assert cleaned.reconciliations["races"].raw == len(race_ids) == cleaned.validations["races"].valid.height
    assert set(cleaned.tables["races"]["race_id"]) == race_ids


def test_a_runner_without_horse_id_is_quarantined_with_its_verbatim_fragment():
    races = sample("racecards_pro_2025-10-13_gb_first2.json", "racecards")
    broken = races[0]["runners"][1]
    broken["horse_id"] = ""
    cards = raw_rows(races)
    cleaned = clean_race_days(cards, cards.clear())

    runners = cleaned.quarantine.filter(pl.col("table") == "runners")
    assert runners.height == 1
    assert "horse_id" in runners["reasons"][0]
    assert json.loads(runners["raw_json"][0]) == broken
    assert runners["race_date"][0] == date(2025, 10, 13)
    assert runners["source_asset"][0] == "raw/raw_racecards"
    assert cleaned.tables["runners"].height + runners.height == raw_runner_count(cards)
    assert cleaned.reconciliations["runners"].balanced


def test_a_race_without_id_or_date_is_quarantined_under_the_day_it_was_requested_for():
    races = sample("racecards_pro_2025-10-13_gb_first2.json", "racecards")
    for key in ("race_id", "date", "off_dt"):
        races[0].pop(key, None)
    cards = raw_rows(races).with_columns(pl.lit(date(2025, 10, 13)).alias("race_date"))
    cleaned = clean_race_days(cards, cards.clear())

    quarantine = cleaned.quarantine
    assert set(quarantine["table"]) == {"racecard_races", "runners", "runner_odds"}
    assert quarantine["race_date"].to_list() == [date(2025, 10, 13)] * quarantine.height
    assert "race_id" in quarantine.filter(pl.col("table") == "racecard_races")["reasons"][0]
    runners = quarantine.filter(pl.col("table") == "runners").height
    assert runners == len(races[0]["runners"])
    assert cleaned.tables["runners"].height + runners == raw_runner_count(cards)


def test_runners_that_are_not_a_list_are_quarantined_not_lost():
    races = sample("racecards_pro_2025-10-13_gb_first2.json", "racecards")
    races[0]["runners"] = "unavailable"
    single = races[1]["runners"][0]
    races[1]["runners"] = single
    single["odds"] = ""
    cards = raw_rows(races)
    cleaned = clean_race_days(cards, cards.clear())

    runners = cleaned.quarantine.filter(pl.col("table") == "runners")
    assert runners["raw_json"].to_list() == ['"unavailable"']
    assert "horse_id:not_null" in runners["reasons"][0]
    assert cleaned.tables["runners"]["horse_id"].to_list() == [single["horse_id"]]
    assert cleaned.reconciliations["runners"].balanced
    assert cleaned.reconciliations["runners"].raw == 2
    assert cleaned.tables["runner_odds"].is_empty() and cleaned.quarantine.filter(
        pl.col("table") == "runner_odds").is_empty(), "odds given as the API's empty string are no odds"
