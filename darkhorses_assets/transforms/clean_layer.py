"""Raw race rows → validated clean tables + quarantine + reconciliation, for any range of race days.

Pure (polars + pandera, no Dagster, no I/O): the clean assets only load raw rows, call `clean_race_days`
and hand the frames to the IO manager. Each source owns its columns: racecards fill declarations and
odds, results fill outcomes (a result without a jockey, trainer, owner or pedigree id takes the one its runner
was declared with, so history needs no racecards to be complete); `merge_races` joins the two race views
without one nulling the other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from darkhorses_assets.schemas.validation import (
    QUARANTINE_SCHEMA,
    Reconciliation,
    Validation,
    reconcile,
    reconcile_per_race,
    validate,
)
from darkhorses_assets.transforms.participants import with_declared_ids
from darkhorses_assets.transforms.racecards import parse_racecards
from darkhorses_assets.transforms.races import merge_races
from darkhorses_assets.transforms.raw_counts import racecard_counts, result_counts, rows_per_race
from darkhorses_assets.transforms.results import parse_results

CLEAN_TABLES = ("races", "runners", "results", "non_runners", "runner_odds")
RACE_TABLES = ("racecard_races", "result_races")
"""The two race views are validated separately (each keeps its raw JSON) and merged once both are clean; the
merged `races` is validated again (its reconciliation: every raw race id is one clean race or quarantined)."""
PARSED_TABLES = ("racecard_races", "result_races", "runners", "runner_odds", "results", "non_runners")

Parsed = dict[str, pl.DataFrame]
"""The parsers' frames by table (`PARSED_TABLES`), before validation."""


@dataclass(frozen=True)
class CleanRaceDays:
    tables: dict[str, pl.DataFrame]
    """Clean frames by table name (`CLEAN_TABLES`)."""
    quarantine: pl.DataFrame
    validations: dict[str, Validation]
    """By validated table: racecard_races, result_races, runners, results, non_runners, runner_odds."""
    reconciliations: dict[str, Reconciliation]
    """By validated table: rows per race counted from the raw JSON (`transforms.raw_counts`) vs clean +
    quarantined rows of that race; for `races`, every raw race id vs clean races + quarantined race ids."""


def _readable(raw: pl.DataFrame) -> tuple[pl.Series, pl.Series]:
    """The raw rows' payloads and the race dates they were requested for (rows with a payload only)."""
    readable = raw.filter(pl.col("payload").is_not_null())
    return readable["payload"], readable["race_date"]


def clean_race_days(
    raw_racecards: pl.DataFrame,
    raw_results: pl.DataFrame,
    *,
    alter_parsed: Callable[[Parsed], Parsed] | None = None,
) -> CleanRaceDays:
    """Parse, validate and split the raw rows (columns `race_id`, `race_date`, `payload`) of some race days.

    Quarantined rows carry their raw JSON fragment. Cutting every runner's fragment out of the payloads costs a
    second JSON pass over them (the odds make runners most of the bytes), so it is done only when a first,
    fragment-free pass quarantined something: then the days are cleaned again with fragments. Parsing and
    validation are deterministic, so both passes split the rows the same way.

    `alter_parsed` (tests only) changes the parsers' frames before validation, to play a parser bug (a runner
    dropped, an odds row doubled, a race lost) and see the reconciliation catch it.
    """
    cleaned = _clean(raw_racecards, raw_results, include_raw=False, alter_parsed=alter_parsed)
    if cleaned.quarantine.is_empty():
        return cleaned
    return _clean(raw_racecards, raw_results, include_raw=True, alter_parsed=alter_parsed)


def parse_race_days(raw_racecards: pl.DataFrame, raw_results: pl.DataFrame, include_raw: bool = False) -> Parsed:
    """The parsers' frames of the raw rows (`PARSED_TABLES`), before validation."""
    card_payloads, card_dates = _readable(raw_racecards)
    result_payloads, result_dates = _readable(raw_results)
    cards = parse_racecards(card_payloads, include_raw, requested_dates=card_dates)
    outcomes = parse_results(result_payloads, include_raw, requested_dates=result_dates)
    return {
        "racecard_races": cards.races,
        "result_races": outcomes.races,
        "runners": cards.runners,
        "runner_odds": cards.runner_odds,
        "results": outcomes.results,
        "non_runners": outcomes.non_runners,
    }


def _clean(
    raw_racecards: pl.DataFrame,
    raw_results: pl.DataFrame,
    include_raw: bool,
    alter_parsed: Callable[[Parsed], Parsed] | None,
) -> CleanRaceDays:
    parsed = parse_race_days(raw_racecards, raw_results, include_raw)
    if alter_parsed is not None:
        parsed = alter_parsed(dict(parsed))
    validations = {table: validate(parsed[table], table) for table in RACE_TABLES}
    parsed["races"] = merge_races(validations["racecard_races"].valid, validations["result_races"].valid)
    validations["races"] = validate(parsed["races"], "races")
    bad_races = pl.concat(
        [validations[t].quarantined["race_id"] for t in (*RACE_TABLES, "races")]
    ).drop_nulls().unique()
    for table in ("runners", "runner_odds", "results", "non_runners"):
        validations[table] = validate(parsed[table], table, quarantined_race_ids=bad_races)

    tables = {table: validations[table].valid for table in CLEAN_TABLES}
    tables["results"] = with_declared_ids(tables["results"].lazy(), tables["runners"].lazy()).collect()
    race_dates = pl.concat([raw_racecards.select("race_id", "race_date"), raw_results.select("race_id", "race_date")])
    quarantine = _with_race_dates(
        pl.concat([validation.quarantined for validation in validations.values()]), race_dates
    )
    return CleanRaceDays(tables, quarantine, validations, reconcile_race_days(raw_racecards, raw_results, validations))


def reconcile_race_days(
    raw_racecards: pl.DataFrame, raw_results: pl.DataFrame, validations: dict[str, Validation]
) -> dict[str, Reconciliation]:
    """Each validated table against counts taken from the raw JSON, per race: raw = clean + quarantined.

    Races per raw row, runners per racecard, odds per race, results runners per result race and non-runners
    per result race come from `transforms.raw_counts` (a scan of the raw text, not the parsers). The merged
    `races` compares race ids: every raw race id is a clean race or quarantined in one of the race tables, and
    no clean race comes from nowhere.
    """
    cards, outcomes = racecard_counts(raw_racecards), result_counts(raw_results)
    raw_rows = {
        "racecard_races": rows_per_race(cards),
        "result_races": rows_per_race(outcomes),
        "runners": rows_per_race(cards, "runners"),
        "runner_odds": rows_per_race(cards, "runner_odds"),
        "results": rows_per_race(outcomes, "results"),
        "non_runners": rows_per_race(outcomes, "non_runners"),
    }
    reconciliations = {table: reconcile_per_race(raw_rows[table], validations[table]) for table in raw_rows}
    clean_races = validations["races"].valid["race_id"]
    quarantined_races = pl.concat(
        [validations[table].quarantined["race_id"] for table in (*RACE_TABLES, "races")]
    )
    reconciliations["races"] = reconcile(
        pl.concat([cards["race_id"], outcomes["race_id"]]),
        clean_races,
        quarantined_races.filter(~quarantined_races.is_in(clean_races.implode())),
    )
    return {table: reconciliations[table] for table in validations}


def _with_race_dates(quarantine: pl.DataFrame, race_dates: pl.DataFrame) -> pl.DataFrame:
    """A quarantined row whose own race date is unreadable takes its raw row's date (its partition)."""
    known = race_dates.drop_nulls("race_id").unique("race_id", keep="first").rename({"race_date": "raw_race_date"})
    return (
        quarantine.join(known, on="race_id", how="left", maintain_order="left")
        .with_columns(pl.coalesce("race_date", "raw_race_date").alias("race_date"))
        .select(list(QUARANTINE_SCHEMA))
    )
