"""Rows per race counted straight from the raw JSON text, independently of the parsers (for reconciliation).

The parsers (`racecards.py`, `results.py`) decode every payload into typed frames; a bug there can lose or
invent rows without any validation rule noticing. These counts come from the raw rows by another road, so
`clean_layer` can check per race that raw = clean + quarantined:

* a race is a raw row with a payload, keyed by the raw row's `race_id` (the JSON's own `race_id`, stored by
  the raw layer; stripped, "" as null);
* a runner (racecards and results) is a `"jockey_id"` key: every runner object has one and no other object
  in a race payload does (the pro racecard's `quotes` carry `horse_id` and `race_id`, not `jockey_id`);
* an odds row is a `"bookmaker"` key outside an odds `history` list (the OpenAPI leaves history items
  untyped: should they name their bookmaker, they are earlier prices of their odds row, not rows);
* a non-runner is an item of the result's `non_runners` text once the parenthesised reasons are removed:
  `"How's The Guvnor (unsuitable ground), Just King High (travel problems)"` is 2.

Counting keys in the text is a literal scan, not a JSON decode: a year of racecards (≈ 540 MB) costs
≈ 0.3 s per key where decoding even a two-field schema costs ≈ 15 s. A key inside a JSON string value
is escaped (`\\"jockey_id\\"`) and never matches. `runners` that is not a list follows the API's "missing"
convention the decoder keeps: null or "" is no runner, any other value (an object, a string) is one runner,
which validation then quarantines.
"""

from __future__ import annotations

import polars as pl

RACE_ID = "race_id"

_RUNNERS_VALUE = r'"runners"\s*:\s*(""|null|\S)'
_RUNNER_KEY = r'"jockey_id"\s*:'
_ODDS_KEY = r'"bookmaker"\s*:'
_HISTORY_LIST = r'"history"\s*:\s*\[[^\]]*\]'
_NON_RUNNERS_TEXT = r'"non_runners"\s*:\s*"((?:[^"\\]|\\.)*)"'
_PARENTHESISED = r"\([^)]*\)"


def _readable(raw: pl.DataFrame) -> pl.DataFrame:
    """Raw rows with a payload, their race id normalised as the parsers do ("" and blanks are no id)."""
    return raw.filter(pl.col("payload").is_not_null()).select(
        pl.col(RACE_ID).cast(pl.String).str.strip_chars().replace("", None).alias(RACE_ID),
        pl.col("payload").cast(pl.String),
    )


def _runners(payload: pl.Expr) -> pl.Expr:
    shape = payload.str.extract(_RUNNERS_VALUE, 1)
    return (
        pl.when(shape == "[").then(payload.str.count_matches(_RUNNER_KEY))
        .when(shape.is_null() | shape.is_in(['""', "null"])).then(0)
        .otherwise(1)
        .cast(pl.Int64)
    )


def _non_runners(payload: pl.Expr) -> pl.Expr:
    items = payload.str.extract(_NON_RUNNERS_TEXT, 1).str.replace_all(_PARENTHESISED, "").str.split(",")
    return items.list.eval(pl.element().str.strip_chars() != "").list.sum().fill_null(0).cast(pl.Int64)


def _odds_keys_in_history(payload: pl.Expr) -> pl.Expr:
    """`"bookmaker"` keys inside `history` lists (items are flat objects of short texts: no `]` inside)."""
    lists = payload.str.extract_all(_HISTORY_LIST)
    return lists.list.eval(pl.element().str.count_matches(_ODDS_KEY)).list.sum().fill_null(0)


def racecard_counts(raw_racecards: pl.DataFrame) -> pl.DataFrame:
    """One row per raw racecard row with a payload: `race_id`, `runners`, `runner_odds`."""
    payload = pl.col("payload")
    return _readable(raw_racecards).select(
        RACE_ID,
        _runners(payload).alias("runners"),
        (payload.str.count_matches(_ODDS_KEY) - _odds_keys_in_history(payload)).cast(pl.Int64).alias("runner_odds"),
    )


def result_counts(raw_results: pl.DataFrame) -> pl.DataFrame:
    """One row per raw result row with a payload: `race_id`, `results` (runners), `non_runners`."""
    payload = pl.col("payload")
    return _readable(raw_results).select(
        RACE_ID,
        _runners(payload).alias("results"),
        _non_runners(payload).alias("non_runners"),
    )


def rows_per_race(counts: pl.DataFrame, column: str | None = None) -> pl.DataFrame:
    """`race_id`, `rows`: the sum of `column` per race, or the number of raw rows per race when None.
    Races without an id are one group (race_id null)."""
    rows = pl.len() if column is None else pl.col(column).sum()
    return counts.group_by(RACE_ID).agg(rows.cast(pl.Int64).alias("rows"))
