"""The real pro-racecard sample (Hereford and Ayr, 2025-10-13) as the racecard tests read it."""

import json
from pathlib import Path

import polars as pl

SAMPLE = Path(__file__).parent / "fixtures" / "samples" / "racecards_pro_2025-10-13_gb_first2.json"


def sample_cards() -> list[dict]:
    """The sample's `racecards` array (each test deep-copies before changing it)."""
    return json.loads(SAMPLE.read_text())["racecards"]


def runner(frames, horse: str) -> dict:
    """The one parsed runner named `horse`."""
    rows = frames.runners.filter(pl.col("horse") == horse).to_dicts()
    assert len(rows) == 1
    return rows[0]
