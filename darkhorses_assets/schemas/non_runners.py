"""Clean ``non_runners`` (key ``race_id`` + ``horse``).

Results name non-runners only in free text ("Miss Chester (self certificate, coughing)"), so there is no
horse id: the display name (with its country suffix, when given) identifies the horse within the race.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from darkhorses_assets.schemas.base import HardConfig, typed_columns
from darkhorses_assets.transforms.results import NON_RUNNERS_SCHEMA


class NonRunnersHard(typed_columns("NonRunnersColumns", NON_RUNNERS_SCHEMA)):
    race_id: str = pa.Field(nullable=False)
    race_date: pl.Date = pa.Field(nullable=False)
    horse: str = pa.Field(nullable=False)

    class Config(HardConfig):
        unique = ["race_id", "horse"]
