"""Resources for asset tests: the IO manager on a real database and the API client on a live simulator."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from darkhorses_assets.io import PostgresPolarsIOManager
from darkhorses_assets.io.warehouse import WarehouseResource
from darkhorses_assets.racing_api.client import RacingApiResource
from darkhorses_assets.racing_api.simulator import SimulatorConfig, SimulatorServer


@contextmanager
def simulated_resources(database_url: str, today: date) -> Iterator[dict]:
    """A simulator with no rate limit (the limiter has its own tests) and the project's two resources."""
    config = SimulatorConfig(today=today, rate_limit_per_s=0)
    with SimulatorServer(config, host="127.0.0.1", port=0) as sim:
        yield {
            "io_manager": PostgresPolarsIOManager(database_url=database_url),
            "warehouse": WarehouseResource(database_url=database_url),
            "racing_api": RacingApiResource(base_url=sim.url, username=config.username,
                                            password=config.password, requests_per_second=1000),
        }
