"""clean_race_days on the real samples: every row clean, a broken one quarantined with its raw fragment, and a
broken parser caught by the reconciliation against the raw JSON."""

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from darkhorses_assets.transforms.clean_layer import clean_race_days, parse_race_days
from darkhorses_assets_tests.raw_json import raw_runner_count

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


@pytest.mark.parametrize("key", ["jockey_id", "trainer_id", "owner_id", "sire_id", "dam_id", "damsire_id"])
def test_a_result_without_an_id_takes_the_one_its_runner_was_declared_with(key):
    card = sample("racecards_pro_2025-10-13_gb_first2.json", "racecards")[0]
    results = sample("results_2025-10-13_gb_first2.json", "results")
    result_runner = results[0]["runners"][0]
    card.update(race_id=results[0]["race_id"], date=results[0]["date"])
    declared = card["runners"][0]
    declared.update(horse_id=result_runner["horse_id"], **{key: "declared_id"})
    result_runner[key] = ""
    cards = [card]
    cleaned = clean_race_days(raw_rows(cards), raw_rows(results))
    row = cleaned.tables["results"].filter(pl.col("horse_id") == result_runner["horse_id"],
                                           pl.col("race_id") == results[0]["race_id"])
    assert row[key].to_list() == ["declared_id"]
    assert cleaned.tables["results"][key].null_count() == 0
    undeclared = clean_race_days(raw_rows(cards).clear(), raw_rows(results)).tables["results"]
    assert undeclared[key].null_count() == 1


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


CARDS = "racecards_pro_2025-10-13_gb_first2.json"
RESULTS = "results_2025-10-13_gb_first2.json"


def sample_days() -> tuple[pl.DataFrame, pl.DataFrame]:
    return raw_rows(sample(CARDS, "racecards")), raw_rows(sample(RESULTS, "results"))


def _drop_nth(table: str, n: int):
    def alter(parsed):
        parsed[table] = parsed[table].filter(pl.int_range(pl.len()) != n)
        return parsed
    return alter


def _double_nth(table: str, n: int):
    def alter(parsed):
        parsed[table] = pl.concat([parsed[table], parsed[table].slice(n, 1)])
        return parsed
    return alter


@pytest.mark.parametrize(("table", "alter", "row", "side", "also"), [
    ("runners", _drop_nth, 3, "missing", set()),
    ("runners", _double_nth, 9, "unexpected", set()),
    ("runner_odds", _double_nth, 5, "unexpected", set()),
    ("runner_odds", _drop_nth, 300, "missing", set()),
    ("results", _drop_nth, 12, "missing", set()),
    ("non_runners", _drop_nth, 0, "missing", set()),
    ("racecard_races", _drop_nth, 1, "missing", {"races"}),  # the samples' card and result races differ
    ("result_races", _drop_nth, 0, "missing", {"races"}),
])
def test_a_parser_that_loses_or_doubles_a_row_leaves_its_race_unbalanced(table, alter, row, side, also):
    """The parsed frame is altered as a buggy parser would; that race fails, by name."""
    cards, results = sample_days()
    race_id = parse_race_days(cards, results)[table]["race_id"][row]

    cleaned = clean_race_days(cards, results, alter_parsed=alter(table, row))
    broken = cleaned.reconciliations[table]
    assert not broken.balanced
    assert getattr(broken, side).to_list() == [race_id]
    assert broken.unbalanced["race_id"].to_list() == [race_id]
    assert {name for name, r in cleaned.reconciliations.items() if not r.balanced} == {table, *also}


def test_a_race_lost_by_both_parsers_is_missing_from_races():
    cards, results = sample_days()
    lost = cards["race_id"][0]

    def lose_race(parsed):
        for table, frame in parsed.items():
            parsed[table] = frame.filter(pl.col("race_id") != lost)
        return parsed

    cleaned = clean_race_days(cards, results, alter_parsed=lose_race)
    assert cleaned.reconciliations["races"].missing.to_list() == [lost]
    unbalanced = {name for name, r in cleaned.reconciliations.items() if not r.balanced}
    assert unbalanced == {"races", "racecard_races", "runners", "runner_odds"}


def test_exact_duplicate_races_in_raw_balance_as_collapsed():
    cards, results = sample_days()
    twice = pl.concat([cards, cards.head(1)])
    cleaned = clean_race_days(twice, results)
    assert all(r.balanced for r in cleaned.reconciliations.values())
    assert cleaned.validations["racecard_races"].collapsed_duplicates == 1
    assert cleaned.tables["runners"].height == raw_runner_count(cards)
