"""Who takes part, as every source names them: the horse, its jockey, trainer and owner, and its pedigree.

Racecards, results and horse profiles describe the same people and horses with the same keys (`horse`,
`jockey`, `trainer_id`, `sire`, `dam_region`, ...). Their columns are built here once; each source module
(`racecards.py`, `results.py`, `horses.py`) says only what differs (which key holds the display name, whether a
`<role>_region` key backs up a name's country suffix, where a jockey's claim comes from).
"""

from __future__ import annotations

import polars as pl

from darkhorses_assets.transforms import parsing as p
from darkhorses_assets.transforms._frames import Schema

PEDIGREE_ROLES = ("sire", "dam", "damsire")

PEDIGREE_SCHEMA: Schema = {
    f"{role}_{part}": pl.String for role in PEDIGREE_ROLES for part in ("id", "name", "country")
}
"""`sire_id`, `sire_name`, `sire_country`, then the dam's and the damsire's: names without their country
suffix ("Gemix (FR)" → "Gemix", "FR")."""

HORSE_SCHEMA: Schema = {"horse": pl.String, "horse_name": pl.String, "horse_country": pl.String}
"""`horse` as displayed ("Border Gem (IRE)"), `horse_name` without the suffix, `horse_country` the suffix."""

JOCKEY_SCHEMA: Schema = {"jockey_id": pl.String, "jockey_name": pl.String, "jockey_claim_lbs": pl.Int32}
"""`jockey_name` without the claim or a "NON-RUNNER" marker; `jockey_claim_lbs` 0 for a named jockey who
claims nothing, null when no jockey is named."""

CONNECTIONS_SCHEMA: Schema = {
    "trainer_id": pl.String,
    "trainer_name": pl.String,
    "owner_id": pl.String,
    "owner_name": pl.String,
}


def pedigree_expressions(with_region_keys: bool = False) -> dict[str, pl.Expr]:
    """PEDIGREE_SCHEMA from `<role>`, `<role>_id` (and `<role>_region` when the source has it, as racecards do:
    it gives the country of a name printed without a suffix)."""
    expressions = {}
    for role in PEDIGREE_ROLES:
        country = p.country_of_name(role)
        if with_region_keys:
            country = pl.coalesce(country, p.region_code(f"{role}_region"))
        expressions |= {
            f"{role}_id": p.nullify_empty(f"{role}_id"),
            f"{role}_name": p.name_without_country(role),
            f"{role}_country": country,
        }
    return expressions


def horse_expressions(display: pl.Expr | str = "horse", region_key: str | None = None) -> dict[str, pl.Expr]:
    """HORSE_SCHEMA from the displayed name (a key or an expression) and, where given, a region key backing up
    the country suffix."""
    country = p.country_of_name(display)
    if region_key is not None:
        country = pl.coalesce(country, p.region_code(region_key))
    return {"horse": p.nullify_empty(display), "horse_name": p.name_without_country(display), "horse_country": country}


def jockey_expressions(claim_key: str | None = None) -> dict[str, pl.Expr]:
    """JOCKEY_SCHEMA from `jockey` ("Lorcan Williams(3)") and `jockey_id`; a source with its own claim key
    (results' `jockey_claim_lbs`) has it win over the bracket in the name."""
    name = p.jockey_name("jockey")
    claim = p.jockey_claim_lbs("jockey")
    if claim_key is not None:
        claim = pl.coalesce(p.to_int(claim_key), claim)
    return {
        "jockey_id": p.nullify_empty("jockey_id"),
        "jockey_name": name,
        "jockey_claim_lbs": pl.coalesce(claim, pl.when(name.is_not_null()).then(pl.lit(0))),
    }


def connections_expressions() -> dict[str, pl.Expr]:
    """CONNECTIONS_SCHEMA from `trainer`, `trainer_id`, `owner`, `owner_id`."""
    return {
        "trainer_id": p.nullify_empty("trainer_id"),
        "trainer_name": p.nullify_empty("trainer"),
        "owner_id": p.nullify_empty("owner_id"),
        "owner_name": p.nullify_empty("owner"),
    }


PEOPLE_IDS = ("jockey_id", "trainer_id", "owner_id")
PEDIGREE_IDS = tuple(f"{role}_id" for role in PEDIGREE_ROLES)
DECLARED_IDS = (*PEOPLE_IDS, *PEDIGREE_IDS)
"""The ids a result may lack and its declaration give."""


def with_declared_ids(results: pl.LazyFrame, runners: pl.LazyFrame | None) -> pl.LazyFrame:
    """``results`` with every people and pedigree id (`DECLARED_IDS`) present: the result's own, else the one its
    runner was declared with in ``runners`` (same race and horse), else null."""
    have = set(results.collect_schema().names())
    if runners is None:
        return results.with_columns(pl.lit(None, pl.Utf8).alias(c) for c in DECLARED_IDS if c not in have)
    declared_have = set(runners.collect_schema().names())
    declared = runners.select(
        "race_id", "horse_id", *(pl.col(c).alias(f"_declared_{c}") for c in DECLARED_IDS if c in declared_have)
    )
    return (
        results.join(declared, on=["race_id", "horse_id"], how="left")
        .with_columns(
            pl.coalesce(
                *([pl.col(c)] if c in have else []),
                *([pl.col(f"_declared_{c}")] if c in declared_have else []),
                pl.lit(None, pl.Utf8),
            ).alias(c)
            for c in DECLARED_IDS
        )
        .select(pl.exclude("^_declared_.*$"))
    )
