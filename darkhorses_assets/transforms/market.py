"""Market moves: what the betting market said about each declared runner before the off, as pure polars.

From ``clean.runner_odds``: each bookmaker's current price (``decimal`` stamped ``updated``) and its earlier
prices (``history``: typed list of ``{fractional, decimal, updated}``). **Only prices stamped strictly before
the race's off** (``clean.races.off_dt``) count; a price stamped at or after the off, and anything dated later,
never changes a row. Prices without a decimal (``"SP"``, ``"-"``) or at most 1 are ignored.

Definitions, per declared runner of the races on the target days:

* ``market_bookmakers``: bookmakers with at least one price before the off.
* ``early_price`` / ``early_at``: the opening show — the median of the prices carrying the runner's earliest
  stamp before the off (across bookmakers), and that stamp.
* ``late_price`` / ``late_at``: the latest show — the median over bookmakers of each one's latest price before
  the off (two prices of one bookmaker with the same latest stamp: the longer), and the latest stamp among them.
* ``price_move_pct`` = 100 × (early_price ÷ late_price − 1): the change of the implied chance, positive when
  the price shortened. ``market_move`` is ``"steamer"`` when the price shortened by at least `MOVE_RATIO`
  (early ≥ 1.2 × late), ``"drifter"`` when it lengthened as much (late ≥ 1.2 × early), else ``"steady"``; null
  without a price.
* Race level, over the runners not marked non-runner that have a late price: ``race_overround`` = Σ 1 ÷
  late_price (the book: 1.15 = 15 % over-round); ``consensus_prob`` = (1 ÷ late_price) ÷ race_overround (the
  market's chance with the over-round taken out, summing to 1 over the race); ``market_rank`` = rank of
  late_price, 1 = favourite, joint favourites share a rank ("min" ranking). Non-runners keep their own prices and
  get null race-level columns.

Every day is computed independently (a race's market is its own), so a range is one pass with no history input.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from darkhorses_assets.transforms.features import target_days

MOVE_RATIO = 1.2
"""A price that shortened (lengthened) by this factor or more is a steamer (drifter)."""
MARKET_INPUT_COLUMNS = {
    "races": ("race_id", "race_date", "off_dt"),
    "runners": ("race_id", "horse_id", "is_non_runner"),
    "runner_odds": ("race_id", "horse_id", "decimal", "updated", "history"),
}
"""The columns `market_moves` reads of each clean input (its asset loads only these: an odds row is one runner ×
bookmaker, so neither the bookmaker's name nor the race date need reading)."""
MARKET_SCHEMA: dict[str, pl.DataType] = {
    "race_id": pl.String(),
    "horse_id": pl.String(),
    "race_date": pl.Date(),
    "market_bookmakers": pl.UInt32(),
    "early_price": pl.Float64(),
    "early_at": pl.Datetime("us", "UTC"),
    "late_price": pl.Float64(),
    "late_at": pl.Datetime("us", "UTC"),
    "price_move_pct": pl.Float64(),
    "market_move": pl.String(),
    "consensus_prob": pl.Float64(),
    "race_overround": pl.Float64(),
    "market_rank": pl.UInt32(),
}


def market_moves(
    races: pl.DataFrame | pl.LazyFrame,
    runners: pl.DataFrame | pl.LazyFrame,
    runner_odds: pl.DataFrame | pl.LazyFrame,
    *,
    feature_days: pl.Series | tuple[date, date],
) -> pl.DataFrame:
    """One row per declared runner of the races on ``feature_days``: its market before the off (module
    docstring), sorted by date, race and horse."""
    days = target_days(feature_days).implode()
    race_frame = races.lazy().filter(pl.col("race_date").is_in(days)).select("race_id", "race_date", "off_dt")
    declared = (
        runners.lazy()
        .select("race_id", "horse_id", pl.col("is_non_runner").fill_null(False).alias("_non_runner"))
        .join(race_frame, on="race_id", how="inner")
        .with_columns(_runner_key())
    )
    prices = _prices_before_off(runner_odds.lazy(), race_frame)
    opening = (
        prices.filter(pl.col("updated") == pl.col("updated").min().over("_runner"))
        .group_by("_runner")
        .agg(pl.col("decimal").median().alias("early_price"), pl.col("updated").first().alias("early_at"))
    )
    latest = (
        prices.filter(pl.col("updated") == pl.col("updated").max().over("_book"))
        .group_by("_book")
        .agg(
            pl.col("_runner").first(),
            pl.col("decimal").max().alias("_book_late"),
            pl.col("updated").first().alias("_book_late_at"),
        )
        .group_by("_runner")
        .agg(
            pl.len().alias("market_bookmakers"),
            pl.col("_book_late").median().alias("late_price"),
            pl.col("_book_late_at").max().alias("late_at"),
        )
    )
    running = ~pl.col("_non_runner") & pl.col("late_price").is_not_null()
    overround = pl.when(running).then(1 / pl.col("late_price")).sum().over("race_id")
    ratio = pl.col("early_price") / pl.col("late_price")
    return (
        declared.join(opening, on="_runner", how="left")
        .join(latest, on="_runner", how="left")
        .with_columns(
            pl.col("market_bookmakers").fill_null(0),
            (100 * (ratio - 1)).alias("price_move_pct"),
            pl.when(ratio >= MOVE_RATIO)
            .then(pl.lit("steamer"))
            .when(ratio <= 1 / MOVE_RATIO)
            .then(pl.lit("drifter"))
            .when(ratio.is_not_null())
            .then(pl.lit("steady"))
            .alias("market_move"),
            pl.when(running).then(overround).alias("race_overround"),
            pl.when(running).then(pl.col("late_price")).rank("min").over("race_id").alias("market_rank"),
        )
        .with_columns(
            pl.when(running).then((1 / pl.col("late_price")) / pl.col("race_overround")).alias("consensus_prob")
        )
        .select([pl.col(name).cast(dtype) for name, dtype in MARKET_SCHEMA.items()])
        .sort("race_date", "race_id", "horse_id")
        .collect()
    )


def _runner_key() -> pl.Expr:
    """A 64-bit key of (race_id, horse_id): grouping on it is several times faster than on the two strings; with
    ~10⁶ runners the chance that two share a key is ~10⁻⁷."""
    return (pl.col("race_id").hash(19) ^ pl.col("horse_id").hash(23)).alias("_runner")


def _prices_before_off(runner_odds: pl.LazyFrame, races: pl.LazyFrame) -> pl.LazyFrame:
    """Every price — current and from ``history`` — stamped before its race's off with a usable decimal (> 1):
    ``_runner`` (`_runner_key`), ``_book`` (the odds row: one runner × bookmaker), ``decimal``, ``updated``."""
    text = runner_odds.collect_schema()["history"] == pl.String
    # Numbered before the join: the plan below reads `odds` twice, and a join's row order may differ between reads.
    odds = (
        _with_typed_history(runner_odds)
        .with_row_index("_book")
        .join(races.select("race_id", "off_dt"), on="race_id", how="inner")
        .filter(pl.col("horse_id").is_not_null())
        .select("_book", _runner_key(), "off_dt", "decimal", "updated", "history")
    )
    current = odds.select("_book", "_runner", "off_dt", "decimal", "updated")
    earlier = (
        odds.select("_book", "_runner", "off_dt", "history")
        .explode("history")
        .filter(pl.col("history").is_not_null())
        .select(
            "_book",
            "_runner",
            "off_dt",
            pl.col("history").struct.field("decimal").alias("decimal"),
            _as_utc(pl.col("history").struct.field("updated"), text).alias("updated"),
        )
    )
    return (
        pl.concat([current, earlier], how="vertical_relaxed")
        .filter((pl.col("decimal") > 1).fill_null(False), (pl.col("updated") < pl.col("off_dt")).fill_null(False))
        .drop("off_dt")
    )


_HISTORY_ITEMS = pl.List(pl.Struct({"decimal": pl.Float64, "updated": pl.String}))


def _with_typed_history(runner_odds: pl.LazyFrame) -> pl.LazyFrame:
    """``history`` as a list of structs: as typed by the clean layer, or decoded from the JSON text a Postgres
    ``jsonb`` column reads back as (``updated`` then an ISO-8601 string, parsed by `_as_utc`)."""
    if runner_odds.collect_schema()["history"] == pl.String:
        return runner_odds.with_columns(pl.col("history").str.json_decode(_HISTORY_ITEMS))
    return runner_odds



def _as_utc(updated: pl.Expr, text: bool) -> pl.Expr:
    """A history stamp as a UTC instant: typed already, or ISO-8601 text ("2025-10-01T12:05:00+00:00")."""
    return updated.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%:z", time_unit="us", time_zone="UTC") if text else updated
