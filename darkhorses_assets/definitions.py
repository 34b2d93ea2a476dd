"""The one Definitions object of DarkHorses: assets, checks, schedules, sensors and resources."""

from __future__ import annotations

from dagster import Definitions, EnvVar

from darkhorses_assets.instance_settings import configure_dagster_process

configure_dagster_process()  # first: the assets' deliberate beta parameters warn when they are defined

from darkhorses_assets.assets.clean import clean_assets
from darkhorses_assets.assets.dimensions import dimension_assets
from darkhorses_assets.assets.features import feature_assets
from darkhorses_assets.assets.horse_profiles import horse_profile_assets
from darkhorses_assets.assets.raw import raw_assets
from darkhorses_assets.automation.conditions import with_automation
from darkhorses_assets.automation.failures import RUN_FAILURE_RESOURCE_KEY, run_failure_alerts
from darkhorses_assets.automation.freshness import freshness_checks, freshness_jobs, freshness_schedules
from darkhorses_assets.automation.schedules import schedules
from darkhorses_assets.automation.sensors import sensors
from darkhorses_assets.io import PostgresPolarsIOManager
from darkhorses_assets.io.run_failures import RunFailureStore
from darkhorses_assets.io.warehouse import WarehouseResource
from darkhorses_assets.local.postgres import DATABASE_URL_ENV
from darkhorses_assets.racing_api.client import RacingApiResource
from darkhorses_assets.settings import load_settings


def default_resources() -> dict:
    """Resources read from the environment: the warehouse Postgres and The Racing API (or the simulator).
    Every setting is validated here, so a bad one fails loading the code location naming the variable.

    Nothing needs to be set for the code location to load (plain `dagster dev`):
    - DARKHORSES_DATABASE_URL unset: the database URL is left empty, which the Postgres client reads as the
      embedded Postgres of `make dev`, started on first use (`local.postgres.embedded_database_url`);
    - RACING_API_USERNAME / RACING_API_PASSWORD unset: the credentials are left empty, and a step that calls the
      API fails at once with one sentence saying what to set (never Dagster's error about an unset EnvVar).
    Set values are read through `EnvVar`, so they never show in the UI.
    """
    settings = load_settings()
    database_url = EnvVar(DATABASE_URL_ENV) if settings.database_url else ""
    credentials = settings.racing_api_credentials_set
    return {
        "io_manager": PostgresPolarsIOManager(database_url=database_url),
        "warehouse": WarehouseResource(database_url=database_url),
        RUN_FAILURE_RESOURCE_KEY: RunFailureStore(database_url=database_url),
        "racing_api": RacingApiResource(
            base_url=settings.racing_api_base_url,
            username=EnvVar("RACING_API_USERNAME") if credentials else "",
            password=EnvVar("RACING_API_PASSWORD") if credentials else "",
            record_dir=str(settings.record_dir) if settings.record_dir else None,
        ),
    }


def build_definitions(resources: dict) -> Definitions:
    """Everything DarkHorses defines, bound to `resources` (tests pass their own database and simulator)."""
    return Definitions(
        assets=with_automation([*raw_assets, *clean_assets, *dimension_assets, *horse_profile_assets,
                                *feature_assets]),
        asset_checks=freshness_checks,
        jobs=freshness_jobs,
        schedules=[*schedules, *freshness_schedules],
        sensors=[*sensors, run_failure_alerts],
        resources=resources,
    )


defs = build_definitions(default_resources())
