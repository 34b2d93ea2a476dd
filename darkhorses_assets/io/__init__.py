"""Postgres storage of polars frames: the Dagster IO manager and the client it is built on."""

from darkhorses_assets.io.client import PostgresClient, WriteResult, redact_url
from darkhorses_assets.io.io_manager import PostgresPolarsIOManager, partition_slice, table_for
from darkhorses_assets.io.partitions import PartitionSlice, keys_slice, time_window_slice
from darkhorses_assets.io.tables import MissingTableError, SchemaDriftError, TableRef

__all__ = [
    "MissingTableError",
    "PartitionSlice",
    "PostgresClient",
    "PostgresPolarsIOManager",
    "SchemaDriftError",
    "TableRef",
    "WriteResult",
    "keys_slice",
    "partition_slice",
    "redact_url",
    "table_for",
    "time_window_slice",
]
