"""Raw race rows → validated clean tables + quarantine + reconciliation, for any range of race days.

Pure (polars + pandera, no Dagster, no I/O): the clean assets only load raw rows, call `clean_race_days`
and hand the frames to the IO manager. Each source owns its columns: racecards fill declarations and
odds, results fill outcomes; `merge_races` joins the two race views without one nulling the other.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from darkhorses_assets.transforms.racecards import racecards_from_payloads
from darkhorses_assets.transforms.races import merge_races
from darkhorses_assets.transforms.results import results_from_payloads
from darkhorses_assets.validation import (
    QUARANTINE_SCHEMA,
    Reconciliation,
    Validation,
    reconcile_rows,
    validate,
)

CLEAN_TABLES = ("races", "runners", "results", "non_runners", "runner_odds")
RACE_TABLES = ("racecard_races", "result_races")
"""The two race views are validated separately (each keeps its raw JSON) and merged once both are clean; the
merged `races` is validated again (its reconciliation: every clean race view's id is one merged race)."""


@dataclass(frozen=True)
class CleanRaceDays:
    tables: dict[str, pl.DataFrame]
    """Clean frames by table name (`CLEAN_TABLES`)."""
    quarantine: pl.DataFrame
    validations: dict[str, Validation]
    """By validated table: racecard_races, result_races, runners, results, non_runners, runner_odds."""
    reconciliations: dict[str, Reconciliation]


def _readable(raw: pl.DataFrame) -> tuple[pl.Series, pl.Series]:
    """The raw rows' payloads and the race dates they were requested for (rows with a payload only)."""
    readable = raw.filter(pl.col("payload").is_not_null())
    return readable["payload"], readable["race_date"]


def clean_race_days(raw_racecards: pl.DataFrame, raw_results: pl.DataFrame) -> CleanRaceDays:
    """Parse, validate and split the raw rows (columns `race_id`, `race_date`, `payload`) of some race days.

    Quarantined rows carry their raw JSON fragment. Cutting every runner's fragment out of the payloads costs a
    second JSON pass over them (the odds make runners most of the bytes), so it is done only when a first,
    fragment-free pass quarantined something: then the days are cleaned again with fragments. Parsing and
    validation are deterministic, so both passes split the rows the same way.
    """
    cleaned = _clean(raw_racecards, raw_results, include_raw=False)
    if cleaned.quarantine.is_empty():
        return cleaned
    return _clean(raw_racecards, raw_results, include_raw=True)


def _clean(raw_racecards: pl.DataFrame, raw_results: pl.DataFrame, include_raw: bool) -> CleanRaceDays:
    card_payloads, card_dates = _readable(raw_racecards)
    result_payloads, result_dates = _readable(raw_results)
    cards = racecards_from_payloads(card_payloads, include_raw, requested_dates=card_dates)
    outcomes = results_from_payloads(result_payloads, include_raw, requested_dates=result_dates)
    parsed = {
        "racecard_races": cards.races,
        "result_races": outcomes.races,
        "runners": cards.runners,
        "runner_odds": cards.runner_odds,
        "results": outcomes.results,
        "non_runners": outcomes.non_runners,
    }
    validations = {table: validate(parsed[table], table) for table in RACE_TABLES}
    parsed["races"] = merge_races(validations["racecard_races"].valid, validations["result_races"].valid)
    validations["races"] = validate(parsed["races"], "races")
    bad_races = pl.concat(
        [validations[t].quarantined["race_id"] for t in (*RACE_TABLES, "races")]
    ).drop_nulls().unique()
    for table in ("runners", "runner_odds", "results", "non_runners"):
        validations[table] = validate(parsed[table], table, quarantined_race_ids=bad_races)

    tables = {table: validations[table].valid for table in CLEAN_TABLES}
    race_dates = pl.concat([raw_racecards.select("race_id", "race_date"), raw_results.select("race_id", "race_date")])
    quarantine = _with_race_dates(
        pl.concat([validation.quarantined for validation in validations.values()]), race_dates
    )
    sources = {**parsed, "races": pl.concat([validations[t].valid.select("race_id") for t in RACE_TABLES])}
    reconciliations = {
        table: reconcile_rows(sources[table], validation.valid, validation.quarantined_keys, table)
        for table, validation in validations.items()
    }
    return CleanRaceDays(tables, quarantine, validations, reconciliations)


def _with_race_dates(quarantine: pl.DataFrame, race_dates: pl.DataFrame) -> pl.DataFrame:
    """A quarantined row whose own race date is unreadable takes its raw row's date (its partition)."""
    known = race_dates.drop_nulls("race_id").unique("race_id", keep="first").rename({"race_date": "raw_race_date"})
    return (
        quarantine.join(known, on="race_id", how="left", maintain_order="left")
        .with_columns(pl.coalesce("race_date", "raw_race_date").alias("race_date"))
        .select(list(QUARANTINE_SCHEMA))
    )


def raw_runner_count(raw_racecards: pl.DataFrame) -> int:
    """Runners in the raw racecard JSON, counted independently of the parser (for reconciliation tests)."""
    lengths = _readable(raw_racecards)[0].str.json_path_match("$.runners").str.json_decode(
        pl.List(pl.Struct({"horse_id": pl.Utf8}))
    ).list.len()
    return int(lengths.sum() or 0)
