"""Dimension tables (horses, jockeys, trainers, owners, sires, dams, damsires) from clean runners + results.

Each entity keeps its latest non-null attributes (by race date) and when it was first and last seen. Sire,
dam and damsire ids share the number of a horse id: `hrs_<n>` is the ancestor's own horse id. A non-runner's
jockey did not ride (the card names it "NON-RUNNER"), so non-runners are no jockey appearance.
"""

from __future__ import annotations

import polars as pl

from darkhorses_assets.transforms._frames import Schema, select_schema
from darkhorses_assets.transforms.racecards import RUNNERS_SCHEMA
from darkhorses_assets.transforms.results import RESULTS_SCHEMA

ENTITY_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "horse": ("horse_name", "horse_country", "sex_code", "dob", "colour", "breeder",
              "sire_id", "dam_id", "damsire_id"),
    "jockey": ("jockey_name",),
    "trainer": ("trainer_name", "trainer_location"),
    "owner": ("owner_name",),
    "sire": ("sire_name", "sire_country"),
    "dam": ("dam_name", "dam_country"),
    "damsire": ("damsire_name", "damsire_country"),
}
ANCESTORS = ("sire", "dam", "damsire")
DIMENSIONS: dict[str, str] = {"horse": "horses", "jockey": "jockeys", "trainer": "trainers", "owner": "owners",
                              "sire": "sires", "dam": "dams", "damsire": "damsires"}
"""Clean table of each entity's dimension."""
INPUT_COLUMNS = frozenset(
    {c for entity, attributes in ENTITY_ATTRIBUTES.items() for c in (f"{entity}_id", *attributes)}
    | {"race_id", "race_date", "is_non_runner"}
)
"""Every column `entity_dimension` reads of runners and results (load only these)."""
_SOURCE_DTYPES: Schema = {**RESULTS_SCHEMA, **RUNNERS_SCHEMA}
"""Dtype of every column the dimensions read; where runners and results share a column, runners' dtype."""


def _dimension_schema(entity: str) -> Schema:
    """`<entity>_id`, its attributes (dtypes of the clean tables), first/last seen, appearances; ancestors
    also carry their own `horse_id`."""
    id_column = f"{entity}_id"
    return {
        id_column: _SOURCE_DTYPES[id_column],
        **{attribute: _SOURCE_DTYPES[attribute] for attribute in ENTITY_ATTRIBUTES[entity]},
        "first_seen": pl.Date,
        "last_seen": pl.Date,
        "appearances": pl.Int32,
        **({"horse_id": pl.String} if entity in ANCESTORS else {}),
    }


HORSES_SCHEMA: Schema = _dimension_schema("horse")
"""Dimension `horses`, one row per runner horse id."""
JOCKEYS_SCHEMA: Schema = _dimension_schema("jockey")
TRAINERS_SCHEMA: Schema = _dimension_schema("trainer")
OWNERS_SCHEMA: Schema = _dimension_schema("owner")
SIRES_SCHEMA: Schema = _dimension_schema("sire")
"""Dimension `sires`; `horse_id` is `hrs_` + the number of `sire_id` (null when the id has no number)."""
DAMS_SCHEMA: Schema = _dimension_schema("dam")
DAMSIRES_SCHEMA: Schema = _dimension_schema("damsire")
DIMENSION_SCHEMAS: dict[str, Schema] = {
    "horse": HORSES_SCHEMA,
    "jockey": JOCKEYS_SCHEMA,
    "trainer": TRAINERS_SCHEMA,
    "owner": OWNERS_SCHEMA,
    "sire": SIRES_SCHEMA,
    "dam": DAMS_SCHEMA,
    "damsire": DAMSIRES_SCHEMA,
}
"""The exact output of `entity_dimension(..., entity)`, by entity."""


def _appearances(runners: pl.DataFrame, results: pl.DataFrame, entity: str) -> pl.DataFrame:
    """One row per runner or result naming the entity: its id, race date and attributes (null if absent)."""
    names = (f"{entity}_id", "race_id", "race_date", *ENTITY_ATTRIBUTES[entity])
    columns = {name: _SOURCE_DTYPES[name] for name in names}

    def typed(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.select(
            (pl.col(name) if name in frame.columns else pl.lit(None)).cast(dtype).alias(name)
            for name, dtype in columns.items()
        )

    if entity == "jockey" and "is_non_runner" in runners.columns:
        runners = runners.filter(pl.col("is_non_runner").fill_null(False).not_())
    return pl.concat([typed(runners), typed(results)]).drop_nulls(f"{entity}_id")


def entity_dimension(runners: pl.DataFrame, results: pl.DataFrame, entity: str) -> pl.DataFrame:
    """One row per `<entity>_id` (`DIMENSION_SCHEMAS[entity]`): latest non-null attributes, first/last seen
    race date, appearances (distinct races: a runner and its result are one appearance)."""
    id_column = f"{entity}_id"
    seen = _appearances(runners, results, entity).sort("race_date", maintain_order=True)
    dimension = seen.group_by(id_column).agg(
        *[pl.col(attribute).drop_nulls().last() for attribute in ENTITY_ATTRIBUTES[entity]],
        pl.col("race_date").min().alias("first_seen"),
        pl.col("race_date").max().alias("last_seen"),
        pl.col("race_id").n_unique().alias("appearances"),
    ).sort(id_column)
    schema = DIMENSION_SCHEMAS[entity]
    expressions = {name: pl.col(name) for name in schema}
    if entity in ANCESTORS:
        expressions["horse_id"] = pl.concat_str(pl.lit("hrs_"), pl.col(id_column).str.extract(r"_(\d+)$"))
    return select_schema(dimension, expressions, schema)
