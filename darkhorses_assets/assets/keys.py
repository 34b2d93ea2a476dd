"""Asset keys and owners: one way to name an asset of each layer (its key prefix is its Postgres schema)."""

from dagster import AssetKey

OWNERS = ["team:darkhorses"]
RAW, CLEAN, FEATURES = "raw", "clean", "features"


def raw_key(name: str) -> AssetKey:
    return AssetKey([RAW, name])


def clean_key(name: str) -> AssetKey:
    return AssetKey([CLEAN, name])


def features_key(name: str) -> AssetKey:
    return AssetKey([FEATURES, name])
