"""The project's definitions with every resource read from the environment at run time and the in-process
executor: the code location of the in-process backfill daemon in test_cli_backfill.py."""

from dagster import Definitions, EnvVar, in_process_executor

from darkhorses_assets.definitions import build_definitions
from darkhorses_assets.io import PostgresPolarsIOManager
from darkhorses_assets.io.warehouse import WarehouseResource
from darkhorses_assets.racing_api.client import RacingApiResource

_project = build_definitions({
    "io_manager": PostgresPolarsIOManager(database_url=EnvVar("DARKHORSES_DATABASE_URL")),
    "warehouse": WarehouseResource(database_url=EnvVar("DARKHORSES_DATABASE_URL")),
    "racing_api": RacingApiResource(base_url=EnvVar("RACING_API_BASE_URL"), username=EnvVar("RACING_API_USERNAME"),
                                    password=EnvVar("RACING_API_PASSWORD"), requests_per_second=1000),
})
defs = Definitions(assets=_project.assets, asset_checks=_project.asset_checks, resources=_project.resources,
                   executor=in_process_executor)
