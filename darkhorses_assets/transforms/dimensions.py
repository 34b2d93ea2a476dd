"""Dimension tables (horses, jockeys, trainers, owners, sires, dams, damsires) from clean runners + results.

Each entity keeps its latest non-null attributes (by race date) and when it was first and last seen. Sire,
dam and damsire ids share the number of a horse id: `hrs_<n>` is the ancestor's own horse id.
"""

from __future__ import annotations

import polars as pl

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


def _appearances(runners: pl.DataFrame, results: pl.DataFrame, entity: str) -> pl.DataFrame:
    id_column = f"{entity}_id"
    columns = [id_column, "race_date", *ENTITY_ATTRIBUTES[entity]]
    frames = [
        frame.select([pl.col(c) if c in frame.columns else pl.lit(None).alias(c) for c in columns])
        for frame in (runners, results)
        if id_column in frame.columns
    ]
    schema = {**runners.select([c for c in columns if c in runners.columns]).schema}
    return pl.concat([f.cast({c: t for c, t in schema.items() if c in f.columns}) for f in frames],
                     how="vertical_relaxed").drop_nulls(id_column)


def entity_dimension(runners: pl.DataFrame, results: pl.DataFrame, entity: str) -> pl.DataFrame:
    """One row per `<entity>_id`: latest non-null attributes, first/last seen race date, appearances."""
    id_column = f"{entity}_id"
    seen = _appearances(runners, results, entity).sort("race_date")
    dimension = seen.group_by(id_column).agg(
        *[pl.col(attribute).drop_nulls().last().alias(attribute) for attribute in ENTITY_ATTRIBUTES[entity]],
        pl.col("race_date").min().alias("first_seen"),
        pl.col("race_date").max().alias("last_seen"),
        pl.len().cast(pl.Int32).alias("appearances"),
    ).sort(id_column)
    if entity in ANCESTORS:
        dimension = dimension.with_columns(
            pl.concat_str(pl.lit("hrs_"), pl.col(id_column).str.extract(r"_(\d+)$")).alias("horse_id")
        )
    return dimension
