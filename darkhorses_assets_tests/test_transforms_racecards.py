"""Racecard payloads -> races / runners / runner_odds, and `merge_races` of racecard + result races."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest

from darkhorses_assets.transforms.racecards import (
    RUNNER_ODDS_SCHEMA,
    RUNNERS_SCHEMA,
    parse_racecards,
)
from darkhorses_assets.transforms.races import (
    RACECARD_RACES_SCHEMA,
    RACES_SCHEMA,
    RESULT_RACES_SCHEMA,
    merge_races,
)
from darkhorses_assets.transforms.results import parse_results
from darkhorses_assets_tests.racecard_sample import runner

SAMPLES = Path(__file__).parent / "fixtures" / "samples"


def test_every_race_runner_and_price_parses_with_keys(cards, frames):
    assert frames.races.height == len(cards)
    assert frames.runners.height == sum(len(race["runners"]) for race in cards)
    assert frames.runner_odds.height == sum(len(r["odds"]) for race in cards for r in race["runners"])
    assert frames.races["race_id"].null_count() == 0
    assert frames.runners.select("race_id", "horse_id").null_count().row(0) == (0, 0)
    assert frames.runners.select("race_id", "horse_id").is_unique().all()
    assert frames.runner_odds.select("race_id", "horse_id", "bookmaker").is_unique().all()
    assert frames.runner_odds.select("race_id", "horse_id", "bookmaker").null_count().row(0) == (0, 0, 0)


def test_output_schemas_are_the_documented_ones(frames):
    assert frames.races.schema == pl.Schema(RACECARD_RACES_SCHEMA)
    assert frames.runners.schema == pl.Schema(RUNNERS_SCHEMA)
    assert frames.runner_odds.schema == pl.Schema(RUNNER_ODDS_SCHEMA)


def test_race_read_by_hand(frames):
    race = frames.races.filter(pl.col("race_id") == "rac_11744434").to_dicts()[0]
    assert race["off_dt"] == datetime(2025, 10, 13, 13, 12, tzinfo=UTC)
    assert race["race_date"] == date(2025, 10, 13)
    assert race["race_class"] == 4
    assert race["prize"] == 4193.0
    assert race["prize_currency"] == "GBP"
    assert race["declared_runners"] == 8
    assert race["distance_yards"] == 3573
    assert race["distance_f"] == pytest.approx(16.24, abs=0.005), "2m53y from the yards, not the API's 16.0"
    assert race["distance_m"] == pytest.approx(3573 * 0.9144)
    assert race["jumps"] == 8
    assert race["sex_restriction"] == "M"
    assert race["surface"] == "Turf"
    assert race["going_group"] == "good"
    assert race["is_handicap"] is False
    assert (race["big_race"], race["is_abandoned"], race["has_racecard"]) == (False, False, True)
    assert race["rating_band"] is None


def test_runner_read_by_hand(frames):
    gem = runner(frames, "Border Gem")
    assert gem["horse_country"] == "GB"
    assert gem["sex_code"] == "M"
    assert gem["draw"] is None
    assert gem["weight_lbs"] == 158
    assert (gem["official_rating"], gem["rpr"], gem["ts"]) == (None, None, None)
    assert gem["days_since_last_run"] == 186
    assert (gem["days_since_last_run_this_code"], gem["days_since_last_run_other_code"]) == (186, None)
    assert gem["form"] == "542-"
    assert gem["sire_name"] == "Gemix"
    assert gem["sire_country"] == "FR"
    assert gem["damsire_country"] == "IRE"
    assert gem["dob"] == date(2020, 3, 11)
    assert gem["trainer_location"] == "Brompton Regis, Somerset"
    assert gem["jockey_claim_lbs"] == 0
    assert gem["is_non_runner"] is False
    ninna = runner(frames, "Ninna Collina")
    assert (ninna["official_rating"], ninna["rpr"], ninna["ts"]) == (100, 99, 96)


@pytest.mark.parametrize("field_size", ["0", "", None])
def test_a_card_without_a_field_size_counts_its_runners(cards, field_size):
    changed = copy.deepcopy(cards)
    for race in changed:
        race["field_size"] = field_size
    races = parse_racecards(changed).races
    assert races["declared_runners"].to_list() == [8, 4], "16-runner Ascot card said '0'; the NR is not counted"


def test_a_card_without_runners_or_field_size_has_no_declared_count():
    races = parse_racecards([{"race_id": "rac_x", "date": "2025-10-20", "field_size": "0", "runners": []}]).races
    assert races["declared_runners"].to_list() == [None]


@pytest.mark.parametrize(
    ("prize", "region", "amount", "currency"),
    [
        ("£4,193", "GB", 4193.0, "GBP"),
        ("€7080", "IRE", 7080.0, "EUR"),
        ("7080", "IRE", 7080.0, "EUR"),
        ("", "GB", None, None),
    ],
)
def test_prize_keeps_its_currency(cards, prize, region, amount, currency):
    changed = copy.deepcopy(cards[:1])
    changed[0].update(prize=prize, region=region)
    race = parse_racecards(changed).races.row(0, named=True)
    assert (race["prize"], race["prize_currency"]) == (amount, currency)


def test_claim_is_stripped_from_the_jockey_name(frames):
    lady_kara = runner(frames, "Lady Kara")
    assert (lady_kara["jockey_name"], lady_kara["jockey_claim_lbs"]) == ("Luke Scott", 3)


def test_declared_non_runner(frames):
    spartan = runner(frames, "Spartan Times")
    assert spartan["is_non_runner"] is True
    assert spartan["number"] is None
    assert spartan["jockey_name"] is None
    assert spartan["days_since_last_run"] == 9
    assert (spartan["days_since_last_run_this_code"], spartan["days_since_last_run_other_code"]) == (128, 9)
    assert spartan["last_run_other_code"] == "F"


def test_odds_read_by_hand(frames):
    gem_odds = frames.runner_odds.filter(pl.col("horse_id") == "hrs_47475190")
    bet365 = gem_odds.filter(pl.col("bookmaker") == "Bet365").to_dicts()[0]
    assert (bet365["fractional"], bet365["decimal"], bet365["ew_places"], bet365["ew_denom"]) == (
        "22/1",
        23.0,
        3,
        5,
    )
    assert bet365["updated"] == datetime(2025, 10, 13, 13, 11, 7, tzinfo=UTC)
    exchange = gem_odds.filter(pl.col("bookmaker") == "Betfair Exchange").to_dicts()[0]
    assert (exchange["fractional"], exchange["decimal"], exchange["ew_places"]) == ("28", 28.0, None)
    no_price = frames.runner_odds.filter(pl.col("fractional") == "-")
    assert no_price.height > 0
    assert no_price["decimal"].null_count() == no_price.height


def test_json_payloads_give_the_same_frames_as_dicts(cards, frames):
    payloads = pl.Series([json.dumps(race) for race in cards])
    for source in (payloads, pl.DataFrame({"payload": payloads})):
        from_json = parse_racecards(source)
        assert from_json.races.equals(frames.races)
        assert from_json.runners.equals(frames.runners)
        assert from_json.runner_odds.equals(frames.runner_odds)


@pytest.mark.parametrize(("where", "key", "value"), [
    ("runner", "age", 5),  # a number where the API promises a string: the strict reader fails the batch
    ("runner", "trainer_14_days", ""),  # "" where an object belongs
    ("race", "big_race", "false"),  # a string where the OpenAPI says boolean
    ("odds", "decimal", 23.0),
])  # fmt: skip
def test_a_batch_the_fast_reader_refuses_parses_the_same_as_dicts(cards, where, key, value):
    changed = copy.deepcopy(cards)
    target = {"race": changed[0], "runner": changed[0]["runners"][0],
              "odds": changed[0]["runners"][0]["odds"][0]}[where]
    target[key] = value
    from_dicts = parse_racecards(changed)
    from_json = parse_racecards(pl.Series([json.dumps(race) for race in changed]))
    for table in ("races", "runners", "runner_odds"):
        assert getattr(from_json, table).equals(getattr(from_dicts, table))


def test_a_race_payload_longer_than_a_json_reader_block_still_parses(cards):
    """The fast reader parses blocks of `_ARROW_BLOCK_BYTES` in parallel; a race longer than a block is read whole."""
    from darkhorses_assets.transforms._decode import _ARROW_BLOCK_BYTES

    changed = copy.deepcopy(cards)
    changed[1]["runners"][0]["spotlight"] = "x" * (_ARROW_BLOCK_BYTES + 1)
    from_json = parse_racecards(pl.Series([json.dumps(race) for race in changed]))
    from_dicts = parse_racecards(changed)
    for table in ("races", "runners", "runner_odds"):
        assert getattr(from_json, table).equals(getattr(from_dicts, table))
    assert from_json.runners["spotlight"].str.len_chars().max() == _ARROW_BLOCK_BYTES + 1


def test_raw_json_carries_the_runner_fragment(cards):
    for source in (cards, pl.Series([json.dumps(race) for race in cards])):
        runners = parse_racecards(source, include_raw=True).runners
        assert runners.columns[-1] == "raw_json"
        assert json.loads(runners["raw_json"][0]) == cards[0]["runners"][0]


def test_extra_fields_are_ignored_and_missing_ones_are_null(cards, frames):
    changed = copy.deepcopy(cards)
    changed[0]["surprise"] = [1, 2, 3]
    changed[0]["runners"][0]["surprise"] = {"a": 1}
    changed[0]["runners"][0]["odds"][0]["surprise"] = "x"
    del changed[0]["runners"][1]["trainer_location"], changed[0]["runners"][1]["dob"], changed[0]["prize"]
    parsed = parse_racecards(changed)
    assert parsed.runner_odds.equals(frames.runner_odds)
    second = parsed.runners.row(1, named=True)
    assert (second["trainer_location"], second["dob"]) == (None, None)
    assert parsed.races["prize"][0] is None


def test_missing_ids_keep_rows_with_null_keys(cards):
    changed = copy.deepcopy(cards)
    del changed[1]["race_id"]
    del changed[0]["runners"][2]["horse_id"]
    parsed = parse_racecards(pl.Series([json.dumps(race) for race in changed]))
    assert parsed.races["race_id"].null_count() == 1
    assert parsed.runners["horse_id"].null_count() == 1
    assert parsed.runners["race_id"].null_count() == len(cards[1]["runners"])
    assert parsed.runner_odds["horse_id"].null_count() == len(cards[0]["runners"][2]["odds"])


def test_future_card_with_undeclared_jockey():
    race = {
        "race_id": "rac_x",
        "date": "2025-10-20",
        "runners": [{"horse_id": "hrs_1", "jockey": "", "odds": []}],
    }
    parsed = parse_racecards([race])
    row = parsed.runners.row(0, named=True)
    assert (row["jockey_name"], row["jockey_id"], row["jockey_claim_lbs"]) == (None, None, None)
    assert parsed.runner_odds.height == 0


def test_merge_keeps_each_sources_columns(frames):
    results = parse_results(
        json.loads((SAMPLES / "results_2025-10-13_gb_first2.json").read_text())["results"]
    )
    merged = merge_races(frames.races, results.races)
    assert merged.schema == pl.Schema(RACES_SCHEMA)
    assert merged.height == frames.races.height + results.races.height
    card_only = merged.filter(pl.col("race_id") == "rac_11744434").row(0, named=True)
    assert (card_only["has_racecard"], card_only["has_result"], card_only["prize"]) == (True, False, 4193.0)
    assert card_only["winning_time_s"] is None
    assert card_only["field_size"] == 8
    result_only = merged.filter(pl.col("race_id") == "rac_11746254").row(0, named=True)
    assert (result_only["has_racecard"], result_only["has_result"]) == (False, True)
    assert result_only["field_size"] == result_only["ran"] == 10


def result_races(**columns) -> pl.DataFrame:
    """A result race frame with the given columns set and every other column null."""
    values = [pl.lit(columns.get(name), dtype).alias(name) for name, dtype in RESULT_RACES_SCHEMA.items()]
    return pl.select(values)


def test_merge_of_the_same_race_never_nulls_either_side(frames):
    card = frames.races.filter(pl.col("race_id") == "rac_11744434")
    result = result_races(race_id="rac_11744434", going="Soft", has_result=True, ran=7, winning_time_s=250.5)
    merged = merge_races(card, result)
    row = merged.row(0, named=True)
    assert merged.height == 1
    assert (row["prize"], row["declared_runners"], row["type"], row["course_id"]) == (
        4193.0,
        8,
        "Hurdle",
        "crs_624",
    )
    assert (row["winning_time_s"], row["ran"], row["field_size"], row["going"]) == (250.5, 7, 7, "Soft")
    assert (row["has_racecard"], row["has_result"]) == (True, True)


def test_merge_collapses_refetches_to_one_row_per_race(frames):
    merged = merge_races(pl.concat([frames.races, frames.races]), None)
    assert merged["race_id"].to_list() == frames.races["race_id"].to_list()
    assert not merged["has_result"].any()
