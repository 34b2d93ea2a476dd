"""Polars ⇄ Postgres column types.

Three jobs: the Postgres type each frame column gets (`column_specs`), the CSV-ready frame that COPY
sends (`to_wire_frame`), and how each Postgres type is selected and parsed back into polars (`read_spec`).
Postgres type names are kept in `format_type()` spelling (e.g. `timestamp with time zone`) so a table's
catalogue types compare directly with what a frame would create.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl
from psycopg import sql

MAX_IDENTIFIER_BYTES = 63
"""Postgres silently truncates longer identifiers, which would break drift checks and reads."""

_ALIASES = {
    "int": "integer",
    "int4": "integer",
    "int2": "smallint",
    "int8": "bigint",
    "serial": "integer",
    "bigserial": "bigint",
    "float": "double precision",
    "float8": "double precision",
    "float4": "real",
    "bool": "boolean",
    "decimal": "numeric",
    "varchar": "character varying",
    "char": "character",
    "timestamp": "timestamp without time zone",
    "timestamptz": "timestamp with time zone",
    "time": "time without time zone",
    "timetz": "time with time zone",
}

TIMESTAMPTZ = "timestamp with time zone"
TIMESTAMP = "timestamp without time zone"
_TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S%.f"
_TYPE_NAME = re.compile(r"[a-z][a-z0-9_ ]*(\(\d+(,\d+)?\))?(\[\])?")
"""What a `column_types` entry may look like: type names go into DDL text, so nothing else gets through."""


@dataclass(frozen=True)
class ColumnSpec:
    """A frame column and the Postgres type it is stored as."""

    name: str
    pg_type: str
    dtype: pl.DataType

    @property
    def accepts_any_type(self) -> bool:
        """An all-null column of unknown type fits whatever type the table already has."""
        return self.dtype == pl.Null


def canonical_pg_type(name: str) -> str:
    """`timestamptz` → `timestamp with time zone`, `varchar(20)` → `character varying(20)`, etc."""
    text = re.sub(r"\s+", " ", name.strip().lower())
    text = re.sub(r"\s*\(\s*", "(", text)
    text = re.sub(r"\s*,\s*", ",", text)
    text = re.sub(r"\s*\)", ")", text)
    base, paren, rest = text.partition("(")
    base = _ALIASES.get(base.strip(), base.strip())
    return f"{base}{paren}{rest}"


def pg_type_for(name: str, dtype: pl.DataType) -> str:
    """The Postgres type a polars column is stored as; raises for types Postgres can't hold."""
    if dtype in (pl.Utf8, pl.Categorical, pl.Null) or isinstance(dtype, pl.Enum | pl.Categorical):
        return "text"
    if dtype in (pl.Int8, pl.Int16, pl.UInt8):
        return "smallint"
    if dtype in (pl.Int32, pl.UInt16):
        return "integer"
    if dtype in (pl.Int64, pl.UInt32, pl.UInt64):
        return "bigint"
    if dtype in (pl.Int128,) or _is_unsigned_128(dtype):
        return "numeric"
    if dtype.is_float():
        return "double precision"
    if dtype == pl.Boolean:
        return "boolean"
    if dtype == pl.Date:
        return "date"
    if isinstance(dtype, pl.Datetime):
        return TIMESTAMPTZ if dtype.time_zone else TIMESTAMP
    if isinstance(dtype, pl.Duration):
        return "interval"
    if dtype == pl.Time:
        return "time without time zone"
    if isinstance(dtype, pl.Decimal):
        return f"numeric({dtype.precision},{dtype.scale})" if dtype.precision else "numeric"
    if dtype == pl.Binary:
        return "bytea"
    if isinstance(dtype, pl.List | pl.Array | pl.Struct):
        return "jsonb"
    raise TypeError(
        f"column {name!r} has polars type {dtype}, which has no Postgres equivalent: cast it "
        "(e.g. to pl.Utf8) before returning the frame, or set a `column_types` metadata entry for it"
    )


def _is_unsigned_128(dtype: pl.DataType) -> bool:
    return getattr(pl, "UInt128", None) is not None and dtype == pl.UInt128


def column_specs(
    schema: Mapping[str, pl.DataType], overrides: Mapping[str, str] | None = None
) -> list[ColumnSpec]:
    """The Postgres columns for a frame schema; `overrides` (e.g. `{"payload": "jsonb"}`) win."""
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(schema))
    if unknown:
        raise ValueError(
            f"column_types names column(s) {unknown} that the frame does not have (frame columns: "
            f"{list(schema)}); fix the asset's `column_types` metadata"
        )
    specs = []
    for name, dtype in schema.items():
        check_identifier(name, "column")
        pg_type = _override_type(name, overrides[name]) if name in overrides else pg_type_for(name, dtype)
        specs.append(ColumnSpec(name, pg_type, dtype))
    return specs


def _override_type(column: str, pg_type: str) -> str:
    canonical = canonical_pg_type(pg_type)
    if not _TYPE_NAME.fullmatch(canonical):
        raise ValueError(
            f"column_types[{column!r}] = {pg_type!r} is not a plain Postgres type name (e.g. 'jsonb', "
            "'numeric(12,2)', 'text[]'); fix the asset's `column_types` metadata"
        )
    return canonical


def check_identifier(name: str, kind: str) -> None:
    if not name or len(name.encode()) > MAX_IDENTIFIER_BYTES or "\x00" in name:
        raise ValueError(
            f"{kind} name {name!r} is not a valid Postgres identifier "
            f"(1–{MAX_IDENTIFIER_BYTES} bytes, no NUL); rename it"
        )


def to_wire_frame(frame: pl.DataFrame, specs: list[ColumnSpec]) -> pl.DataFrame:
    """The frame with every column in a form polars writes as CSV that Postgres parses as the column type.

    Columns that need no conversion are the frame's own Series, shared: `DataFrame.select` would copy every
    column of a frame built from many chunks (a 1 GB features frame: +1 GB at its peak)."""
    exprs = {spec.name: _wire_expr(spec) for spec in specs}
    converted = frame.select([expr for expr in exprs.values() if not expr.meta.is_column()])
    return pl.DataFrame([converted.get_column(name) if name in converted.columns else frame.get_column(name)
                         for name in exprs])


def _wire_expr(spec: ColumnSpec) -> pl.Expr:
    column, dtype = pl.col(spec.name), spec.dtype
    if isinstance(dtype, pl.Struct):
        encoded = column.struct.json_encode()
    elif isinstance(dtype, pl.List | pl.Array):
        wrapped = pl.struct(column.alias("v")).struct.json_encode()
        encoded = wrapped.str.strip_prefix('{"v":').str.strip_suffix("}")
    elif isinstance(dtype, pl.Duration):
        encoded = pl.format("{} microseconds", column.dt.total_microseconds())
    elif dtype == pl.Binary:
        encoded = pl.concat_str(pl.lit("\\x"), column.bin.encode("hex"))
    elif dtype == pl.Null or isinstance(dtype, pl.Enum | pl.Categorical):
        encoded = column.cast(pl.Utf8)
    else:
        return column
    return pl.when(column.is_null()).then(None).otherwise(encoded).alias(spec.name)


@dataclass(frozen=True)
class ReadSpec:
    """How one table column is selected for `COPY ... TO STDOUT (FORMAT csv)` and turned back into polars."""

    name: str
    select: sql.Composable
    csv_dtype: pl.DataType
    finish: pl.Expr


def read_spec(name: str, pg_type: str) -> ReadSpec:
    column = sql.Identifier(name)
    base, _, typmod = canonical_pg_type(pg_type).partition("(")
    col = pl.col(name)

    def plain(dtype: pl.DataType, finish: pl.Expr | None = None, select: sql.Composable = column) -> ReadSpec:
        return ReadSpec(name, select, dtype, (col if finish is None else finish).alias(name))

    numeric_types = {"smallint": pl.Int16, "integer": pl.Int32, "bigint": pl.Int64,
                     "real": pl.Float32, "double precision": pl.Float64}
    if base in numeric_types:
        return plain(numeric_types[base])
    if base == "boolean":
        return plain(pl.Utf8, col == "t")
    if base == "date":
        return plain(pl.Utf8, col.str.to_date("%Y-%m-%d"))
    if base == TIMESTAMPTZ:
        return plain(pl.Utf8, col.str.to_datetime(f"{_TIMESTAMP_FORMAT}%#z", time_unit="us", time_zone="UTC"))
    if base == TIMESTAMP:
        return plain(pl.Utf8, col.str.to_datetime(_TIMESTAMP_FORMAT, time_unit="us"))
    if base == "time without time zone":
        return plain(pl.Utf8, col.str.to_time("%H:%M:%S%.f"))
    if base == "interval":
        micros = sql.SQL("(EXTRACT(EPOCH FROM {}) * 1000000)::bigint").format(column)
        return plain(pl.Int64, col.cast(pl.Duration("us")), micros)
    if base == "numeric":
        precision, _, scale = typmod.rstrip(")").partition(",")
        if precision:
            return plain(pl.Utf8, col.cast(pl.Decimal(int(precision), int(scale or 0))))
        return plain(pl.Float64)
    if base == "bytea":
        return plain(pl.Utf8, col.str.slice(2).str.decode("hex"))
    return plain(pl.Utf8)
