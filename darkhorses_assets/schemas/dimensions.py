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
from darkhorses_assets.transforms.dimensions import DIMENSION_SCHEMAS

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


def _entity_hard(name: str, entity: str, base: type[pa.DataFrameModel] = SeenHard) -> type[pa.DataFrameModel]:
    """`base` (SeenHard rules) over the dimension's typed columns, with `<entity>_id` non-null and unique."""
    id_column = f"{entity}_id"
    return type(name, (base, typed_columns(f"{name}Columns", DIMENSION_SCHEMAS[entity])), {
        "__module__": __name__,
        "__annotations__": {id_column: str},
        id_column: pa.Field(nullable=False),
        "Config": type("Config", (HardConfig,), {"unique": [id_column]}),
    })


class _HorseSeenHard(SeenHard):
    @pa.check("sex_code", name="known_sex_code")
    def known_sex_code(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return is_one_of(data, SEX_CODE_VALUES)


HorsesHard = _entity_hard("HorsesHard", "horse", base=_HorseSeenHard)
JockeysHard = _entity_hard("JockeysHard", "jockey")
TrainersHard = _entity_hard("TrainersHard", "trainer")
OwnersHard = _entity_hard("OwnersHard", "owner")
SiresHard = _entity_hard("SiresHard", "sire")
DamsHard = _entity_hard("DamsHard", "dam")
DamsiresHard = _entity_hard("DamsiresHard", "damsire")


def _named_soft(name: str, entity: str, base: type[pa.DataFrameModel] = pa.DataFrameModel) -> type[pa.DataFrameModel]:
    """`base` plus the soft rule `present` on `<entity>_name`: a dimension row without a name is suspicious."""
    column = f"{entity}_name"

    def name_present(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return is_present(data)

    return type(name, (base,), {
        "__module__": __name__,
        "__annotations__": {column: str},
        column: pa.Field(nullable=True),
        "name_present": pa.check(column, name="present")(name_present),
        "Config": type("Config", (SoftConfig,), {}),
    })


class HorsesSoft(_named_soft("HorsesNamedSoft", "horse")):
    dob: pl.Date = pa.Field(nullable=True, ge=dt.date(1980, 1, 1))
    first_seen: pl.Date = pa.Field(nullable=True)

    @pa.dataframe_check(name="born_before_first_seen")
    def born_before_first_seen(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """A horse without a dob passes (nothing to compare)."""
        return data.lazyframe.select(pl.col("dob") < pl.col("first_seen"))

    class Config(SoftConfig):
        pass


JockeysSoft = _named_soft("JockeysSoft", "jockey")
TrainersSoft = _named_soft("TrainersSoft", "trainer")
OwnersSoft = _named_soft("OwnersSoft", "owner")


class AncestorSoft(pa.DataFrameModel):
    """Shared by sires, dams and damsires: the ancestor's own horse id was derived from its id."""

    horse_id: str = pa.Field(nullable=True)

    @pa.check("horse_id", name="matches_hrs")
    def matches_hrs(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col(data.key).str.contains(HORSE_ID_PATTERN).fill_null(False))

    class Config(SoftConfig):
        pass


SiresSoft = _named_soft("SiresSoft", "sire", base=AncestorSoft)
DamsSoft = _named_soft("DamsSoft", "dam", base=AncestorSoft)
DamsiresSoft = _named_soft("DamsiresSoft", "damsire", base=AncestorSoft)
