"""market_moves: agreement with a brute-force reference, only prices stamped before the off, each day alone, and
signal on the simulator's world (its markets move toward the winner)."""

from __future__ import annotations

import math
import random
import statistics
from collections import defaultdict
from datetime import date, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from darkhorses_assets.transforms.market import MARKET_SCHEMA, MOVE_RATIO, market_moves
from darkhorses_assets.transforms.racecards import RUNNER_ODDS_SCHEMA
from darkhorses_assets_tests.synthetic import synthetic_history

FIRST, LAST = date(2015, 3, 1), date(2015, 3, 3)
LADDER = (1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0, 6.0, 8.0, 11.0, 17.0, 26.0, 51.0)
"""1.0 is not a usable price (nothing to win): ignored like a missing decimal."""


def random_odds(races: pl.DataFrame, runners: pl.DataFrame, seed: int) -> pl.DataFrame:
    """Messy odds for every declared runner of [FIRST − 1 day, LAST + 1 day]: 0–6 bookmakers, current prices
    stamped from hours before the off to after it, 0–3 history items (some after the off, some without a price),
    shared stamps (ties), and prices for non-runners too."""
    rng = random.Random(seed)
    off = dict(races.select("race_id", "off_dt").iter_rows())
    rows = []
    minutes = (-900, -300, -120, -60, -30, -5, -1, 0, 1, 30)
    for race_id, horse_id, race_date in runners.select("race_id", "horse_id", "race_date").iter_rows():
        if not FIRST - timedelta(days=1) <= race_date <= LAST + timedelta(days=1):
            continue
        for book in range(rng.randrange(7)):
            history = [
                {"fractional": None, "decimal": rng.choice((*LADDER, None)),
                 "updated": off[race_id] + timedelta(minutes=rng.choice(minutes))}
                for _ in range(rng.randrange(4))
            ]  # fmt: skip
            rows.append({"race_id": race_id, "horse_id": horse_id, "race_date": race_date, "bookmaker": f"bk{book}",
                         "decimal": rng.choice((*LADDER, None)),
                         "updated": off[race_id] + timedelta(minutes=rng.choice(minutes)),
                         "history": history})  # fmt: skip
    columns = ("race_id", "horse_id", "race_date", "bookmaker", "decimal", "updated", "history")
    return pl.DataFrame(rows, schema={k: RUNNER_ODDS_SCHEMA[k] for k in columns})


@pytest.fixture(scope="module")
def inputs():
    races, runners, _ = synthetic_history(1, 3)
    window = pl.col("race_date").is_between(FIRST - timedelta(days=1), LAST + timedelta(days=1))
    races, runners = races.filter(window), runners.filter(window)
    rng = random.Random(4)
    runners = runners.with_columns(pl.Series("is_non_runner", [rng.random() < 0.08 for _ in range(runners.height)]))
    return races, runners, random_odds(races, runners, 9)


@pytest.fixture(scope="module")
def moves(inputs):
    return market_moves(*inputs, feature_days=(FIRST, LAST))


# ---------------------------------------------------------------------------------------------------------
# Brute force: plain Python over one dict per odds row
# ---------------------------------------------------------------------------------------------------------


def reference(races: pl.DataFrame, runners: pl.DataFrame, odds: pl.DataFrame) -> dict[tuple, dict]:
    race_by_id = {r["race_id"]: r for r in races.to_dicts() if FIRST <= r["race_date"] <= LAST}
    books = defaultdict(list)
    for row in odds.to_dicts():
        race = race_by_id.get(row["race_id"])
        if race is None:
            continue
        prices = [(row["decimal"], row["updated"])] + [(h["decimal"], h["updated"]) for h in row["history"]]
        usable = [(d, u) for d, u in prices if d is not None and d > 1 and u is not None and u < race["off_dt"]]
        if usable:
            books[(row["race_id"], row["horse_id"])].append(usable)
    expected = {}
    for runner in runners.to_dicts():
        race = race_by_id.get(runner["race_id"])
        if race is None:
            continue
        key = (runner["race_id"], runner["horse_id"])
        row = {"race_date": race["race_date"], "non_runner": runner["is_non_runner"], "market_bookmakers": 0,
               **dict.fromkeys(("early_price", "early_at", "late_price", "late_at", "price_move_pct", "market_move",
                                "consensus_prob", "race_overround", "market_rank"))}  # fmt: skip
        if key in books:
            every = [p for book in books[key] for p in book]
            first = min(u for _, u in every)
            latest = []
            for book in books[key]:
                last = max(u for _, u in book)
                latest.append((max(d for d, u in book if u == last), last))
            early = statistics.median(d for d, u in every if u == first)
            late = statistics.median(d for d, _ in latest)
            ratio = early / late
            move = "steamer" if ratio >= MOVE_RATIO else "drifter" if ratio <= 1 / MOVE_RATIO else "steady"
            row.update(market_bookmakers=len(books[key]), early_price=early, early_at=first, late_price=late,
                       late_at=max(u for _, u in latest), price_move_pct=100 * (ratio - 1),
                       market_move=move)  # fmt: skip
        expected[key] = row
    by_race = defaultdict(list)
    for (race_id, _), row in expected.items():
        if not row["non_runner"] and row["late_price"] is not None:
            by_race[race_id].append(row)
    for field in by_race.values():
        book = sum(1 / r["late_price"] for r in field)
        for r in field:
            r["race_overround"] = book
            r["consensus_prob"] = (1 / r["late_price"]) / book
            r["market_rank"] = 1 + sum(other["late_price"] < r["late_price"] for other in field)
    return expected


def test_market_moves_match_a_brute_force_reference(inputs, moves):
    expected = reference(*inputs)
    assert moves.height == len(expected) > 300
    assert moves.columns == list(MARKET_SCHEMA)
    mismatches = []
    for got in moves.to_dicts():
        want = expected[(got["race_id"], got["horse_id"])]
        for column in MARKET_SCHEMA:
            if column in ("race_id", "horse_id"):
                continue
            a, b = got[column], want[column]
            same = a == b or (isinstance(a, float) and b is not None and math.isclose(a, b, rel_tol=1e-12))
            if not same:
                mismatches.append((got["race_id"], got["horse_id"], column, a, b))
    assert not mismatches, mismatches[:20]
    kinds = set(moves["market_move"].drop_nulls())
    assert kinds == {"steamer", "drifter", "steady"}, kinds
    assert moves["market_bookmakers"].min() == 0 and moves["market_rank"].max() > 3


# ---------------------------------------------------------------------------------------------------------
# Point in time
# ---------------------------------------------------------------------------------------------------------


def test_prices_stamped_at_or_after_the_off_and_later_days_change_nothing(inputs, moves):
    races, runners, odds = inputs
    off = races.select("race_id", "off_dt")
    after = pl.col("off_dt") + pl.duration(minutes=pl.col("race_id").str.len_chars())  # at or after the off
    junk_item = pl.struct(pl.lit("1/9").alias("fractional"), pl.lit(1.11).alias("decimal"), after.alias("updated"))
    late_history = (
        odds.join(off, on="race_id")
        .with_columns(pl.concat_list("history", pl.concat_list(junk_item)).alias("history"))
        .drop("off_dt")
    )
    late_current = (
        odds.join(off, on="race_id")
        .with_columns(pl.lit(99.0).alias("decimal"), after.alias("updated"), pl.lit([]).alias("history"))
        .with_columns(pl.col("bookmaker") + "_late")
        .drop("off_dt")
        .cast(odds.schema)
    )
    later_day = pl.col("race_date") > LAST
    rewritten_later = odds.with_columns(pl.when(later_day).then(2.0).otherwise(pl.col("decimal")).alias("decimal"))
    dropped_later = odds.filter(~later_day)
    for variant in (late_history.cast(odds.schema), pl.concat([odds, late_current]), rewritten_later, dropped_later):
        assert_frame_equal(market_moves(races, runners, variant, feature_days=(FIRST, LAST)), moves)
    later_races = races.with_columns(
        pl.when(later_day).then(pl.col("off_dt") - timedelta(days=3)).otherwise(pl.col("off_dt")).alias("off_dt")
    )
    assert_frame_equal(market_moves(later_races, runners, odds, feature_days=(FIRST, LAST)), moves)


def test_a_range_equals_each_day_computed_alone(inputs, moves):
    days = pl.date_range(FIRST, LAST, eager=True)
    one_by_one = pl.concat([market_moves(*inputs, feature_days=(d, d)) for d in days])
    assert_frame_equal(one_by_one, moves)


def test_no_odds_at_all(inputs):
    races, runners, odds = inputs
    empty = market_moves(races, runners, odds.clear(), feature_days=(FIRST, LAST))
    assert empty.height > 0 and (empty["market_bookmakers"] == 0).all() and empty["late_price"].is_null().all()


# ---------------------------------------------------------------------------------------------------------
# Signal on the simulator's world
# ---------------------------------------------------------------------------------------------------------


def test_the_simulators_markets_move_toward_the_winner():
    """Simulated cards and results of 12 days: a steamer wins more often than a drifter, the win rate rises with
    the price move and with the consensus probability, and some bookmakers' odds carry a history."""
    from darkhorses_assets.racing_api.simulator.payloads import Payloads
    from darkhorses_assets.racing_api.simulator.world import World
    from darkhorses_assets.transforms.racecards import parse_racecards
    from darkhorses_assets.transforms.races import merge_races
    from darkhorses_assets.transforms.results import parse_results
    from darkhorses_assets.transforms.signal import decile_win_rates, monotone_trend

    world, today = World(7), date(2025, 11, 1)
    payloads = Payloads(world, today)
    days = [today - timedelta(days=back) for back in range(1, 13)]
    cards = parse_racecards([payloads.racecard(race) for day in days for race in world.races_on(day)])
    results = parse_results([payloads.result(race) for day in days for race in world.races_on(day)
                             if not race.abandoned])  # fmt: skip
    assert (cards.runner_odds["history"].list.len() > 0).mean() > 0.3
    moves = market_moves(merge_races(cards.races, results.races), cards.runners, cards.runner_odds,
                         feature_days=(min(days), max(days)))  # fmt: skip
    won = results.results.select("race_id", "horse_id", (pl.col("finish_position") == 1).alias("won"))
    by_move = dict(moves.join(won, on=["race_id", "horse_id"]).group_by("market_move").agg(pl.col("won").mean())
                   .iter_rows())  # fmt: skip
    assert by_move["steamer"] > 2 * by_move["drifter"], by_move
    for column in ("price_move_pct", "consensus_prob"):
        rates = decile_win_rates(moves, won, column)
        assert monotone_trend(rates) > 0.8, (column, rates)


def test_history_read_back_from_postgres_as_json_text_gives_the_same_moves(inputs, moves):
    """A `jsonb` column reads back as JSON text (keys reordered, timestamps ISO-8601 with an offset)."""
    races, runners, odds = inputs
    item = pl.element().struct
    as_text = odds.with_columns(
        pl.col("history").list.eval(
            pl.concat_str(
                pl.lit('{"updated": "'),
                item.field("updated").dt.convert_time_zone("Europe/London").dt.strftime("%Y-%m-%dT%H:%M:%S%:z"),
                pl.lit('", "decimal": '),
                pl.when(item.field("decimal").is_null()).then(pl.lit("null"))
                .otherwise(item.field("decimal").cast(pl.String)),
                pl.lit(', "fractional": null}'),
            )
        ).list.join(", ").map_elements(lambda text: f"[{text}]", return_dtype=pl.String).alias("history")
    )  # fmt: skip
    assert as_text.schema["history"] == pl.String
    assert_frame_equal(market_moves(races, runners, as_text, feature_days=(FIRST, LAST)), moves)
