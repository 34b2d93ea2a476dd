"""Horse pro profiles through Dagster: the per-run request budget, never asking twice, the clean parse."""

from datetime import date, timedelta

import polars as pl
from dagster import AssetSpec, materialize

from darkhorses_assets.assets.horse_profiles import horse_profiles_asset, raw_horse_profiles
from darkhorses_assets.assets.keys import clean_key
from darkhorses_assets.io import PostgresClient, PostgresPolarsIOManager, TableRef
from darkhorses_assets.io.warehouse import WarehouseResource
from darkhorses_assets.racing_api.client import RacingApiResource
from darkhorses_assets.racing_api.limiter import reset_shared_buckets
from darkhorses_assets.racing_api.simulator import Faults, SimulatorConfig, SimulatorServer
from darkhorses_assets.racing_api.simulator.payloads import Payloads
from darkhorses_assets.transforms.horses import horses_to_profile

TODAY = date(2025, 10, 10)
UNKNOWN = "hrs_999999999"
HORSES = AssetSpec(clean_key("horses"))
RAW = AssetSpec(raw_horse_profiles.key)


def _simulator(faults: Faults | None = None) -> SimulatorServer:
    return SimulatorServer(SimulatorConfig(today=TODAY, rate_limit_per_s=0, faults=faults or Faults()), port=0)


def _resources(sim: SimulatorServer, url: str) -> dict:
    return {
        "io_manager": PostgresPolarsIOManager(database_url=url),
        "warehouse": WarehouseResource(database_url=url),
        "racing_api": RacingApiResource(base_url=sim.url, username=sim.config.username,
                                        password=sim.config.password, requests_per_second=1000,
                                        max_attempts=2, retry_initial_wait_s=0.01, retry_max_wait_s=0.05),
    }


def _store_horses(url: str, sim: SimulatorServer) -> list[str]:
    """Six real horses (one race each day, newest last) and one the API does not know, as clean.horses."""
    payloads = Payloads(sim.app.world, TODAY)
    ids, days = [], []
    for back in range(6, 0, -1):
        day = TODAY - timedelta(days=back)
        ids.append(payloads.racecards(day)[0]["runners"][0]["horse_id"])
        days.append(day)
    frame = pl.DataFrame({"horse_id": [*ids, UNKNOWN], "last_seen": [*days, TODAY - timedelta(days=30)]})
    PostgresClient(url).write_frame(TableRef("clean", "horses"), frame)
    return ids


def _profile_requests(sim: SimulatorServer) -> list[str]:
    return [path for _, path, _ in sim.stats()["requests"] if path.startswith("/v1/horses/")]


def _run(sim, url, max_requests, assets=(raw_horse_profiles, HORSES)):
    config = {"ops": {"raw__raw_horse_profiles": {"config": {"max_requests": max_requests}}}}
    return materialize(list(assets), resources=_resources(sim, url), run_config=config, raise_on_error=False)


def test_budget_bounds_each_run_and_no_horse_is_asked_twice(postgres_url):
    with _simulator() as sim:
        ids = _store_horses(postgres_url, sim)
        first = _run(sim, postgres_url, max_requests=4)
        assert first.success
        assert sorted(_profile_requests(sim)) == sorted(f"/v1/horses/{i}/pro" for i in ids[2:])
        metadata = first.asset_materializations_for_node("raw__raw_horse_profiles")[0].metadata
        assert metadata["api_requests"].value == 4 and metadata["horses_still_unprofiled"].value == 3

        assert _run(sim, postgres_url, max_requests=10).success
        second = _profile_requests(sim)[4:]
        assert sorted(second) == sorted(f"/v1/horses/{i}/pro" for i in [*ids[:2], UNKNOWN])

        assert _run(sim, postgres_url, max_requests=10).success
        assert len(_profile_requests(sim)) == 7

    stored = PostgresClient(postgres_url).read_frame(TableRef("raw", "raw_horse_profiles"))
    assert stored.height == stored["horse_id"].n_unique() == 7
    assert stored.filter(pl.col("horse_id") == UNKNOWN)["status"].to_list() == [404]
    assert stored.filter(pl.col("status") == 200)["payload"].null_count() == 0


def test_clean_profiles_parse_validate_and_reconcile(postgres_url):
    with _simulator() as sim:
        ids = _store_horses(postgres_url, sim)
        assert _run(sim, postgres_url, max_requests=10).success
        result = materialize([horse_profiles_asset, RAW], resources=_resources(sim, postgres_url))
    assert result.success
    profiles = PostgresClient(postgres_url).read_frame(TableRef("clean", "horse_profiles"))
    assert sorted(profiles["horse_id"].to_list()) == sorted(ids)
    assert profiles["horse_name"].null_count() == 0 and profiles["dob"].null_count() == 0
    assert not profiles["horse_name"].str.contains(r"\(").any()
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    assert checks["horse_profiles_reconciliation"].passed and checks["horse_profiles_hard_rules"].passed
    assert checks["horse_profiles_reconciliation"].metadata["raw_ids"].value == 6


def test_an_api_outage_fails_the_run_and_the_next_run_fetches_everything(postgres_url):
    with _simulator(Faults(rate_5xx=1.0)) as sim:
        _store_horses(postgres_url, sim)
        failed = _run(sim, postgres_url, max_requests=10)
    assert not failed.success
    failure = failed.get_step_failure_events()[0].step_failure_data.error.message
    assert "The profiles fetched so far are stored" in failure
    assert PostgresClient(postgres_url).read_frame(TableRef("raw", "raw_horse_profiles")).is_empty()

    reset_shared_buckets()
    with _simulator() as sim:
        assert _run(sim, postgres_url, max_requests=10).success
        assert len(_profile_requests(sim)) == 7


def test_queue_puts_the_most_recently_seen_first_and_skips_profiled():
    seen = pl.DataFrame({
        "horse_id": ["hrs_1", "hrs_2", "hrs_3", "hrs_2", None],
        "last_seen": [date(2025, 1, 1), date(2025, 3, 1), date(2025, 2, 1), date(2024, 1, 1), date(2025, 5, 1)],
    })
    assert horses_to_profile(seen, pl.Series([], dtype=pl.Utf8)).to_list() == ["hrs_2", "hrs_3", "hrs_1"]
    assert horses_to_profile(seen, pl.Series(["hrs_2"])).to_list() == ["hrs_3", "hrs_1"]
    assert horses_to_profile(seen, pl.Series(["hrs_1", "hrs_2", "hrs_3"])).is_empty()
