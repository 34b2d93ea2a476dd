"""PostgresPolarsIOManager: Dagster wiring of PostgresClient for polars frames.

Asset key → table: the last key component is the table, the first is the schema (`raw`, `clean`,
`features`; `public` for a bare key); asset metadata `schema` overrides it.

Metadata it reads:
- asset `partition_expr`: the date/timestamp column a time-window partition (or the text value of a static
  partition) lives in. Required for partitioned assets.
- asset `column_types`: `{column: postgres type}` overrides, e.g. `{"payload": "jsonb"}`.
- asset `schema`: Postgres schema override.
- asset `upsert_key`: for an unpartitioned asset, a write replaces only the rows whose `upsert_key` value is in
  the frame (an upsert) instead of the whole table; for tables that grow by increments, like horse profiles.
- input `columns`: load only these columns.
- input `schema_if_missing`: `{column: polars type name}`; when the upstream table was never created, the input
  is an empty frame of that schema instead of an error (an optional input, e.g. results of a day ahead).

Why not dagster's DbIOManager: it deletes the slice before the type handler runs, outside any table lock,
derives the schema from the last key-prefix component and builds WHERE clauses as text. Here one client
call does lock → DDL/drift check → delete → COPY in a single transaction.

A database error no retry can help (malformed DARKHORSES_DATABASE_URL, refused credentials) is raised as
`Failure(allow_retries=False)`, so an asset's RetryPolicy does not re-run it; see `darkhorses_assets.fail_fast`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl
from dagster import (
    AssetKey,
    ConfigurableIOManager,
    DagsterInvariantViolationError,
    InputContext,
    MetadataValue,
    MultiPartitionsDefinition,
    OutputContext,
    TableColumn,
    TableSchema,
    TimeWindowPartitionsDefinition,
)
from dagster._core.definitions.metadata.metadata_set import TableMetadataSet
from pydantic import Field

from darkhorses_assets.fail_fast import fail_fast
from darkhorses_assets.io.client import PostgresClient, WriteResult
from darkhorses_assets.io.partitions import PartitionSlice, keys_slice, time_window_slice
from darkhorses_assets.io.preview import markdown_preview
from darkhorses_assets.io.tables import MissingTableError, TableRef

PARTITION_EXPR = "partition_expr"
COLUMN_TYPES = "column_types"
SCHEMA = "schema"
COLUMNS = "columns"
SCHEMA_IF_MISSING = "schema_if_missing"
UPSERT_KEY = "upsert_key"
DEFAULT_SCHEMA = "public"
COLUMN_SCHEMA = "dagster/column_schema"
ROW_COUNT = "dagster/row_count"
PER_WRITE = (ROW_COUNT, "replaced_rows", COLUMN_SCHEMA, "preview")
"""Metadata of a range write that is stated once (on its last partition), not per partition."""


class PostgresPolarsIOManager(ConfigurableIOManager):
    """Stores each asset as a Postgres table; partitioned assets replace exactly their partitions' rows.

    Writes are atomic (one transaction under a per-table advisory lock); loads read a whole table, one
    partition or a partition range, optionally only some columns.
    """

    database_url: str = Field(
        description="libpq URL of the warehouse database, e.g. EnvVar('DARKHORSES_DATABASE_URL'). "
        "Never logged with its password."
    )

    def _client(self, context: OutputContext | InputContext) -> PostgresClient:
        return PostgresClient(self.database_url, log=context.log)

    def handle_output(self, context: OutputContext, obj: pl.DataFrame | pl.LazyFrame) -> None:
        frame = _as_frame(obj, context)
        metadata = context.definition_metadata or {}
        table = table_for(_asset_key(context), metadata)
        partition = partition_slice(context, metadata)
        upsert = upsert_slice(context, frame, metadata) if partition is None else None
        with fail_fast():
            result = self._client(context).write_frame(table, frame, partition or upsert,
                                                       metadata.get(COLUMN_TYPES))
        where = f" for partition(s) {partition.label}" if partition else f" for {upsert.label}" if upsert else ""
        context.log.info(
            f"wrote {result.rows} rows to {table}{where} (replacing {result.replaced_rows}) "
            f"in {result.seconds:.1f}s"
        )
        write_metadata = metadata_of_write(result, frame, metadata.get(COLUMN_SCHEMA),
                                           partition.label if partition else None)
        if upsert is not None:
            del write_metadata[ROW_COUNT]
            write_metadata["upserted_rows"] = MetadataValue.int(result.rows)
        _add_write_metadata(context, write_metadata)

    def load_input(self, context: InputContext) -> pl.DataFrame | pl.LazyFrame:
        upstream = context.upstream_output
        metadata = (upstream.definition_metadata if upstream else None) or {}
        key = _asset_key(context)
        table = table_for(key, metadata)
        partition = partition_slice(context, metadata)
        columns = (context.definition_metadata or {}).get(COLUMNS)
        if_missing = (context.definition_metadata or {}).get(SCHEMA_IF_MISSING)
        try:
            with fail_fast():
                frame = self._client(context).read_frame(table, columns, partition)
        except MissingTableError:
            if if_missing is not None:
                context.log.info(f"table {table} does not exist yet: reading it as empty")
                return pl.DataFrame(schema={name: getattr(pl, dtype) for name, dtype in if_missing.items()})
            which = f" (partition(s) {partition.label})" if partition else ""
            raise MissingTableError(
                f"table {table} does not exist: materialize the upstream asset {key.to_user_string()}{which} "
                "before running this one"
            ) from None
        where = f" for partition(s) {partition.label}" if partition else ""
        context.log.info(f"loaded {frame.height} rows from {table}{where}")
        if context.dagster_type.typing_type is pl.LazyFrame:
            return frame.lazy()
        return frame


def metadata_of_write(result: WriteResult, preview: pl.DataFrame, declared_schema: object,
                      partitions: str | None) -> dict[str, Any]:
    """What a materialization says of its write: rows, table, rows replaced, the column schema (described as
    declared), a preview of `preview`'s first rows and the partition range."""
    metadata: dict[str, Any] = {
        ROW_COUNT: MetadataValue.int(result.rows),
        "table": MetadataValue.text(str(result.table)),
        "replaced_rows": MetadataValue.int(result.replaced_rows),
        COLUMN_SCHEMA: MetadataValue.table_schema(_described_schema(result.specs, declared_schema)),
        "preview": MetadataValue.md(markdown_preview(preview)),
        **dict(TableMetadataSet(table_name=str(result.table), storage_kind="postgres")),
    }
    if partitions is not None:
        metadata["partitions"] = MetadataValue.text(partitions)
    return metadata


def split_write_metadata(metadata: Mapping[str, Any], *, ranged: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """(every partition's, the last partition's only) — for a range; a single write's all go on its one event.
    See `_add_write_metadata`."""
    if not ranged:
        return dict(metadata), {}
    return ({name: value for name, value in metadata.items() if name not in PER_WRITE},
            {name: metadata[name] for name in PER_WRITE if name in metadata})


def _add_write_metadata(context: OutputContext, metadata: dict[str, Any]) -> None:
    """Attach the write's metadata without copying it onto every partition of a range.

    Dagster gives each partition of a multi-partition output its own materialization event, each with a copy
    of the output metadata: for a 10-year range of a 130-column table that is thousands of copies of the
    column schema and preview. Here every partition gets the table and the range; the row count, schema and
    preview go once, on the last partition, whose event the UI shows as the asset's latest. The row count is
    the write's: all rows of the range (`partitions` names it), one honest number per materialization rather
    than the last day's rows beside the range's. (Per-partition row counts would cost one
    `add_asset_metadata` call per partition, each copying Dagster's metadata accumulator: quadratic in the
    range length.)
    """
    keys = list(context.asset_partition_keys) if context.has_asset_partitions else []
    step_context = _step_context(context) if len(keys) > 1 else None
    every_partition, per_write = split_write_metadata(metadata, ranged=step_context is not None)
    context.add_output_metadata(every_partition)
    if per_write:
        step_context.add_asset_metadata(per_write, asset_key=_asset_key(context), partition_key=keys[-1])


def _described_schema(specs: list, declared: object) -> TableSchema:
    """The written columns with their Postgres types, described as in the asset's declared column schema
    (`dagster/column_schema` definition metadata, see `darkhorses_assets.column_schemas`): the schema of a
    materialization replaces the declared one in the UI, so it keeps its descriptions and constraints."""
    declared_schema = getattr(declared, "schema", declared)
    known = {column.name: column for column in getattr(declared_schema, "columns", None) or []}
    return TableSchema(columns=[
        TableColumn(spec.name, spec.pg_type, description=known[spec.name].description,
                    constraints=known[spec.name].constraints)
        if spec.name in known else TableColumn(spec.name, spec.pg_type)
        for spec in specs
    ])


def _step_context(context: OutputContext):
    """The running step's context (None for an OutputContext built outside a run, e.g. in unit tests)."""
    try:
        return context.step_context
    except DagsterInvariantViolationError:
        return None


def table_for(key: AssetKey, metadata: Mapping[str, Any]) -> TableRef:
    """`clean/runners` → clean.runners; `runners` → public.runners; metadata `schema` wins."""
    path = key.path
    schema = metadata.get(SCHEMA) or (path[0] if len(path) > 1 else DEFAULT_SCHEMA)
    return TableRef(schema=str(schema), name=path[-1])


def partition_slice(
    context: OutputContext | InputContext, metadata: Mapping[str, Any]
) -> PartitionSlice | None:
    """The rows the run's partition(s) own, or None for an unpartitioned asset (the whole table)."""
    if not context.has_asset_partitions:
        return None
    key = _asset_key(context).to_user_string()
    column = metadata.get(PARTITION_EXPR)
    if not isinstance(column, str) or not column:
        raise ValueError(
            f"asset {key} is partitioned but has no `partition_expr` metadata naming its partition column; "
            'add e.g. @asset(metadata={"partition_expr": "race_date"})'
        )
    partitions_def = context.asset_partitions_def
    if isinstance(partitions_def, MultiPartitionsDefinition):
        raise NotImplementedError(
            f"asset {key}: PostgresPolarsIOManager does not store multi-dimensional partitions; "
            "use a daily (time-window) or static partitions definition"
        )
    keys = list(context.asset_partition_keys)
    if isinstance(partitions_def, TimeWindowPartitionsDefinition) and keys:
        window = context.asset_partitions_time_window
        return time_window_slice(column, window.start, window.end, keys)
    return keys_slice(column, keys)


def upsert_slice(
    context: OutputContext, frame: pl.DataFrame, metadata: Mapping[str, Any]
) -> PartitionSlice | None:
    """The rows an `upsert_key` write replaces: those whose key value is in the frame."""
    column = metadata.get(UPSERT_KEY)
    if column is None:
        return None
    if column not in frame.columns:
        raise ValueError(
            f"asset {_asset_key(context).to_user_string()} has upsert_key {column!r} but its frame has no such "
            f"column (columns: {frame.columns}); fix the `upsert_key` metadata"
        )
    if frame[column].null_count():
        raise ValueError(
            f"{frame[column].null_count()} row(s) of asset {_asset_key(context).to_user_string()} have a null "
            f"{column}: an upsert needs every row's key"
        )
    keys = frame[column].cast(pl.Utf8).unique(maintain_order=True).to_list()
    return PartitionSlice(column=column, label=f"{len(keys)} {column} value(s)", keys=tuple(keys))


def _asset_key(context: OutputContext | InputContext) -> AssetKey:
    if not context.has_asset_key:
        raise TypeError("PostgresPolarsIOManager stores asset outputs only; give this op output an asset key")
    return context.asset_key


def _as_frame(obj: object, context: OutputContext) -> pl.DataFrame:
    if isinstance(obj, pl.LazyFrame):
        return obj.collect()
    if isinstance(obj, pl.DataFrame):
        return obj
    raise TypeError(
        f"asset {_asset_key(context).to_user_string()} returned {type(obj).__name__}; "
        "PostgresPolarsIOManager stores polars DataFrames (or LazyFrames) only"
    )
