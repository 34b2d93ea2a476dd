"""`/v1/horses/{id}/pro` payloads (OpenAPI `HorsePro`) -> the horse profiles frame.

`parse_horse_profiles(profiles)` takes parsed dicts; `horse_profiles_from_payloads(payloads)` takes
JSON text (a Series, or a frame with a `payload` column). The OpenAPI schema names the horse `name`;
`horse` is accepted as well.
"""

from __future__ import annotations

import polars as pl

from darkhorses_assets.transforms import parsing as p
from darkhorses_assets.transforms._decode import PayloadSource, decode_flat
from darkhorses_assets.transforms._frames import Schema, select_schema

PROFILE_KEYS = (
    "id", "name", "horse", "dob", "sex", "sex_code", "colour", "colour_code", "breeder",
    "sire", "sire_id", "dam", "dam_id", "damsire", "damsire_id",
)  # fmt: skip

HORSE_PROFILES_SCHEMA: Schema = {
    "horse_id": pl.String,
    "horse": pl.String,
    "horse_name": pl.String,
    "horse_country": pl.String,
    "dob": pl.Date,
    "sex_code": pl.String,
    "colour": pl.String,
    "colour_code": pl.String,
    "breeder": pl.String,
    "sire_id": pl.String,
    "sire_name": pl.String,
    "sire_country": pl.String,
    "dam_id": pl.String,
    "dam_name": pl.String,
    "dam_country": pl.String,
    "damsire_id": pl.String,
    "damsire_name": pl.String,
    "damsire_country": pl.String,
}
"""One row per profile fetched (`horse_id` null when the payload had no `id`)."""


def _pedigree_expressions(role: str) -> dict[str, pl.Expr]:
    return {
        f"{role}_id": p.nullify_empty(f"{role}_id"),
        f"{role}_name": p.name_without_country(role),
        f"{role}_country": p.country_of_name(role),
    }


def _profile_expressions() -> dict[str, pl.Expr]:
    display_name = pl.coalesce(p.nullify_empty("name"), p.nullify_empty("horse"))
    return {
        "horse_id": p.nullify_empty("id"),
        "horse": display_name,
        "horse_name": p.name_without_country(display_name),
        "horse_country": p.country_of_name(display_name),
        "dob": p.to_date("dob"),
        "sex_code": pl.coalesce(p.sex_code("sex_code"), p.sex_code("sex")),
        "colour": p.nullify_empty("colour"),
        "colour_code": p.upper_text("colour_code"),
        "breeder": p.nullify_empty("breeder"),
        **_pedigree_expressions("sire"),
        **_pedigree_expressions("dam"),
        **_pedigree_expressions("damsire"),
    }


def parse_horse_profiles(profiles: PayloadSource, include_raw: bool = False) -> pl.DataFrame:
    """HORSE_PROFILES_SCHEMA frame from profile dicts, a Series of JSON text, or a `payload` frame."""
    decoded = decode_flat(profiles, PROFILE_KEYS, include_raw)
    return select_schema(decoded, _profile_expressions(), HORSE_PROFILES_SCHEMA, include_raw)


def horse_profiles_from_payloads(
    payloads: pl.Series | pl.DataFrame, include_raw: bool = False
) -> pl.DataFrame:
    """Same as `parse_horse_profiles`, for JSON text."""
    return parse_horse_profiles(payloads, include_raw)


def horses_to_profile(seen: pl.DataFrame, profiled: pl.Series) -> pl.Series:
    """The horse ids of `seen` (columns `horse_id`, `last_seen`) not in `profiled`, most recently seen first
    (ties by id), so the horses racing now are profiled before old ones."""
    return (
        seen.drop_nulls("horse_id")
        .filter(pl.col("horse_id").is_in(profiled.implode()).not_())
        .group_by("horse_id").agg(pl.col("last_seen").max())
        .sort(["last_seen", "horse_id"], descending=[True, False], nulls_last=True)["horse_id"]
    )
