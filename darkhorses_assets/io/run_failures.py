"""RunFailureStore: one row per failed Dagster run in `ops.run_failures`, written by the run-failure sensor.

The table is created on first use. A row is keyed by run id: recording the same run again updates its row
(and reports that it was already there) instead of adding a second one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

from dagster import ConfigurableResource
from psycopg import errors, sql
from pydantic import Field

from darkhorses_assets.io.client import PostgresClient
from darkhorses_assets.io.tables import TableRef, ensure_schema

RUN_FAILURES_TABLE = TableRef("ops", "run_failures")

_COLUMNS: tuple[tuple[str, str], ...] = (
    ("run_id", "text PRIMARY KEY"),
    ("job_name", "text NOT NULL"),
    ("partitions", "text"),
    ("step_key", "text"),
    ("failed_steps", "text[] NOT NULL DEFAULT '{}'"),
    ("error_class", "text"),
    ("error", "text NOT NULL"),
    ("kind", "text NOT NULL"),
    ("hint", "text NOT NULL"),
    ("failed_at", "timestamptz NOT NULL"),
    ("recorded_at", "timestamptz NOT NULL DEFAULT now()"),
)
"""Column name → DDL. `recorded_at` is when the row was first written; every other column comes from a RunFailure."""


@dataclass(frozen=True)
class RunFailure:
    """What went wrong in one failed run, already redacted: a row of `ops.run_failures` and the alert's JSON."""

    run_id: str
    job_name: str
    partitions: str | None
    """One partition key, `start..end` for a range run, or None for an unpartitioned run."""
    step_key: str | None
    """The first step that failed; None when the run failed outside any step (e.g. its process died)."""
    failed_steps: tuple[str, ...]
    error_class: str | None
    error: str
    kind: str
    """A short name of the failure's kind (`credentials`, `transient`, `database`, ...), for grouping."""
    hint: str
    failed_at: datetime

    def as_json(self) -> dict[str, Any]:
        """The record as JSON-ready values: `failed_steps` a list, `failed_at` an ISO 8601 string."""
        row = asdict(self)
        row["failed_steps"] = list(self.failed_steps)
        row["failed_at"] = self.failed_at.isoformat()
        return row


def run_failures_ddl() -> sql.Composed:
    """CREATE TABLE IF NOT EXISTS for `ops.run_failures`, every identifier quoted."""
    columns = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(ddl)) for name, ddl in _COLUMNS
    )
    return sql.SQL("CREATE TABLE IF NOT EXISTS {} ({})").format(RUN_FAILURES_TABLE.identifier, columns)


def _upsert() -> sql.Composed:
    names = [field.name for field in fields(RunFailure)]
    updates = [name for name in names if name != "run_id"]
    # xmax is 0 only for a row version this statement inserted; an ON CONFLICT update sets it.
    return sql.SQL(
        "INSERT INTO {table} ({columns}) VALUES ({values}) "
        "ON CONFLICT ({key}) DO UPDATE SET {updates} RETURNING (xmax = 0) AS inserted"
    ).format(
        table=RUN_FAILURES_TABLE.identifier,
        columns=sql.SQL(", ").join(map(sql.Identifier, names)),
        values=sql.SQL(", ").join(sql.Placeholder(name) for name in names),
        key=sql.Identifier("run_id"),
        updates=sql.SQL(", ").join(
            sql.SQL("{} = EXCLUDED.{}").format(sql.Identifier(name), sql.Identifier(name)) for name in updates
        ),
    )


class RunFailureStore(ConfigurableResource):
    """Writes failed runs to `ops.run_failures` in the warehouse database (creating the table if missing)."""

    database_url: str = Field(
        description="libpq URL of the database holding ops.run_failures, e.g. EnvVar('DARKHORSES_DATABASE_URL')."
    )

    def record(self, failure: RunFailure) -> bool:
        """Insert (or, for a run already recorded, update) the failure's row; True when the row is new."""
        params = asdict(failure)
        params["failed_steps"] = list(failure.failed_steps)
        with PostgresClient(self.database_url).connect() as conn:
            ensure_schema(conn, RUN_FAILURES_TABLE.schema)
            try:
                with conn.transaction():
                    conn.execute(run_failures_ddl())
            except errors.UniqueViolation:
                pass  # a concurrent writer created the table between our check and CREATE
            with conn.transaction():
                return bool(conn.execute(_upsert(), params).fetchone()[0])
