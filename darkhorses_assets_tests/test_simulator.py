"""The simulated Racing API over real HTTP: auth, validation, paging, shapes, rate limit, faults, replay."""

from __future__ import annotations

import json
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests
from jsonschema import Draft202012Validator

from darkhorses_assets.racing_api.recording import load_recordings, record_filename, write_recording
from darkhorses_assets.racing_api.simulator import Faults, SimulatorConfig, SimulatorServer
from darkhorses_assets.racing_api.simulator.faults import EXTRA_FIELD

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = FIXTURES / "samples"
TODAY = date(2025, 11, 1)
PAST = "2025-10-13"
AUTH = ("darkhorses", "simulator")
BOOLEAN_FIELDS = {"big_race", "is_abandoned"}


def config(**overrides) -> SimulatorConfig:
    return SimulatorConfig(**{"today": TODAY, "rate_limit_per_s": 1000.0, **overrides})


@pytest.fixture(scope="module")
def sim():
    with SimulatorServer(config()) as server:
        yield server


def get(server: SimulatorServer, path: str, params=None, auth=AUTH) -> requests.Response:
    return requests.get(server.url + path, params=params, auth=auth, timeout=30)


def sample(name: str) -> dict:
    return json.loads((SAMPLES / name).read_text())


# -- auth and validation ---------------------------------------------------------------------------------


def test_missing_or_wrong_credentials_get_401_json(sim):
    for auth in (None, ("darkhorses", "wrong")):
        response = get(sim, "/v1/courses", auth=auth)
        assert response.status_code == 401
        assert response.headers["Content-Type"] == "application/json"
        assert isinstance(response.json()["detail"], str)


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/v1/results", {"start_date": PAST, "limit": "51"}, "limit"),
        ("/v1/results", {"start_date": PAST, "limit": "0"}, "limit"),
        ("/v1/results", {"start_date": PAST, "skip": "20001"}, "skip"),
        ("/v1/results", {"start_date": PAST, "limit": "ten"}, "limit"),
        ("/v1/results", {"start_date": "13/10/2025"}, "start_date"),
        ("/v1/racecards/pro", {"date": PAST, "limit": "501"}, "limit"),
        ("/v1/racecards/pro", {"date": PAST, "skip": "501"}, "skip"),
    ],
)
def test_parameters_beyond_the_maxima_get_422_in_fastapi_shape(sim, path, params, field):
    response = get(sim, path, params)
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["query", field]
    assert error["msg"] and error["type"]


def test_unknown_ids_get_404(sim):
    assert get(sim, "/v1/horses/hrs_99999999/pro").status_code == 404
    assert get(sim, "/v1/results/rac_1").status_code == 404
    assert get(sim, "/v1/nowhere").status_code == 404


# -- paging, filters and windows -------------------------------------------------------------------------


def test_results_pages_add_up_to_total_and_echo_the_query(sim):
    params = {"start_date": PAST, "end_date": PAST, "region": ["gb", "ire"], "limit": "10"}
    first = get(sim, "/v1/results", {**params, "skip": "0"}).json()
    assert first["limit"] == 10 and first["skip"] == 0
    expected_query = [["start_date", PAST], ["end_date", PAST], ["region", "gb"], ["region", "ire"]]
    assert first["query"][:4] == expected_query
    total, ids = first["total"], []
    assert total > 20
    for skip in range(0, total + 10, 10):
        page = get(sim, "/v1/results", {**params, "skip": str(skip)}).json()
        assert page["total"] == total
        ids += [race["race_id"] for race in page["results"]]
    assert len(ids) == len(set(ids)) == total
    assert get(sim, "/v1/results", {"start_date": PAST}).json()["limit"] == 25


def test_region_filters(sim):
    ire = get(sim, "/v1/results", {"start_date": PAST, "region": "ire", "limit": "50"}).json()
    both = get(sim, "/v1/results", {"start_date": PAST, "region": ["gb", "ire"], "limit": "50"}).json()
    assert ire["results"] and {race["region"] for race in ire["results"]} == {"IRE"}
    assert 0 < ire["total"] < both["total"]
    cards = get(sim, "/v1/racecards/pro", {"date": PAST, "region_codes": "gb"}).json()
    assert cards["racecards"] and {race["region"] for race in cards["racecards"]} == {"GB"}
    courses = get(sim, "/v1/courses", {"region_codes": "ire"}).json()
    assert courses["total"] == len(courses["courses"]) > 20
    assert {c["region_code"] for c in courses["courses"]} == {"ire"}
    names = {c["course"] for c in get(sim, "/v1/courses").json()["courses"]}
    assert {"Southwell (AW)", "Kempton (AW)", "Dundalk (AW)", "Cheltenham", "Leopardstown"} <= names
    regions = get(sim, "/v1/courses/regions").json()
    assert {"region": "Ireland", "region_code": "ire"} in regions


def test_racecards_reach_seven_days_ahead_and_no_further(sim):
    ahead = get(sim, "/v1/racecards/pro", {"date": (TODAY + timedelta(days=7)).isoformat()})
    assert ahead.status_code == 200 and ahead.json()["total"] > 0
    beyond = get(sim, "/v1/racecards/pro", {"date": (TODAY + timedelta(days=8)).isoformat()})
    assert beyond.status_code == 422
    assert get(sim, "/v1/racecards/pro", {"date": "2016-03-01"}).json()["total"] > 0
    assert get(sim, "/v1/racecards/pro", {"date": "2014-12-31"}).json()["total"] == 0


def test_racecard_history_can_start_like_the_real_api():
    with SimulatorServer(config(racecard_history_from=date(2023, 1, 23))) as server:
        assert get(server, "/v1/racecards/pro", {"date": "2023-01-22"}).json()["total"] == 0
        assert get(server, "/v1/racecards/pro", {"date": "2023-01-23"}).json()["total"] > 0


def test_results_only_for_dates_before_today(sim):
    assert get(sim, "/v1/results", {"start_date": TODAY.isoformat()}).json()["total"] == 0
    yesterday = get(sim, "/v1/results", {"start_date": (TODAY - timedelta(days=1)).isoformat()}).json()
    assert yesterday["total"] > 0
    today_cards = get(sim, "/v1/racecards/pro", {"date": TODAY.isoformat(), "limit": "1"}).json()
    today_card = today_cards["racecards"][0]
    assert get(sim, f"/v1/results/{today_card['race_id']}").status_code == 404
    one = yesterday["results"][0]
    assert get(sim, f"/v1/results/{one['race_id']}").json() == one


def test_results_match_racecards_of_the_same_day(sim):
    cards = get(sim, "/v1/racecards/pro", {"date": PAST}).json()["racecards"]
    results = []
    for skip in range(0, 100, 50):
        page = get(sim, "/v1/results", {"start_date": PAST, "limit": "50", "skip": str(skip)}).json()
        results += page["results"]
    by_id = {race["race_id"]: race for race in results}
    assert set(by_id) == {card["race_id"] for card in cards if not card["is_abandoned"]}
    for card in cards:
        if card["is_abandoned"]:
            continue
        declared = {r["horse_id"] for r in card["runners"] if r["number"] != "NR"}
        assert {r["horse_id"] for r in by_id[card["race_id"]]["runners"]} == declared
        assert card["field_size"] == str(len(declared))
    horses = [r["horse_id"] for card in cards for r in card["runners"]]
    assert len(horses) == len(set(horses)), "a horse is declared twice on one day"


# -- payload shapes --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def openapi() -> dict:
    return json.loads((FIXTURES / "openapi.json").read_text())


def validate(openapi: dict, schema_name: str, instance) -> None:
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": openapi["components"]}
    errors = sorted(Draft202012Validator(schema).iter_errors(instance), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]


def test_responses_validate_against_the_openapi_schemas(sim, openapi):
    validate(openapi, "ResultsPage", get(sim, "/v1/results", {"start_date": PAST, "limit": "50"}).json())
    validate(openapi, "RacecardsOddsProPage", get(sim, "/v1/racecards/pro", {"date": PAST}).json())
    validate(openapi, "CoursesPage", get(sim, "/v1/courses").json())
    result = get(sim, "/v1/results", {"start_date": PAST, "limit": "1"}).json()["results"][0]
    validate(openapi, "Result", get(sim, f"/v1/results/{result['race_id']}").json())
    runner = result["runners"][0]
    horse = get(sim, f"/v1/horses/{runner['horse_id']}/pro").json()
    validate(openapi, "HorsePro", horse)
    assert horse["sire_id"] == runner["sire_id"] and horse["name"] == runner["horse"]
    for key in ("sire_id", "dam_id", "damsire_id"):
        ancestor = get(sim, f"/v1/horses/hrs_{runner[key][4:]}/pro")
        assert ancestor.status_code == 200
        validate(openapi, "HorsePro", ancestor.json())


def assert_all_strings(record: dict, where: str) -> None:
    for key, value in record.items():
        if key in BOOLEAN_FIELDS:
            assert isinstance(value, bool), f"{where}.{key}"
        elif isinstance(value, dict):
            assert_all_strings(value, f"{where}.{key}")
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    assert_all_strings(item, f"{where}.{key}[]")
                else:
                    assert isinstance(item, str), f"{where}.{key}[]"
        else:
            assert isinstance(value, str), f"{where}.{key} is {type(value).__name__}"


def test_field_sets_cover_the_real_samples_and_scalars_are_strings(sim):
    real_cards = sample("racecards_pro_2025-10-13_gb_first2.json")["racecards"]
    real_results = sample("results_2025-10-07.json")["results"] + sample(
        "results_2025-10-13_gb_first2.json")["results"]
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    cards = get(sim, "/v1/racecards/pro", {"date": yesterday}).json()["racecards"]
    results = get(sim, "/v1/results", {"start_date": PAST, "limit": "50"}).json()["results"]

    def keys(records, nested=None):
        return set().union(*(set(r) for r in records)) if nested is None else set().union(
            *(set(x) for r in records for x in r[nested]))

    assert keys(cards) >= keys(real_cards)
    assert keys(cards, "runners") >= keys(real_cards, "runners")
    real_odds = [o for card in real_cards for r in card["runners"] for o in r["odds"]]
    sim_odds = [o for card in cards for r in card["runners"] for o in r["odds"]]
    assert sim_odds and keys(sim_odds) >= keys(real_odds)
    assert keys(results) >= keys(real_results)
    assert keys(results, "runners") >= keys(real_results, "runners")
    for record in cards + results:
        assert_all_strings(record, record["race_id"])


def test_payload_quirks_look_like_the_real_api(sim):
    results = get(sim, "/v1/results", {"start_date": PAST, "limit": "50"}).json()["results"]
    cards = get(sim, "/v1/racecards/pro", {"date": PAST}).json()["racecards"]
    runners = [r for race in results for r in race["runners"]]
    assert any(r["horse"].endswith(")") for r in runners)
    assert all("(" not in r["horse"] for card in cards for r in card["runners"])
    assert all(r["sex"] in {"C", "F", "G", "M", "H"} for r in runners)
    assert any(r["sp"].endswith(("F", "J", "C")) for r in runners)
    assert all(r["prize"] == "" or float(r["prize"]) > 0 for r in runners)
    for race in results:
        hour = int(race["off"].split(":")[0])
        assert 1 <= hour <= 12 and race["off_dt"][-6:] in ("+00:00", "+01:00")
    assert all(card["prize"][0] in "£€" for card in cards)
    assert any(r["ofr"] == "-" for card in cards for r in card["runners"])


def test_same_request_same_bytes_even_across_servers(sim):
    params = {"start_date": PAST, "region": ["gb", "ire"], "limit": "50"}
    first = get(sim, "/v1/results", params).content
    assert get(sim, "/v1/results", params).content == first
    with SimulatorServer(config()) as other:
        assert get(other, "/v1/results", params).content == first
        card = {"date": PAST, "region_codes": "gb"}
        assert get(other, "/v1/racecards/pro", card).content == get(sim, "/v1/racecards/pro", card).content


# -- rate limit ------------------------------------------------------------------------------------------


def test_bursts_beyond_two_per_second_get_429_with_retry_after():
    with SimulatorServer(config(rate_limit_per_s=2.0)) as server:
        responses = [get(server, "/v1/courses/regions") for _ in range(6)]
        statuses = [r.status_code for r in responses]
        assert statuses[:2] == [200, 200] and 429 in statuses
        limited = next(r for r in responses if r.status_code == 429)
        assert int(limited.headers["Retry-After"]) >= 1
        log = requests.get(server.url + "/_simulator/stats", timeout=10).json()
        assert [entry[2] for entry in log["requests"]] == statuses
        assert log["by_status"]["429"] == statuses.count(429)
        time.sleep(0.6)
        assert get(server, "/v1/courses/regions").status_code == 200


# -- faults ----------------------------------------------------------------------------------------------


def fault_server(**fault_args) -> SimulatorServer:
    return SimulatorServer(config(faults=Faults(**fault_args)))


@pytest.mark.parametrize("kind", ["429", "500", "502", "503"])
def test_fail_first_answers_the_first_requests_with_the_status(kind):
    with fault_server(fail_first={kind: 2}) as server:
        statuses = [get(server, "/v1/courses").status_code for _ in range(3)]
        assert statuses == [int(kind), int(kind), 200]


def test_injected_429_carries_retry_after():
    with fault_server(rate_429=1.0) as server:
        response = get(server, "/v1/courses")
        assert response.status_code == 429 and int(response.headers["Retry-After"]) >= 1


def test_slow_fault_delays_the_answer():
    with fault_server(fail_first={"slow": 1}, slow_seconds=0.4) as server:
        started = time.monotonic()
        assert get(server, "/v1/courses").status_code == 200
        assert time.monotonic() - started >= 0.4


@pytest.mark.parametrize("kind", ["truncated", "malformed"])
def test_body_faults_make_unparseable_json(kind):
    with fault_server(**{f"rate_{kind}": 1.0}) as server:
        response = get(server, "/v1/results", {"start_date": PAST, "limit": "2"})
        assert response.status_code == 200
        with pytest.raises(ValueError):
            json.loads(response.content)


def test_extra_and_missing_field_faults_change_records():
    with fault_server(fail_first={"extra_fields": 1, "missing_fields": 1}) as server:
        params = {"start_date": PAST, "limit": "2"}
        extra = get(server, "/v1/results", params).json()["results"][0]
        missing = get(server, "/v1/results", params).json()["results"][0]
        normal = get(server, "/v1/results", params).json()["results"][0]
    assert extra[EXTRA_FIELD] and extra["runners"][0][EXTRA_FIELD]
    assert "winning_time_detail" in normal and "winning_time_detail" not in missing
    assert "silk_url" not in missing["runners"][0]


def test_faults_read_from_the_environment():
    faults = Faults.from_env({"DARKHORSES_SIM_FAULT_429": "0.25", "DARKHORSES_SIM_FAULT_SLOW_SECONDS": "1.5",
                              "DARKHORSES_SIM_FAULT_SEED": "3", "DARKHORSES_SIM_FAULT_MISSING_FIELDS": "0.1"},
                             rate_5xx=0.5)
    assert (faults.rate_429, faults.slow_seconds, faults.seed) == (0.25, 1.5, 3)
    assert (faults.rate_missing_fields, faults.rate_5xx) == (0.1, 0.5)
    with pytest.raises(ValueError):
        Faults(fail_first={"418": 1})


# -- replay ----------------------------------------------------------------------------------------------


def test_replay_serves_recordings_and_names_what_is_missing(tmp_path):
    params = {"start_date": "2025-10-07", "region": ["gb", "ire"], "limit": "50", "skip": "0"}
    body = {"results": [], "total": 0, "limit": 50, "skip": 0, "query": []}
    write_recording(tmp_path, "/v1/results", params, 200, body)
    write_recording(tmp_path, "/v1/racecards/pro", {"date": "2025-10-07"}, 200, None, body_text='{"racec')
    assert len(load_recordings(tmp_path)) == 2
    with SimulatorServer(config(replay_dir=tmp_path)) as server:
        shuffled = {"skip": "0", "limit": "50", "region": ["ire", "gb"], "start_date": "2025-10-07"}
        assert get(server, "/v1/results", shuffled).json() == body
        assert get(server, "/v1/racecards/pro", {"date": "2025-10-07"}).text == '{"racec'
        missing = get(server, "/v1/results", {"start_date": "2025-10-08"})
        assert missing.status_code == 404
        detail = missing.json()["detail"]
        assert "/v1/results" in detail and "start_date=2025-10-08" in detail
        assert get(server, "/v1/results", shuffled, auth=None).status_code == 401


def test_record_filename_is_stable_and_order_insensitive():
    a = record_filename("/v1/results", {"region": ["gb", "ire"], "start_date": "2025-10-07"})
    b = record_filename("/v1/results", {"start_date": "2025-10-07", "region": ["ire", "gb"]})
    assert a == b and a.endswith(".json") and "/" not in a
    single = record_filename("/v1/results", {"region": "gb"})
    assert single == record_filename("/v1/results", {"region": ["gb"]})
    assert a != record_filename("/v1/results", {"start_date": "2025-10-08"})


def test_a_corrupt_recording_added_while_serving_is_named_in_the_answer_and_the_rest_still_serve(tmp_path):
    params = {"start_date": "2025-10-07", "region": ["gb", "ire"], "limit": "50", "skip": "0"}
    body = {"results": [], "total": 0, "limit": 50, "skip": 0, "query": []}
    write_recording(tmp_path, "/v1/results", params, 200, body)
    with SimulatorServer(config(replay_dir=tmp_path)) as server:
        (tmp_path / "added_later.json").write_text('{"path": "/v1/results", "par', encoding="utf-8")
        missing = get(server, "/v1/results", {"start_date": "2025-10-08"})
        assert missing.status_code == 404
        assert "added_later.json is not a recording" in missing.json()["detail"]
        assert get(server, "/v1/results", params).json() == body


def test_a_corrupt_recording_at_start_up_fails_naming_the_file(tmp_path):
    (tmp_path / "broken.json").write_text("not json", encoding="utf-8")
    with pytest.raises(ValueError, match="broken.json is not a recording"):
        SimulatorServer(config(replay_dir=tmp_path))


def test_local_services_can_serve_the_simulator_from_a_child_process_and_stop_it(postgres_url, monkeypatch):
    from darkhorses_assets.local.services import local_services

    monkeypatch.setenv("DARKHORSES_DATABASE_URL", postgres_url)
    with local_services(simulator_today=TODAY, simulator_process=True, force_simulator=True) as services:
        url = services.env["RACING_API_BASE_URL"]
        answer = requests.get(f"{url}/v1/results", params={"start_date": PAST, "end_date": PAST}, auth=AUTH,
                              timeout=30)
        assert answer.status_code == 200 and answer.json()["total"] > 0
        assert services.simulator is None  # no server thread in this process
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/v1/results", auth=AUTH, timeout=5)


def test_a_warmed_up_simulator_has_generated_today_before_its_first_request():
    """`python -m …simulator` warms up before it listens: the first racecards of today are then a cache hit, not
    the ≈ 0.5 s generation of the horse crops in training (a seed of its own: worlds are shared per seed)."""
    from darkhorses_assets.racing_api.simulator.server import SimulatorApp

    app = SimulatorApp(SimulatorConfig(seed=9173, today=date(2025, 10, 13), rate_limit_per_s=0))
    app.warm_up()
    generated = app.world.day.cache_info()
    app.world.races_on(date(2025, 10, 13))
    assert app.world.day.cache_info().misses == generated.misses
    assert generated.misses >= 1
