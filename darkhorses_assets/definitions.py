"""The one Definitions object of DarkHorses: assets, checks, schedules, sensors and resources."""

from __future__ import annotations

import os

from dagster import Definitions, EnvVar

from darkhorses_assets.assets.clean import clean_assets
from darkhorses_assets.assets.dimensions import dimension_assets
from darkhorses_assets.assets.features import feature_assets
from darkhorses_assets.assets.horse_profiles import horse_profile_assets
from darkhorses_assets.assets.raw import raw_assets
from darkhorses_assets.io import PostgresPolarsIOManager
from darkhorses_assets.io.warehouse import WarehouseResource
from darkhorses_assets.local.postgres import DATABASE_URL_ENV
from darkhorses_assets.racing_api.client import RacingApiResource

REAL_API_URL = "https://api.theracingapi.com"

defs = Definitions(
    assets=[*raw_assets, *clean_assets, *dimension_assets, *horse_profile_assets, *feature_assets],
    resources={
        "io_manager": PostgresPolarsIOManager(database_url=EnvVar(DATABASE_URL_ENV)),
        "warehouse": WarehouseResource(database_url=EnvVar(DATABASE_URL_ENV)),
        "racing_api": RacingApiResource(
            base_url=os.environ.get("RACING_API_BASE_URL", REAL_API_URL),
            username=EnvVar("RACING_API_USERNAME"),
            password=EnvVar("RACING_API_PASSWORD"),
            record_dir=os.environ.get("DARKHORSES_RECORD_DIR") or None,
        ),
    },
)
