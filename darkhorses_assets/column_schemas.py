"""Column schemas with descriptions for every asset, as Dagster `dagster/column_schema` definition metadata.

One helper, `with_column_schemas`, applied where each assets module builds its asset list: it looks every
asset's table up by the last part of its key and attaches a `TableSchema` whose columns, Postgres types,
nullability and descriptions come from

* the pandera model of the table (`schemas.TABLES`: every clean and dimension table) — the field's
  description (or title), else the shared column glossary `schemas.base.COLUMN_DESCRIPTIONS`;
* for the tables without a pandera model: the frame schema the code writes (`transforms.raw_rows`, the
  quarantine layout, and for features / statistics the output of the transform run on empty inputs), described
  by `schemas.features.describe_feature_column` and the glossary.

Everything is derived at import time, so a column added to a transform or a model shows up in the UI with no
edit here; a column nobody described is shown with an empty description (`undescribed_columns` lists them and
`test_definitions` fails on any).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from functools import cache

import pandera.polars as pa
import polars as pl
from dagster import (
    AssetKey,
    AssetsDefinition,
    AssetSpec,
    TableColumn,
    TableColumnConstraints,
    TableSchema,
)

from darkhorses_assets.io.types import column_specs
from darkhorses_assets.schemas import TABLES
from darkhorses_assets.schemas.base import COLUMN_DESCRIPTIONS
from darkhorses_assets.schemas.features import describe_feature_column

COLUMN_SCHEMA = "dagster/column_schema"
COLUMN_TYPES = "column_types"
Schema = Mapping[str, pl.DataType]


def _raw_schemas() -> dict[str, Schema]:
    from darkhorses_assets.schemas.validation import QUARANTINE_SCHEMA
    from darkhorses_assets.transforms.raw_rows import RAW_COURSE_SCHEMA, RAW_HORSE_PROFILE_SCHEMA, RAW_RACE_SCHEMA

    return {
        "raw_results": RAW_RACE_SCHEMA,
        "raw_racecards": RAW_RACE_SCHEMA,
        "raw_courses": RAW_COURSE_SCHEMA,
        "raw_horse_profiles": RAW_HORSE_PROFILE_SCHEMA,
        "quarantine": QUARANTINE_SCHEMA,
        "horse_profile_quarantine": QUARANTINE_SCHEMA,
    }


def _feature_schemas() -> dict[str, Schema]:
    """Output schemas of the feature and statistics transforms, computed on empty (typed) clean inputs."""
    from darkhorses_assets.transforms import features, market, speed, stats
    from darkhorses_assets.transforms.racecards import RUNNERS_SCHEMA
    from darkhorses_assets.transforms.races import RACES_SCHEMA
    from darkhorses_assets.transforms.results import RESULTS_SCHEMA

    races, runners, results = (pl.DataFrame(schema=dict(s)) for s in (RACES_SCHEMA, RUNNERS_SCHEMA, RESULTS_SCHEMA))
    day = dt.date(2024, 1, 1)
    entity_stats: dict[str, Callable] = {
        "jockey_stats": stats.jockey_stats, "trainer_stats": stats.trainer_stats, "owner_stats": stats.owner_stats,
        "horse_stats": stats.horse_stats, "sire_stats": stats.sire_stats, "dam_stats": stats.dam_stats,
        "damsire_stats": stats.damsire_stats,
    }
    return {
        "runner_features": features.runner_features(races, runners, results, feature_days=(day, day)).schema,
        "race_outcomes": features.race_outcomes(races, results, (day, day)).schema,
        "market_moves": market.MARKET_SCHEMA,
        "speed_figures": speed.SPEED_FIGURE_SCHEMA,
        "feature_signal": {"decile": pl.Int32(), "win_rate": pl.Float64(), "len": pl.UInt32(),
                           "feature": pl.Utf8()},
        **{name: compute(races, results, day).schema for name, compute in entity_stats.items()},
    }


@cache
def _frame_schemas() -> dict[str, Schema]:
    return {**_raw_schemas(), **_feature_schemas()}


def describe(table: str, column: str, model: type[pa.DataFrameModel] | None = None) -> str:
    """What `column` of `table` means: the pandera field's description or title, the feature tables' own
    descriptions, else the glossary; "" when nobody described it."""
    if model is not None:
        field = model.to_schema().columns.get(column)
        if field is not None and (field.description or field.title):
            return field.description or field.title
    return describe_feature_column(table, column) or COLUMN_DESCRIPTIONS.get(column) or ""


def table_schema(table: str, column_types: Mapping[str, str] | None = None) -> TableSchema | None:
    """The described column schema of `table` (an asset key's last part), or None for an unknown table."""
    if table in TABLES and not TABLES[table].derived:
        model = TABLES[table].hard
        columns = model.to_schema().columns
        schema = {name: column.dtype.type for name, column in columns.items()}
        nullable = {name: column.nullable for name, column in columns.items()}
        unique = set(TABLES[table].key) if len(TABLES[table].key) == 1 else set()
    elif table in _frame_schemas():
        model, schema, nullable, unique = None, _frame_schemas()[table], {}, set()
    else:
        return None
    types = {name: value for name, value in (column_types or {}).items() if name in schema}
    return TableSchema(columns=[
        TableColumn(
            name=spec.name,
            type=spec.pg_type,
            description=describe(table, spec.name, model) or None,
            constraints=TableColumnConstraints(nullable=nullable.get(spec.name, True), unique=spec.name in unique),
        )
        for spec in column_specs(schema, types)
    ])


def _with_schema(spec: AssetSpec) -> AssetSpec:
    if COLUMN_SCHEMA in spec.metadata:
        return spec
    schema = table_schema(spec.key.path[-1], spec.metadata.get(COLUMN_TYPES))
    return spec if schema is None else spec.merge_attributes(metadata={COLUMN_SCHEMA: schema})


def with_column_schemas(assets: Iterable[AssetsDefinition]) -> list[AssetsDefinition]:
    """`assets` with a described `dagster/column_schema` on every asset whose table is known here."""
    return [asset.map_asset_specs(_with_schema) for asset in assets]


def undescribed_columns(keys: Iterable[AssetKey]) -> dict[str, list[str]]:
    """Columns without a description per table of `keys` (empty when every column is described)."""
    missing = {}
    for key in keys:
        schema = table_schema(key.path[-1])
        blank = [column.name for column in (schema.columns if schema else []) if not column.description]
        if blank:
            missing[key.to_user_string()] = blank
    return missing
