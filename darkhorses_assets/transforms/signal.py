"""Do the features carry information? Win rate by decile of a feature, and a markdown report of it."""

from __future__ import annotations

import polars as pl

SIGNAL_FEATURES = (
    "horse_win_pct_365d",
    "jockey_win_pct_14d",
    "trainer_win_pct_30d",
    "sire_win_pct",
    "draw_bias_win",
    "speed_last",
    "speed_best",
    "speed_mean3",
)
MARKET_SIGNAL_FEATURES = ("price_move_pct", "consensus_prob")
"""Columns of `market_moves` in the report: a steamer (positive move) should win more often, and so should a
runner the market makes more likely."""


def decile_win_rates(features: pl.DataFrame, outcomes: pl.DataFrame, column: str) -> pl.DataFrame:
    """Win rate per decile of ``column`` (tied values share a decile, so there may be fewer than ten)."""
    scored = features.join(outcomes, on=["race_id", "horse_id"]).filter(pl.col(column).is_not_null())
    decile = (pl.col(column).rank("average") * 10 / (pl.len() + 1)).floor().cast(pl.Int32)
    return (
        scored.with_columns(decile.alias("decile"))
        .group_by("decile")
        .agg(pl.col("won").mean().alias("win_rate"), pl.len())
        .sort("decile")
    )


def monotone_trend(rates: pl.DataFrame) -> float | None:
    """Spearman correlation of decile vs win rate: near 1 when higher deciles win more often."""
    if rates.height < 2:
        return None
    return rates.select(pl.corr("decile", "win_rate", method="spearman")).item()


def signal_report(
    features: pl.DataFrame, outcomes: pl.DataFrame, columns=(*SIGNAL_FEATURES, *MARKET_SIGNAL_FEATURES)
) -> str:
    """Markdown: per feature, the win rate (%) of each decile and the trend."""
    lines = ["| feature | trend (Spearman) | win % by decile (low → high) |", "|---|---|---|"]
    for column in columns:
        if column not in features.columns:
            continue
        rates = decile_win_rates(features, outcomes, column)
        trend = monotone_trend(rates)
        cells = " · ".join(f"{100 * rate:.1f}" for rate in rates["win_rate"])
        lines.append(f"| `{column}` | {'n/a' if trend is None else f'{trend:.2f}'} | {cells} |")
    return "\n".join(lines)
