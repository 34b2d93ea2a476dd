"""pandera models for the feature tables: hard rules (keys) block downstream, soft rules (ranges) warn."""

import pandera.polars as pa
import polars as pl

_KEYS = {
    "race_id": pa.Column(pl.Utf8, nullable=False),
    "horse_id": pa.Column(pl.Utf8, nullable=False),
    "race_date": pa.Column(pl.Date, nullable=False),
}

RUNNER_FEATURES_HARD = pa.DataFrameSchema(_KEYS, unique=["race_id", "horse_id"], name="runner_features_hard")
RUNNER_FEATURES_SOFT = pa.DataFrameSchema(
    {
        r"^.*_(win|place)_pct.*$": pa.Column(checks=pa.Check.in_range(0, 100), nullable=True, regex=True),
        r"^.*_runs(_.*)?$": pa.Column(checks=pa.Check.ge(0), nullable=True, regex=True),
        "field_size": pa.Column(checks=pa.Check.in_range(1, 40), nullable=True),
    },
    name="runner_features_soft",
)
RACE_OUTCOMES_HARD = pa.DataFrameSchema(
    {**_KEYS, "won": pa.Column(pl.Boolean, nullable=False), "placed": pa.Column(pl.Boolean, nullable=False)},
    unique=["race_id", "horse_id"],
    name="race_outcomes_hard",
)
