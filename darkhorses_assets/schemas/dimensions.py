"""Entity dimensions ``horses``, ``jockeys``, ``trainers``, ``owners``, ``sires``, ``dams``, ``damsires``
(key ``<entity>_id``), rebuilt from clean runners + results by ``transforms.dimensions.entity_dimension``.

Hard: the id, first/last seen and appearances are present, ids unique, ``first_seen <= last_seen``, at least one
appearance. Soft: the entity has a name; a horse was born after 1980 and before it first ran; an ancestor's
own ``horse_id`` could be derived (``hrs_<n>``).
"""

from __future__ import annotations

import datetime as dt

import pandera.polars as pa
import polars as pl

from darkhorses_assets.schemas.base import SEX_CODE_VALUES, HardConfig, SoftConfig, is_one_of, typed_columns
from darkhorses_assets.transforms.dimensions import (
    DAMS_SCHEMA,
    DAMSIRES_SCHEMA,
    HORSES_SCHEMA,
    JOCKEYS_SCHEMA,
    OWNERS_SCHEMA,
    SIRES_SCHEMA,
    TRAINERS_SCHEMA,
)

HORSE_ID_PATTERN = r"^hrs_\d+$"


def is_present(data: pa.PolarsData) -> pl.LazyFrame:
    """Check body: the value is not null (a soft ``nullable=False``, reported like any other rule)."""
    return data.lazyframe.select(pl.col(data.key).is_not_null())


class SeenHard(pa.DataFrameModel):
    """Hard rules shared by every entity dimension.

    Put it *before* ``typed_columns(...)`` in a model's bases: its fields then override the all-nullable ones."""

    first_seen: pl.Date = pa.Field(nullable=False)
    last_seen: pl.Date = pa.Field(nullable=False)
    appearances: pl.Int32 = pa.Field(nullable=False, ge=1)

    @pa.dataframe_check(name="seen_in_order")
    def seen_in_order(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("first_seen") <= pl.col("last_seen"))


class HorsesHard(SeenHard, typed_columns("HorsesColumns", HORSES_SCHEMA)):
    horse_id: str = pa.Field(nullable=False)

    @pa.check("sex_code", name="known_sex_code")
    def known_sex_code(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return is_one_of(data, SEX_CODE_VALUES)

    class Config(HardConfig):
        unique = ["horse_id"]


class JockeysHard(SeenHard, typed_columns("JockeysColumns", JOCKEYS_SCHEMA)):
    jockey_id: str = pa.Field(nullable=False)

    class Config(HardConfig):
        unique = ["jockey_id"]


class TrainersHard(SeenHard, typed_columns("TrainersColumns", TRAINERS_SCHEMA)):
    trainer_id: str = pa.Field(nullable=False)

    class Config(HardConfig):
        unique = ["trainer_id"]


class OwnersHard(SeenHard, typed_columns("OwnersColumns", OWNERS_SCHEMA)):
    owner_id: str = pa.Field(nullable=False)

    class Config(HardConfig):
        unique = ["owner_id"]


class SiresHard(SeenHard, typed_columns("SiresColumns", SIRES_SCHEMA)):
    sire_id: str = pa.Field(nullable=False)

    class Config(HardConfig):
        unique = ["sire_id"]


class DamsHard(SeenHard, typed_columns("DamsColumns", DAMS_SCHEMA)):
    dam_id: str = pa.Field(nullable=False)

    class Config(HardConfig):
        unique = ["dam_id"]


class DamsiresHard(SeenHard, typed_columns("DamsiresColumns", DAMSIRES_SCHEMA)):
    damsire_id: str = pa.Field(nullable=False)

    class Config(HardConfig):
        unique = ["damsire_id"]


class HorsesSoft(pa.DataFrameModel):
    horse_name: str = pa.Field(nullable=True)
    dob: pl.Date = pa.Field(nullable=True, ge=dt.date(1980, 1, 1))
    first_seen: pl.Date = pa.Field(nullable=True)

    @pa.check("horse_name", name="present")
    def name_present(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return is_present(data)

    @pa.dataframe_check(name="born_before_first_seen")
    def born_before_first_seen(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """A horse without a dob passes (nothing to compare)."""
        return data.lazyframe.select(pl.col("dob") < pl.col("first_seen"))

    class Config(SoftConfig):
        pass


class JockeysSoft(pa.DataFrameModel):
    jockey_name: str = pa.Field(nullable=True)

    @pa.check("jockey_name", name="present")
    def name_present(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return is_present(data)

    class Config(SoftConfig):
        pass


class TrainersSoft(pa.DataFrameModel):
    trainer_name: str = pa.Field(nullable=True)

    @pa.check("trainer_name", name="present")
    def name_present(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return is_present(data)

    class Config(SoftConfig):
        pass


class OwnersSoft(pa.DataFrameModel):
    owner_name: str = pa.Field(nullable=True)

    @pa.check("owner_name", name="present")
    def name_present(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return is_present(data)

    class Config(SoftConfig):
        pass


class AncestorSoft(pa.DataFrameModel):
    """Shared by sires, dams and damsires: the ancestor's own horse id was derived from its id."""

    horse_id: str = pa.Field(nullable=True)

    @pa.check("horse_id", name="matches_hrs")
    def matches_hrs(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col(data.key).str.contains(HORSE_ID_PATTERN).fill_null(False))

    class Config(SoftConfig):
        pass


class SiresSoft(AncestorSoft):
    sire_name: str = pa.Field(nullable=True)

    @pa.check("sire_name", name="present")
    def name_present(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return is_present(data)


class DamsSoft(AncestorSoft):
    dam_name: str = pa.Field(nullable=True)

    @pa.check("dam_name", name="present")
    def name_present(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return is_present(data)


class DamsiresSoft(AncestorSoft):
    damsire_name: str = pa.Field(nullable=True)

    @pa.check("damsire_name", name="present")
    def name_present(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return is_present(data)
