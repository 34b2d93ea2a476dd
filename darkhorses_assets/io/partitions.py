"""Which rows of a table a partition (or partition range) owns: SQL filters and the frame-side check."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time

import polars as pl
from psycopg import sql

from darkhorses_assets.io.types import TIMESTAMP, TIMESTAMPTZ, canonical_pg_type


@dataclass(frozen=True)
class PartitionSlice:
    """Rows whose `column` lies in the time window [start, end), or equals one of `keys` (static partitions).

    `start`/`end` are timezone-aware (as Dagster's TimeWindow gives them). For a `date` column they are
    compared as the partition timezone's calendar dates, for `timestamp` as wall-clock times, and for
    `timestamptz` as instants.
    """

    column: str
    label: str
    start: datetime | None = None
    end: datetime | None = None
    keys: tuple[str, ...] | None = None

    @property
    def is_time_window(self) -> bool:
        return self.keys is None

    def where(self, pg_type: str) -> tuple[sql.Composed, tuple]:
        """SQL condition + parameters selecting this slice from a column of Postgres type `pg_type`."""
        column = sql.Identifier(self.column)
        if not self.is_time_window:
            return sql.SQL("{}::text = ANY(%s)").format(column), (list(self.keys or ()),)
        start, end = self._bounds(canonical_pg_type(pg_type))
        return sql.SQL("{} >= %s AND {} < %s").format(column, column), (start, end)

    def _bounds(self, pg_type: str) -> tuple:
        assert self.start is not None and self.end is not None
        if pg_type == "date":
            if any(bound.time() != time(0) for bound in (self.start, self.end)):
                raise ValueError(
                    f"partition column {self.column!r} is a date but the partition window {self.label} does "
                    "not start and end at midnight; partition on a timestamp column instead"
                )
            return self.start.date(), self.end.date()
        if pg_type == TIMESTAMPTZ:
            return self.start, self.end
        if pg_type == TIMESTAMP:
            return self.start.replace(tzinfo=None), self.end.replace(tzinfo=None)
        raise ValueError(
            f"partition column {self.column!r} has type {pg_type}; time-window partitions need a date, "
            "timestamp or timestamptz column"
        )

    def rows_outside(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The frame's rows this slice does not own (null partition values included)."""
        if self.column not in frame.columns:
            raise ValueError(
                f"partition_expr column {self.column!r} is not in the frame (columns: {frame.columns}); "
                "add it or fix the asset's `partition_expr` metadata"
            )
        values = pl.col(self.column)
        if not self.is_time_window:
            inside = values.cast(pl.Utf8).is_in(list(self.keys or ()))
        else:
            inside = self._frame_inside(values, frame.schema[self.column])
        return frame.filter(inside.not_() | values.is_null())

    def _frame_inside(self, values: pl.Expr, dtype: pl.DataType) -> pl.Expr:
        if dtype == pl.Date:
            start, end = self._bounds("date")
            return (values >= start) & (values < end)
        if isinstance(dtype, pl.Datetime) and dtype.time_zone:
            start, end = (bound.astimezone(UTC).replace(tzinfo=None) for bound in (self.start, self.end))
            utc = values.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
            return (utc >= start) & (utc < end)
        if isinstance(dtype, pl.Datetime):
            start, end = self._bounds(TIMESTAMP)
            return (values >= start) & (values < end)
        raise ValueError(
            f"partition column {self.column!r} has polars type {dtype}; time-window partitions need a "
            "pl.Date or pl.Datetime column"
        )

    def check_frame(self, frame: pl.DataFrame, table: str) -> None:
        """Refuse to write rows that belong to another partition: they would never be replaced by a rerun."""
        outside = self.rows_outside(frame)
        if outside.height:
            examples = outside[self.column].unique(maintain_order=True).head(5).to_list()
            raise ValueError(
                f"{outside.height} row(s) for {table} have {self.column} outside the run's partition(s) "
                f"{self.label} (e.g. {', '.join(map(str, examples))}); filter the frame to the partition "
                "window (context.partition_time_window) or fix the partition column"
            )


def time_window_slice(column: str, start: datetime, end: datetime, keys: Sequence[str]) -> PartitionSlice:
    return PartitionSlice(column=column, label=partition_label(keys), start=start, end=end)


def keys_slice(column: str, keys: Sequence[str]) -> PartitionSlice:
    return PartitionSlice(column=column, label=partition_label(keys), keys=tuple(keys))


def partition_label(keys: Sequence[str]) -> str:
    """`2024-01-01` for one partition, `2024-01-01..2024-01-31` for a range."""
    if not keys:
        return "(no partitions)"
    return keys[0] if len(keys) == 1 else f"{keys[0]}..{keys[-1]}"
