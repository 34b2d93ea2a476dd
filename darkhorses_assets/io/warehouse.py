"""WarehouseResource: explicit reads of stored assets, for an asset that must know its own earlier output.

Dagster cannot give an unpartitioned asset its own previous value as an input; an incremental asset (the
horse profiles, which must never re-fetch a horse) reads it through this resource instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl
from dagster import AssetKey, ConfigurableResource
from pydantic import Field

from darkhorses_assets.io.client import PostgresClient
from darkhorses_assets.io.io_manager import table_for
from darkhorses_assets.io.tables import MissingTableError


class WarehouseResource(ConfigurableResource):
    """Read access to the tables the IO manager writes (same asset key → table mapping)."""

    database_url: str = Field(
        description="libpq URL of the warehouse database, e.g. EnvVar('DARKHORSES_DATABASE_URL')."
    )

    def read_asset(self, key: AssetKey, columns: Sequence[str] | None = None) -> pl.DataFrame | None:
        """The stored table of asset `key` (only `columns` if given), or None when it was never materialized."""
        try:
            return PostgresClient(self.database_url).read_frame(table_for(key, {}), columns)
        except MissingTableError:
            return None
