"""Result payloads -> races / results / non_runners, checked against values read off the sample JSON."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest

from darkhorses_assets.schemas.base import FINISH_STATUSES
from darkhorses_assets.schemas.validation import validate
from darkhorses_assets.transforms.parsing import FINISHED, NO_PLACING, NON_FINISH_CODES
from darkhorses_assets.transforms.races import RESULT_RACES_SCHEMA
from darkhorses_assets.transforms.results import (
    NON_RUNNERS_SCHEMA,
    RESULTS_SCHEMA,
    parse_results,
)

SAMPLES = Path(__file__).parent / "fixtures" / "samples"
RESULT_FILES = ("results_2025-10-07.json", "results_2025-10-13_gb_first2.json")


def load_races(name: str) -> list[dict]:
    return json.loads((SAMPLES / name).read_text())["results"]


@pytest.fixture(scope="module")
def races_1007() -> list[dict]:
    return load_races("results_2025-10-07.json")


@pytest.fixture(scope="module")
def frames_1007(races_1007):
    return parse_results(races_1007)


def runner(frames, horse: str) -> dict:
    rows = frames.results.filter(pl.col("horse") == horse).to_dicts()
    assert len(rows) == 1
    return rows[0]


@pytest.mark.parametrize("name", RESULT_FILES)
def test_every_sample_race_and_runner_parses_with_keys(name):
    races = load_races(name)
    frames = parse_results(races)
    assert frames.races.height == len(races)
    assert frames.results.height == sum(len(race["runners"]) for race in races)
    assert frames.races["race_id"].null_count() == 0
    assert frames.results.select("race_id", "horse_id").null_count().row(0) == (0, 0)
    assert frames.results.select("race_id", "horse_id").is_unique().all()
    assert frames.races["off_dt"].null_count() == 0
    assert frames.results["finish_position"].null_count() == 0


def test_output_schemas_are_the_documented_ones(frames_1007):
    assert frames_1007.races.schema == pl.Schema(RESULT_RACES_SCHEMA)
    assert frames_1007.results.schema == pl.Schema(RESULTS_SCHEMA)
    assert frames_1007.non_runners.schema == pl.Schema(NON_RUNNERS_SCHEMA)


def test_first_race_read_by_hand(frames_1007):
    race = frames_1007.races.filter(pl.col("race_id") == "rac_11745682").to_dicts()[0]
    assert race["off_dt"] == datetime(2025, 10, 7, 19, 30, tzinfo=UTC)
    assert race["race_date"] == date(2025, 10, 7)
    assert race["course"] == "Southwell (AW)"
    assert race["race_class"] == 6
    assert race["distance_yards"] == 1773
    assert race["distance_m"] == 1621.0
    assert race["distance_f"] == pytest.approx(1773 / 220), "from dist_y, not the API's rounded 8f"
    assert race["going"] == "Standard"
    assert race["going_group"] == "standard"
    assert race["surface"] == "AW"
    assert race["jumps"] is None
    assert race["is_handicap"] is True
    assert race["winning_time_s"] == pytest.approx(103.25)
    assert race["winning_time_vs_standard_s"] == 5.55
    assert (race["tote_win"], race["tote_win_currency"]) == (3.25, "GBP")
    assert race["tote_pl"] == "£1.70 £1.20"
    assert (race["tote_pl_amounts"], race["tote_pl_currency"]) == ([1.7, 1.2], "GBP")
    assert (race["tote_ex"], race["tote_csf"], race["tote_trifecta"]) == (6.2, 6.54, 15.2)
    assert {race[f"tote_{pool}_currency"] for pool in ("ex", "csf", "tricast", "trifecta")} == {"GBP"}
    assert race["has_result"] is True
    assert race["ran"] == 6
    assert race["comments"] is None


def test_winner_create_read_by_hand(frames_1007):
    create = runner(frames_1007, "Create (IRE)")
    assert create["horse_name"] == "Create"
    assert create["horse_country"] == "IRE"
    assert create["finish_position"] == 1
    assert create["finish_status"] == "FIN"
    assert create["sp_fraction"] == "9/4"
    assert create["sp_decimal"] == 3.25
    assert create["sp_favourite"] is None
    assert create["finish_time_s"] == pytest.approx(103.25)
    assert create["weight_lbs"] == 122
    assert create["weight_lbs_mismatch"] is False
    assert create["official_rating"] == 47
    assert create["tsr"] == 2
    assert (create["prize_won"], create["prize_won_currency"]) == (3245.08, "GBP")
    assert create["sex_code"] == "M"
    assert create["headgear"] == "p"
    assert create["draw"] == 8
    assert create["jockey_claim_lbs"] == 0
    assert create["sire_name"] == "Harry Angel"
    assert create["sire_country"] == "IRE"
    assert create["damsire_name"] == "Pivotal"
    assert create["damsire_country"] is None
    assert create["dead_heat"] is False


def test_placed_runners_read_by_hand(frames_1007):
    fire_eyes = runner(frames_1007, "Fire Eyes (FR)")
    assert (fire_eyes["sp_decimal"], fire_eyes["sp_favourite"], fire_eyes["btn_lengths"]) == (2.625, "F", 0.5)
    king_sharja = runner(frames_1007, "King Sharja (GB)")
    assert king_sharja["tsr"] is None
    assert king_sharja["btn_lengths"] == 4.75
    assert king_sharja["ovr_btn_lengths"] == 5.25
    assert king_sharja["cum_btn_lengths"] == pytest.approx(5.25)
    kamberleigh = runner(frames_1007, "Kamberleigh (GB)")
    assert kamberleigh["btn_lengths"] == 0.75
    assert kamberleigh["tsr"] is None
    assert (kamberleigh["prize_won"], kamberleigh["prize_won_currency"]) == (None, None)


def test_irish_money_is_in_euros_never_mixed_with_pounds(races_1007):
    """A real Irish result pays "€9" on the tote and a bare prize: both amounts are kept in EUR."""
    races = copy.deepcopy(races_1007[:2])
    races[0].update(region="IRE", tote_win="€9", tote_pl="€2.10 €1.40", tote_ex="€7080", tote_csf="")
    frames = parse_results(races)
    irish, british = frames.races.row(0, named=True), frames.races.row(1, named=True)
    assert (irish["tote_win"], irish["tote_win_currency"]) == (9.0, "EUR")
    assert (irish["tote_pl_amounts"], irish["tote_pl_currency"]) == ([2.1, 1.4], "EUR")
    assert (irish["tote_ex"], irish["tote_ex_currency"]) == (7080.0, "EUR")
    assert (irish["tote_csf"], irish["tote_csf_currency"]) == (None, None)
    assert (british["tote_win_currency"], british["tote_pl_currency"]) == ("GBP", "GBP")
    prizes = frames.results.group_by("race_id").agg(pl.col("prize_won_currency").drop_nulls().unique())
    currencies = dict(prizes.iter_rows())
    assert currencies == {races[0]["race_id"]: ["EUR"], races[1]["race_id"]: ["GBP"]}


@pytest.mark.parametrize(
    ("prize", "region", "tote_win", "currency"),
    [("4187.20", "GB", "£3.25", "GBP"), ("4187.20", "IRE", "", "EUR"), ("€4187.20", "GB", "", "EUR"),
     ("4187.20", "GB", "€9", "EUR")],
)  # fmt: skip
def test_prize_won_currency(races_1007, prize, region, tote_win, currency):
    races = copy.deepcopy(races_1007[:1])
    races[0].update({key: "" for key in races[0] if key.startswith("tote_")})
    races[0].update(region=region, tote_win=tote_win)
    races[0]["runners"][0]["prize"] = prize
    assert parse_results(races).results.row(0, named=True)["prize_won_currency"] == currency


@pytest.mark.parametrize(
    ("detail", "versus_standard"),
    [("2m 17.93s (slow by 0.03s)", 0.03), ("1m 16.89s (slow by 4.69s)", 4.69), ("58.10s (fast by 0.20s)", -0.2),
     ("1m 43.25s", None)],
)  # fmt: skip
def test_winning_time_versus_standard(races_1007, detail, versus_standard):
    races = copy.deepcopy(races_1007[:1])
    races[0]["winning_time_detail"] = detail
    assert parse_results(races).races["winning_time_vs_standard_s"].to_list() == [versus_standard]


def test_a_result_without_runners_did_not_run_a_field_of_0(races_1007):
    races = copy.deepcopy(races_1007[:2])
    races[0]["runners"] = []
    assert parse_results(races).races["ran"].to_list() == [None, len(races[1]["runners"])]


def test_claiming_jockey_keeps_the_claim(frames_1007):
    claims = frames_1007.results.filter(pl.col("jockey_claim_lbs") > 0)["jockey_claim_lbs"].to_list()
    assert sorted(set(claims)) == [3, 7]


def test_joint_favourites_and_fractional_sp():
    frames = parse_results(load_races("results_2025-10-13_gb_first2.json"))
    joint = frames.results.filter(pl.col("sp_favourite") == "J")
    assert joint["sp_decimal"].to_list() == [4.5, 4.5]
    assert frames.races["going"].unique().to_list() == ["Standard To Slow"]


def test_non_runners_split_on_commas_outside_brackets(frames_1007):
    rows = frames_1007.non_runners.select("race_id", "horse", "reason").rows()
    assert rows == [
        ("rac_11745682", "How's The Guvnor", "unsuitable ground"),
        ("rac_11745682", "Just King High", "travel problems"),
        ("rac_11745604", "Darn Hot Time", "self certificate, off feed"),
        ("rac_11745604", "Moostar", "withdrawn, vet's advice"),
    ]


def test_non_runner_with_country_suffix_and_no_reason():
    race = {
        "race_id": "rac_1",
        "date": "2025-10-07",
        "non_runners": "Alpha (IRE) (lame), Beta (FR)",
        "runners": [],
    }
    rows = parse_results([race]).non_runners.select("horse", "horse_name", "horse_country", "reason").rows()
    assert rows == [("Alpha (IRE)", "Alpha", "IRE", "lame"), ("Beta (FR)", "Beta", "FR", None)]


def test_json_payloads_give_the_same_frames_as_dicts(races_1007, frames_1007):
    payloads = pl.Series([json.dumps(race) for race in races_1007])
    from_json = parse_results(payloads)
    assert from_json.races.equals(frames_1007.races)
    assert from_json.results.equals(frames_1007.results)
    assert from_json.non_runners.equals(frames_1007.non_runners)
    from_frame = parse_results(pl.DataFrame({"payload": payloads}))
    assert from_frame.results.equals(frames_1007.results)


def test_raw_json_carries_the_fragment(races_1007):
    frames = parse_results(races_1007, include_raw=True)
    assert frames.races.columns[-1] == "raw_json"
    assert json.loads(frames.races["raw_json"][0])["race_id"] == races_1007[0]["race_id"]
    first_runner = json.loads(frames.results["raw_json"][0])
    assert first_runner["horse"] == "Create (IRE)"
    assert first_runner["weight"] == "8-10"
    from_json = parse_results(pl.Series([json.dumps(race) for race in races_1007]), include_raw=True)
    assert json.loads(from_json.results["raw_json"][0]) == races_1007[0]["runners"][0]


def test_unknown_extra_fields_are_ignored(races_1007):
    races = copy.deepcopy(races_1007)
    races[0]["brand_new_field"] = {"nested": [1, 2]}
    races[0]["runners"][0]["another_new_field"] = "x"
    for source in (races, pl.Series([json.dumps(race) for race in races])):
        frames = parse_results(source)
        assert frames.results.equals(parse_results(races_1007).results)


def test_missing_optional_fields_become_null(races_1007):
    races = copy.deepcopy(races_1007[:1])
    del races[0]["tote_win"], races[0]["winning_time_detail"]
    del races[0]["runners"][0]["tsr"], races[0]["runners"][0]["sp_dec"], races[0]["runners"][0]["prize"]
    frames = parse_results(races)
    assert frames.races.select("tote_win", "winning_time_s").row(0) == (None, None)
    create = frames.results.row(0, named=True)
    assert (create["tsr"], create["prize_won"]) == (None, None)
    assert create["sp_decimal"] == 3.25


@pytest.mark.parametrize("as_json", [False, True])
def test_missing_keys_keep_the_row_with_a_null_key(races_1007, as_json):
    races = copy.deepcopy(races_1007[:2])
    del races[0]["race_id"]
    del races[1]["runners"][0]["horse_id"]
    source = pl.Series([json.dumps(race) for race in races]) if as_json else races
    frames = parse_results(source)
    assert frames.races["race_id"].to_list() == [None, races_1007[1]["race_id"]]
    assert frames.results.height == len(races[0]["runners"]) + len(races[1]["runners"])
    assert frames.results.filter(pl.col("race_id").is_null()).height == len(races[0]["runners"])
    assert frames.results["horse_id"].null_count() == 1


def test_a_malformed_payload_does_not_sink_the_batch(races_1007):
    payloads = pl.Series(
        [json.dumps(races_1007[0]), "{not json", None, json.dumps(races_1007[1]), '{"runners": 5}']
    )
    frames = parse_results(payloads, include_raw=True)
    assert frames.races.height == 5
    assert frames.races["race_id"].to_list() == [
        races_1007[0]["race_id"],
        None,
        None,
        races_1007[1]["race_id"],
        None,
    ]
    assert frames.races["raw_json"][1] == "{not json"
    assert frames.results.height == len(races_1007[0]["runners"]) + len(races_1007[1]["runners"]) + 1
    assert frames.results["raw_json"][-1] == "5", "a `runners` that is not a list is one (unreadable) row"


def test_wrongly_typed_values_become_null_or_text(races_1007):
    races = copy.deepcopy(races_1007[:1])
    races[0]["runners"][0].update({"position": 1, "or": None, "btn": {"odd": True}, "draw": [1]})
    races[0]["runners"].append("not a runner")
    frames = parse_results(races)
    first = frames.results.row(0, named=True)
    assert first["finish_position"] == 1
    assert first["official_rating"] is None
    assert frames.results.height == len(races_1007[0]["runners"]) + 1
    assert frames.results["horse_id"].null_count() == 1


def test_dead_heat_from_shared_position_or_dht():
    race = {
        "race_id": "rac_dh",
        "date": "2025-06-01",
        "runners": [
            {"horse_id": "hrs_1", "horse": "A (GB)", "position": "1", "btn": "0", "number": "1"},
            {"horse_id": "hrs_2", "horse": "B (GB)", "position": "1", "btn": "dht", "number": "2"},
            {"horse_id": "hrs_3", "horse": "C (GB)", "position": "3", "btn": "nk", "number": "3"},
            {"horse_id": "hrs_4", "horse": "D (GB)", "position": "PU", "btn": "-", "number": "4"},
        ],
    }
    results = parse_results([race]).results
    assert results["dead_heat"].to_list() == [True, True, False, False]
    assert results["finish_status"].to_list() == ["FIN", "FIN", "FIN", "PU"]
    assert results["cum_btn_lengths"].to_list() == [0.0, 0.0, pytest.approx(0.3), None]


def test_repeated_race_ids_are_not_mistaken_for_dead_heats(races_1007):
    frames = parse_results(races_1007[:1] * 2)
    assert not frames.results["dead_heat"].any()


def test_empty_input_gives_empty_typed_frames():
    for source in ([], pl.Series([], dtype=pl.String)):
        frames = parse_results(source)
        assert frames.races.schema == pl.Schema(RESULT_RACES_SCHEMA)
        assert frames.results.schema == pl.Schema(RESULTS_SCHEMA)
        assert frames.results.height == 0


def race_with_positions(*positions: str) -> dict:
    runners = [
        {"horse_id": f"hrs_{i}", "horse": f"H{i} (GB)", "position": position, "number": str(i)}
        for i, position in enumerate(positions, start=1)
    ]
    return {"race_id": "rac_pos", "date": "2025-06-01", "runners": runners}


def test_every_known_status_is_allowed_by_the_hard_model():
    assert set(FINISH_STATUSES) == {FINISHED, *NON_FINISH_CODES}
    codes = [code for code in NON_FINISH_CODES if code != NO_PLACING]
    results = parse_results([race_with_positions("1", "0", *codes, *(code.lower() for code in codes))]).results
    validation = validate(results, "results")
    assert validation.quarantined.is_empty()
    assert validation.valid.height == results.height
    assert set(results["finish_status"]) == {FINISHED, *NON_FINISH_CODES}
    assert all(rule.failing_rows == 0 for rule in validation.rules if "finish" in rule.name)


def test_zero_position_is_a_non_finisher_without_a_position():
    results = parse_results([race_with_positions("1", "0", "00", "2")]).results
    assert results.select("finish_position", "finish_status", "dead_heat").rows() == [
        (1, FINISHED, False),
        (None, NO_PLACING, False),
        (None, NO_PLACING, False),
        (2, FINISHED, False),
    ]
    assert results["cum_btn_lengths"][1:3].to_list() == [None, None]
    validation = validate(results, "results")
    assert validation.quarantined.is_empty()
    finishers_rule = next(rule for rule in validation.rules if rule.name == "finishers_have_position")
    assert finishers_rule.failing_rows == 0


def test_unknown_position_code_is_quarantined():
    results = parse_results([race_with_positions("1", "XYZ", "-1", "PU", "=2", "2=")]).results
    assert results["finish_status"].to_list() == [FINISHED, "XYZ", "-1", "PU", FINISHED, FINISHED]
    assert results["dead_heat"].to_list() == [False, False, False, False, True, True]
    validation = validate(results, "results")
    reasons = dict(validation.quarantined.select("horse_id", "reasons").iter_rows())
    assert reasons == {
        "hrs_2": "finish_status:known_finish_status (got XYZ)",
        "hrs_3": "finish_status:known_finish_status (got -1)",
    }
    assert validation.valid["horse_id"].to_list() == ["hrs_1", "hrs_4", "hrs_5", "hrs_6"]
