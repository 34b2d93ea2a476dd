"""`/v1/horses/{id}/pro` payloads (OpenAPI `HorsePro`) -> the horse profiles frame.

`parse_horse_profiles(profiles)` takes parsed dicts or JSON text (a Series, or a frame with a `payload`
column). The OpenAPI schema names the horse `name`;
`horse` is accepted as well.
"""

from __future__ import annotations

import polars as pl

from darkhorses_assets.transforms import parsing as p
from darkhorses_assets.transforms._decode import PayloadSource, decode_flat
from darkhorses_assets.transforms._frames import Schema, select_schema
from darkhorses_assets.transforms.participants import (
    HORSE_SCHEMA,
    PEDIGREE_SCHEMA,
    horse_expressions,
    pedigree_expressions,
)

PROFILE_KEYS = (
    "id", "name", "horse", "dob", "sex", "sex_code", "colour", "colour_code", "breeder",
    "sire", "sire_id", "dam", "dam_id", "damsire", "damsire_id",
)  # fmt: skip

HORSE_PROFILES_SCHEMA: Schema = {
    "horse_id": pl.String,
    **HORSE_SCHEMA,
    "dob": pl.Date,
    "sex_code": pl.String,
    "colour": pl.String,
    "colour_code": pl.String,
    "breeder": pl.String,
    **PEDIGREE_SCHEMA,
}
"""One row per profile fetched (`horse_id` null when the payload had no `id`)."""


def _profile_expressions() -> dict[str, pl.Expr]:
    display_name = pl.coalesce(p.nullify_empty("name"), p.nullify_empty("horse"))
    return {
        "horse_id": p.nullify_empty("id"),
        **horse_expressions(display_name),
        "dob": p.to_date("dob"),
        "sex_code": pl.coalesce(p.sex_code("sex_code"), p.sex_code("sex")),
        "colour": p.nullify_empty("colour"),
        "colour_code": p.upper_text("colour_code"),
        "breeder": p.nullify_empty("breeder"),
        **pedigree_expressions(),
    }


def parse_horse_profiles(profiles: PayloadSource, include_raw: bool = False) -> pl.DataFrame:
    """HORSE_PROFILES_SCHEMA frame from profile dicts, a Series of JSON text, or a `payload` frame."""
    decoded = decode_flat(profiles, PROFILE_KEYS, include_raw)
    return select_schema(decoded, _profile_expressions(), HORSE_PROFILES_SCHEMA, include_raw)


def horses_to_profile(seen: pl.DataFrame, profiled: pl.Series) -> pl.Series:
    """The horse ids of `seen` (columns `horse_id`, `last_seen`) not in `profiled`, most recently seen first
    (ties by id), so the horses racing now are profiled before old ones."""
    return (
        seen.drop_nulls("horse_id")
        .filter(pl.col("horse_id").is_in(profiled.implode()).not_())
        .group_by("horse_id").agg(pl.col("last_seen").max())
        .sort(["last_seen", "horse_id"], descending=[True, False], nulls_last=True)["horse_id"]
    )
