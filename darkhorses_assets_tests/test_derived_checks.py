"""Feature and statistics tables go through the clean tables' validation and checks, and each rule can fail."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest

from darkhorses_assets.checks import HARD_RULES, SOFT_RULES, check_name, check_results_for
from darkhorses_assets.schemas import TABLES
from darkhorses_assets.schemas.features import STATISTICS_ENTITIES
from darkhorses_assets.schemas.validation import validate
from darkhorses_assets.transforms import stats
from darkhorses_assets.transforms.features import race_outcomes, runner_features
from darkhorses_assets.transforms.market import market_moves
from darkhorses_assets.transforms.speed import speed_figures
from darkhorses_assets_tests.synthetic import synthetic_history, synthetic_odds

DERIVED = sorted(name for name, spec in TABLES.items() if spec.derived)


@pytest.fixture(scope="module")
def derived_frames() -> dict[str, pl.DataFrame]:
    races, runners, results = synthetic_history(years=1, seed=3)
    last = races["race_date"].max()
    days = (last - timedelta(days=6), last)
    return {
        "runner_features": runner_features(races, runners, results, feature_days=days),
        "race_outcomes": race_outcomes(races, results, days),
        "market_moves": market_moves(races, runners, synthetic_odds(races, runners, results, 3), feature_days=days),
        "speed_figures": speed_figures(races, results, figure_days=days),
        **{name: getattr(stats, name)(races, results, last) for name in STATISTICS_ENTITIES},
    }


def test_every_derived_table_is_registered():
    assert DERIVED == sorted(["runner_features", "race_outcomes", "market_moves", "speed_figures",
                              *STATISTICS_ENTITIES])


def results_of(frame: pl.DataFrame, table: str) -> dict[str, object]:
    validation = validate(frame, table)
    return {result.check_name: result for result in check_results_for(validation, table, "x", ["features", table],
                                                                       derived=True)}


@pytest.mark.parametrize("table", DERIVED)
def test_real_derived_frames_pass_every_rule(derived_frames, table):
    frame = derived_frames[table]
    assert frame.height > 0
    checks = results_of(frame, table)
    assert checks[check_name(table, HARD_RULES)].passed
    assert checks[check_name(table, SOFT_RULES)].passed, checks[check_name(table, SOFT_RULES)].metadata


@pytest.mark.parametrize("table", DERIVED)
def test_a_duplicated_or_keyless_row_fails_the_blocking_check_and_is_not_hidden(derived_frames, table):
    frame = derived_frames[table]
    key = TABLES[table].key[0]
    doubled = pl.concat([frame, frame.head(1)])  # an exact copy: collapsed for clean tables, a bug here
    keyless = frame.with_columns(pl.when(pl.int_range(pl.len()) == 0).then(None).otherwise(pl.col(key)).alias(key))
    for broken in (doubled, keyless):
        hard = results_of(broken, table)[check_name(table, HARD_RULES)]
        assert not hard.passed
        assert hard.metadata["rows_failing_hard_rules"].value >= 1


@pytest.mark.parametrize(("table", "column", "value", "rule"), [
    ("runner_features", "jockey_win_pct_30d", 101.0, "jockey_win_pct_30d:in_range(0, 100)"),
    ("runner_features", "horse_runs", -1, "horse_runs:greater_than_or_equal_to(0)"),
    ("runner_features", "field_size", 0, "field_size:in_range(1, 40)"),
    ("race_outcomes", "sp_decimal", 0.5, "sp_decimal:greater_than(1)"),
    ("race_outcomes", "placed", False, "winners_are_placed"),
    ("market_moves", "consensus_prob", 1.5, "consensus_prob:in_range(0, 1)"),
    ("market_moves", "race_overround", 3.0, "race_overround:in_range(0.75, 2.0)"),
    ("market_moves", "late_price", 1.0, "late_price:in_range(1, 1001)"),
    ("runner_features", "speed_last", -400.0, "speed_last:in_range(-150, 200)"),
    ("speed_figures", "speed_figure", -400.0, "speed_figure:in_range(-150, 200)"),
    ("speed_figures", "going_allowance_s_per_f", 4.0, "going_allowance_s_per_f:in_range(-1.5, 2.5)"),
    ("speed_figures", "seconds_per_length", 1.0, "seconds_per_length:in_range(0.1, 0.3)"),
    ("speed_figures", "standard_time_s", 5.0, "standard_time_s:in_range(40, 700)"),
    ("jockey_stats", "win_pct_30d", 150.0, "^(win|place)_pct(_.*)?$:in_range(0, 100)"),
    ("sire_stats", "ae_class_3", -0.5, "^ae(_.*)?$:greater_than_or_equal_to(0)"),
    ("trainer_stats", "wins", 10_000, "wins_within_runs"),
])  # fmt: skip
def test_each_soft_rule_fails_on_an_implausible_value(derived_frames, table, column, value, rule):
    frame = derived_frames[table]
    where = (pl.col("won") if rule == "winners_are_placed"
             else pl.col("speed_figure").is_not_null() if table == "speed_figures" else pl.lit(True))  # fmt: skip
    first = frame.with_row_index("_i").filter(where)["_i"][0]
    broken = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == first).then(pl.lit(value)).otherwise(pl.col(column))
        .cast(frame.schema[column]).alias(column)
    )
    validation = validate(broken, table)
    assert validation.quarantined.is_empty()
    assert {r.name: r.failing_rows for r in validation.soft_rules if r.failing_rows} == {rule: 1}
    assert not results_of(broken, table)[check_name(table, SOFT_RULES)].passed


@pytest.mark.parametrize(("column", "value", "rule"), [
    ("market_move", "sideways", "market_move:isin(['steamer', 'drifter', 'steady'])"),
    ("early_at", None, "opening_before_latest"),
])  # fmt: skip
def test_market_moves_hard_rules_fail_on_a_broken_row(derived_frames, column, value, rule):
    frame = derived_frames["market_moves"]
    first = frame.with_row_index("_i").filter(pl.col("early_at").is_not_null())["_i"][0]
    broken_value = (pl.col("late_at") + timedelta(minutes=5)) if rule == "opening_before_latest" else pl.lit(value)
    broken = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == first).then(broken_value).otherwise(pl.col(column))
        .cast(frame.schema[column]).alias(column)
    )
    hard = results_of(broken, "market_moves")[check_name("market_moves", HARD_RULES)]
    assert not hard.passed
    assert hard.metadata["rows_failing_hard_rules"].value == 1
