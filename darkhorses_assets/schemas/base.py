"""Shared pieces of the clean-table models: allowed codes, base configs, check bodies.

Every clean table has two pandera models:

* ``<Table>Hard`` — columns present with their exact dtypes, keys non-null and unique (``Config.unique``),
  codes from a closed set. A row failing any of these is quarantined (``darkhorses_assets.validation``).
  The columns and dtypes come from the transform's schema constant (``typed_columns``), so the model
  cannot drift from what the transform produces; the model adds only the rules.
* ``<Table>Soft`` — plausibility ranges. A failure is reported (asset check at WARN); the row stays clean.

Soft models are validated on rows that already passed the hard model, so they only declare the columns
they range-check (with the same dtypes) and never repeat a hard rule.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl
from pandera.api.polars.model_config import BaseConfig

from darkhorses_assets.transforms._frames import Schema
from darkhorses_assets.transforms.parsing import CURRENCIES, FINISHED, NON_FINISH_CODES, SEX_CODES

REGIONS = ("GB", "IRE")
FINISH_STATUSES = (FINISHED, *NON_FINISH_CODES)
"""``FIN`` for a numbered finisher, else a known position code (domain.md §2)."""
SP_FAVOURITES = ("F", "J", "C")
SEX_CODE_VALUES = tuple(sorted(SEX_CODES))
CURRENCY_CODES = CURRENCIES
"""Currencies a clean money column may be in (GBP for GB, EUR for IRE)."""
LAST_RUN_CODES = ("F", "H", "C")
"""Codes in a racecard `last_run` bracket: flat, hurdle, chase."""


class HardConfig(BaseConfig):
    """Extra columns (e.g. ``raw_json``) are allowed; dtypes must match exactly (no coercion)."""

    strict = False
    coerce = False


class SoftConfig(BaseConfig):
    strict = False
    coerce = False


def is_one_of(data: pa.PolarsData, codes: tuple[str, ...]) -> pl.LazyFrame:
    """Check body: the value is one of ``codes`` (nulls are governed by the column's ``nullable``)."""
    return data.lazyframe.select(pl.col(data.key).is_in(codes))


def typed_columns(name: str, schema: Schema, base: type[pa.DataFrameModel] = pa.DataFrameModel) -> type:
    """A model declaring every column of ``schema`` as nullable with its exact dtype, on top of ``base``.

    Subclasses override the fields that carry rules (``race_id: str = pa.Field(nullable=False)``)."""
    namespace = {
        "__module__": __name__,
        "__annotations__": dict(schema),
        **{column: pa.Field(nullable=True) for column in schema},
    }
    return type(name, (base,), namespace)


def amounts_have_currency(data: pa.PolarsData, pairs: dict[str, str]) -> pl.LazyFrame:
    """Check body: every money amount present (``pairs``: amount column -> its currency column) has its
    currency, so no number is ever read in the wrong currency."""
    has_currency = [pl.col(amount).is_null() | pl.col(currency).is_not_null() for amount, currency in pairs.items()]
    return data.lazyframe.select(pl.all_horizontal(has_currency))
