"""Pandera (polars) models of every validated table: one module per clean table, each with a Hard and a Soft
model, and `features.py` for the derived (feature and statistics) tables, whose generated columns are ruled by
name patterns (`pa.DataFrameSchema` with regex columns).

``TABLES`` maps a table name to its models and key; ``darkhorses_assets.schemas.validation`` uses it to split
a frame into valid and quarantined rows, ``darkhorses_assets.checks`` to build the asset checks.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandera.polars as pa

from darkhorses_assets.schemas.courses import CoursesHard, CoursesSoft
from darkhorses_assets.schemas.dimensions import (
    DamsHard,
    DamsiresHard,
    DamsiresSoft,
    DamsSoft,
    HorsesHard,
    HorsesSoft,
    JockeysHard,
    JockeysSoft,
    OwnersHard,
    OwnersSoft,
    SiresHard,
    SiresSoft,
    TrainersHard,
    TrainersSoft,
)
from darkhorses_assets.schemas.features import (
    MARKET_MOVES_HARD,
    MARKET_MOVES_SOFT,
    RACE_OUTCOMES_HARD,
    RACE_OUTCOMES_SOFT,
    RUNNER_FEATURES_HARD,
    RUNNER_FEATURES_SOFT,
    SPEED_FIGURES_HARD,
    SPEED_FIGURES_SOFT,
    STATISTICS_HARD,
    STATISTICS_SOFT,
)
from darkhorses_assets.schemas.horse_profiles import HorseProfilesHard, HorseProfilesSoft
from darkhorses_assets.schemas.non_runners import NonRunnersHard
from darkhorses_assets.schemas.races import (
    RacecardRacesHard,
    RacecardRacesSoft,
    RacesHard,
    RacesSoft,
    ResultRacesHard,
    ResultRacesSoft,
)
from darkhorses_assets.schemas.results import ResultsHard, ResultsSoft
from darkhorses_assets.schemas.runner_odds import RunnerOddsHard, RunnerOddsSoft
from darkhorses_assets.schemas.runners import RunnersHard, RunnersSoft

Model = type[pa.DataFrameModel] | pa.DataFrameSchema


def as_schema(model: Model) -> pa.DataFrameSchema:
    return model if isinstance(model, pa.DataFrameSchema) else model.to_schema()


@dataclass(frozen=True)
class TableSchema:
    name: str
    hard: Model
    soft: Model | None
    key: tuple[str, ...]
    """Natural key: non-null and unique in the hard model; used for ``row_key`` and duplicate handling."""
    derived: bool = False
    """Computed from clean rows (features, statistics): a row failing a hard rule is a bug, never quarantined."""


def _table(name: str, hard: Model, soft: Model | None, derived: bool = False) -> TableSchema:
    return TableSchema(name, hard, soft, tuple(as_schema(hard).unique or ()), derived)


TABLES: dict[str, TableSchema] = {
    table.name: table
    for table in (
        _table("races", RacesHard, RacesSoft),
        _table("racecard_races", RacecardRacesHard, RacecardRacesSoft),
        _table("result_races", ResultRacesHard, ResultRacesSoft),
        _table("runners", RunnersHard, RunnersSoft),
        _table("results", ResultsHard, ResultsSoft),
        _table("non_runners", NonRunnersHard, None),
        _table("runner_odds", RunnerOddsHard, RunnerOddsSoft),
        _table("courses", CoursesHard, CoursesSoft),
        _table("horse_profiles", HorseProfilesHard, HorseProfilesSoft),
        _table("horses", HorsesHard, HorsesSoft),
        _table("jockeys", JockeysHard, JockeysSoft),
        _table("trainers", TrainersHard, TrainersSoft),
        _table("owners", OwnersHard, OwnersSoft),
        _table("sires", SiresHard, SiresSoft),
        _table("dams", DamsHard, DamsSoft),
        _table("damsires", DamsiresHard, DamsiresSoft),
        _table("runner_features", RUNNER_FEATURES_HARD, RUNNER_FEATURES_SOFT, derived=True),
        _table("race_outcomes", RACE_OUTCOMES_HARD, RACE_OUTCOMES_SOFT, derived=True),
        _table("market_moves", MARKET_MOVES_HARD, MARKET_MOVES_SOFT, derived=True),
        _table("speed_figures", SPEED_FIGURES_HARD, SPEED_FIGURES_SOFT, derived=True),
        *(_table(name, hard, STATISTICS_SOFT, derived=True) for name, hard in STATISTICS_HARD.items()),
    )
}

__all__ = [
    "TABLES", "TableSchema", "as_schema",
    "CoursesHard", "CoursesSoft", "DamsHard", "DamsSoft", "DamsiresHard", "DamsiresSoft",
    "HorseProfilesHard", "HorseProfilesSoft", "HorsesHard", "HorsesSoft", "JockeysHard", "JockeysSoft",
    "NonRunnersHard", "OwnersHard", "OwnersSoft",
    "RacecardRacesHard", "RacecardRacesSoft", "RacesHard", "RacesSoft", "ResultRacesHard", "ResultRacesSoft",
    "ResultsHard", "ResultsSoft", "RunnerOddsHard", "RunnerOddsSoft", "RunnersHard", "RunnersSoft",
    "SiresHard", "SiresSoft", "TrainersHard", "TrainersSoft",
]  # fmt: skip
