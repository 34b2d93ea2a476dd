"""Features layer (`features` schema): point-in-time runner features, outcomes, entity statistics, signal.

A feature row for a race on day D only sees results strictly before D: the results input ends at D−1 by
partition mapping and `runner_features` computes every day of a range as of itself.
"""


import polars as pl
from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetIn,
    AssetKey,
    AssetOut,
    BackfillPolicy,
    MetadataValue,
    Output,
    TimeWindowPartitionMapping,
    asset,
    multi_asset,
)

from darkhorses_assets.assets.keys import OWNERS, clean_key, features_key
from darkhorses_assets.checks import check_results_for, check_specs_for
from darkhorses_assets.column_schemas import with_column_schemas
from darkhorses_assets.partitions import race_day_window, race_days
from darkhorses_assets.schemas.validation import validate
from darkhorses_assets.transforms import stats
from darkhorses_assets.transforms.features import FEATURE_INPUT_COLUMNS
from darkhorses_assets.transforms.features import race_outcomes as outcomes_of
from darkhorses_assets.transforms.features import runner_features as features_of
from darkhorses_assets.transforms.market import MARKET_INPUT_COLUMNS
from darkhorses_assets.transforms.market import market_moves as market_moves_of
from darkhorses_assets.transforms.signal import (
    MARKET_SIGNAL_FEATURES,
    SIGNAL_FEATURES,
    decile_win_rates,
    signal_report,
)
from darkhorses_assets.transforms.speed import SPEED_INPUT_COLUMNS
from darkhorses_assets.transforms.speed import speed_figures as speed_figures_of

LIFETIME_DAYS = 40_000
"""History reaches back to the first partition: "lifetime" means since the first race day loaded."""
HISTORY_BEFORE = TimeWindowPartitionMapping(start_offset=-LIFETIME_DAYS, end_offset=-1,
                                            allow_nonexistent_upstream_partitions=True)
HISTORY_THROUGH = TimeWindowPartitionMapping(start_offset=-LIFETIME_DAYS, end_offset=0,
                                             allow_nonexistent_upstream_partitions=True)
HISTORY_INS = {
    "races": AssetIn(key=clean_key("races"), metadata={"columns": list(stats.HISTORY_RACE_COLUMNS)}),
    "results": AssetIn(key=clean_key("results"), metadata={"columns": list(stats.HISTORY_RESULT_COLUMNS)}),
}
"""Race-outcome and statistics inputs: the columns of clean races / results that `run_events` reads."""
FEATURES_KEY = features_key("runner_features")
OUTCOMES_KEY = features_key("race_outcomes")
MARKET_KEY = features_key("market_moves")
MARKET_DAYS_PER_RUN = 366
SPEED_KEY = features_key("speed_figures")
RACE_DAY_FEATURE_ASSET = dict(
    group_name="features",
    owners=OWNERS,
    kinds={"polars", "postgres"},
    partitions_def=race_days,
    metadata={"partition_expr": "race_date"},
)
"""What every daily feature asset shares: layer, owners, kinds, race-day partitions stored by `race_date`."""


def _validated(frame: pl.DataFrame, table: str, partition_range: str, key: AssetKey):
    """The frame's valid rows and its checks (`checks.check_results_for`, the clean tables' machinery)."""
    validation = validate(frame, table)
    return validation.valid, check_results_for(validation, table, partition_range, key, derived=True)


@asset(
    key=FEATURES_KEY,
    **RACE_DAY_FEATURE_ASSET,
    backfill_policy=BackfillPolicy.single_run(),
    ins={
        "races": AssetIn(key=clean_key("races"), partition_mapping=HISTORY_THROUGH,
                         metadata={"columns": list(FEATURE_INPUT_COLUMNS["races"])}),
        # Same day only: history results already carry their declared ids (clean_layer fills a missing one from
        # the same day's racecard), and a runners input through the range would let any never-loaded old
        # partition hold today's features back in automation.
        "runners": AssetIn(key=clean_key("runners"), metadata={"columns": list(FEATURE_INPUT_COLUMNS["runners"])}),
        "results": AssetIn(key=clean_key("results"), partition_mapping=HISTORY_BEFORE,
                           metadata={"columns": list(FEATURE_INPUT_COLUMNS["results"])}),
    },
    check_specs=[
        *check_specs_for(FEATURES_KEY, "runner_features", derived=True),
        AssetCheckSpec("races_exist", asset=FEATURES_KEY, blocking=True,
                       description="Every declared runner of the partition(s) refers to a race in clean races "
                                    "(none is left without features)."),
    ],
)
def runner_features(context: AssetExecutionContext, races: pl.DataFrame, runners: pl.DataFrame,
                    results: pl.DataFrame):
    """Point-in-time features of every declared runner: horse form, jockey/trainer/owner strike rates and A/E,
    pedigree progeny rates, race context — from results strictly before the race date. Labels live in
    `race_outcomes`."""
    window = race_day_window(context)
    frame = features_of(races, runners, results, feature_days=(window.first, window.last))
    partition_range = window.label
    # Checked on the declared runners, not on `frame`: features are built by joining runners to races, so a
    # runner whose race is missing would vanish from `frame` instead of showing up as an orphan.
    in_window = runners.filter(pl.col("race_date").is_between(window.first, window.last))
    orphan_rows = in_window.join(races.select("race_id"), on="race_id", how="anti")
    orphans = orphan_rows.height
    frame, checks = _validated(frame, "runner_features", partition_range, FEATURES_KEY)
    yield Output(frame, metadata={"partition_range": partition_range,
                                  "history_results": MetadataValue.int(results.height),
                                  "first_time_runners": MetadataValue.int(
                                      int((frame["horse_runs"] == 0).sum()) if frame.height else 0)})
    yield from checks
    yield AssetCheckResult(check_name="races_exist", passed=orphans == 0,
                           metadata={"partition_range": partition_range, "orphan_rows": orphans,
                                     "orphan_examples": MetadataValue.json(
                                         orphan_rows.select("race_id", "horse_id").head(10).to_dicts())})


@asset(
    key=OUTCOMES_KEY,
    **RACE_DAY_FEATURE_ASSET,
    backfill_policy=BackfillPolicy.single_run(),
    ins=HISTORY_INS,
    check_specs=check_specs_for(OUTCOMES_KEY, "race_outcomes", derived=True),
)
def race_outcomes(context: AssetExecutionContext, races: pl.DataFrame, results: pl.DataFrame):
    """Labels to model against (kept apart from features so they are joined knowingly): finish position and
    status, won, placed (top 3), each-way placed (UK terms), SP."""
    window = race_day_window(context)
    partition_range = window.label
    outcomes = outcomes_of(races, results, (window.first, window.last))
    frame, checks = _validated(outcomes, "race_outcomes", partition_range, OUTCOMES_KEY)
    yield Output(frame, metadata={"partition_range": partition_range,
                                  "winners": MetadataValue.int(int(frame["won"].sum()) if frame.height else 0)})
    yield from checks


@asset(
    key=MARKET_KEY,
    **RACE_DAY_FEATURE_ASSET,
    # A race's market is its own (no history input), so a backfill runs a year at a time: a year of odds
    # (≈ 0.8M prices with their history) fits in memory, and 40 quarter runs cost ≈ 2.5 s each of run overhead.
    backfill_policy=BackfillPolicy.multi_run(MARKET_DAYS_PER_RUN),
    ins={name: AssetIn(key=clean_key(name), metadata={"columns": list(columns)})
         for name, columns in MARKET_INPUT_COLUMNS.items()},
    check_specs=check_specs_for(MARKET_KEY, "market_moves", derived=True),
)
def market_moves(context: AssetExecutionContext, races: pl.DataFrame, runners: pl.DataFrame,
                 runner_odds: pl.DataFrame):
    """The betting market before the off, per declared runner: opening and latest show (bookmakers' current prices
    and their odds history, only prices stamped before the off), the move between them (steamer / drifter), the
    consensus probability, the race's over-round and the runner's market rank."""
    window = race_day_window(context)
    frame = market_moves_of(races, runners, runner_odds, feature_days=(window.first, window.last))
    frame, checks = _validated(frame, "market_moves", window.label, MARKET_KEY)
    moves = frame["market_move"].value_counts() if frame.height else pl.DataFrame({"market_move": [], "count": []})
    yield Output(frame, metadata={"partition_range": window.label,
                                  "priced_runners": MetadataValue.int(int((frame["market_bookmakers"] > 0).sum())),
                                  **{f"{move}s": MetadataValue.int(count) for move, count in moves.iter_rows()
                                     if move is not None}})
    yield from checks


@asset(
    key=SPEED_KEY,
    **RACE_DAY_FEATURE_ASSET,
    backfill_policy=BackfillPolicy.single_run(),
    ins={
        # Standards come from earlier races' winning times: races through the range; results of the days only.
        "races": AssetIn(key=clean_key("races"), partition_mapping=HISTORY_THROUGH,
                         metadata={"columns": list(SPEED_INPUT_COLUMNS["races"])}),
        "results": AssetIn(key=clean_key("results"), metadata={"columns": list(SPEED_INPUT_COLUMNS["results"])}),
    },
    check_specs=check_specs_for(SPEED_KEY, "speed_figures", derived=True),
)
def speed_figures(context: AssetExecutionContext, races: pl.DataFrame, results: pl.DataFrame):
    """Speed figure of every result: the runner's time (winning time + beaten lengths in seconds) against the
    standard time of the course × type × surface × distance (median of the last 20 earlier winners, class- and
    going-corrected; null under 5 earlier races) and the meeting's going allowance, in lbs (`transforms.speed`)."""
    window = race_day_window(context)
    frame = speed_figures_of(races, results, figure_days=(window.first, window.last))
    frame, checks = _validated(frame, "speed_figures", window.label, SPEED_KEY)
    yield Output(frame, metadata={"partition_range": window.label,
                                  "figures": MetadataValue.int(int(frame["speed_figure"].is_not_null().sum()))})
    yield from checks


STATS = {
    "jockey_stats": stats.jockey_stats, "trainer_stats": stats.trainer_stats, "owner_stats": stats.owner_stats,
    "horse_stats": stats.horse_stats, "sire_stats": stats.sire_stats, "dam_stats": stats.dam_stats,
    "damsire_stats": stats.damsire_stats,
}


@multi_asset(
    name="entity_statistics",
    outs={
        name: AssetOut(key=features_key(name), group_name="statistics", owners=OWNERS,
                       kinds={"polars", "postgres"},
                       description=f"{name.split('_')[0].title()} statistics as of the latest resulted race day: "
                                   "runs, wins, places, win%/place%, A/E, 14/30/365-day windows, last run/win.")
        for name in STATS
    },
    ins=HISTORY_INS,
    check_specs=[spec for name in STATS for spec in check_specs_for(features_key(name), name, derived=True)],
)
def entity_statistics(context: AssetExecutionContext, races: pl.DataFrame, results: pl.DataFrame):
    """Every entity statistic, rebuilt as of the latest race day with results."""
    resulted = races.filter(pl.col("has_result"))["race_date"]
    if resulted.is_empty():
        raise ValueError("no resulted races in clean races yet: materialize raw_results and clean races first")
    as_of = resulted.max()
    checks = []
    for name, compute in STATS.items():
        frame, table_checks = _validated(compute(races, results, as_of), name, f"as of {as_of}", features_key(name))
        checks += table_checks
        yield Output(frame, output_name=name, metadata={"as_of": str(as_of), "entities": frame.height})
    yield from checks


@asset(
    key=features_key("feature_signal"),
    group_name="features",
    owners=OWNERS,
    kinds={"polars", "postgres"},
    ins={
        "runner_features": AssetIn(key=FEATURES_KEY,
                                   metadata={"columns": ["race_id", "horse_id", *SIGNAL_FEATURES]}),
        "race_outcomes": AssetIn(key=OUTCOMES_KEY, metadata={"columns": ["race_id", "horse_id", "won"]}),
        "market_moves": AssetIn(key=MARKET_KEY, metadata={
            "columns": ["race_id", "horse_id", *MARKET_SIGNAL_FEATURES],
            "schema_if_missing": {"race_id": "String", "horse_id": "String",
                                  **dict.fromkeys(MARKET_SIGNAL_FEATURES, "Float64")}}),
    },
)
def feature_signal(runner_features: pl.DataFrame, race_outcomes: pl.DataFrame,
                   market_moves: pl.DataFrame) -> Output[pl.DataFrame]:
    """Do the features carry information? Win rate by decile of key form features and market moves, as a markdown
    table."""
    runner_features = runner_features.join(market_moves, on=["race_id", "horse_id"], how="left")
    report = signal_report(runner_features, race_outcomes)
    frame = pl.concat([
        decile_win_rates(runner_features, race_outcomes, column).with_columns(pl.lit(column).alias("feature"))
        for column in (*SIGNAL_FEATURES, *MARKET_SIGNAL_FEATURES) if column in runner_features.columns
    ]) if runner_features.height else pl.DataFrame(schema={"decile": pl.Int32, "win_rate": pl.Float64,
                                                           "len": pl.UInt32, "feature": pl.Utf8})
    return Output(frame, metadata={"signal": MetadataValue.md(report)})


feature_assets = with_column_schemas([runner_features, race_outcomes, market_moves, speed_figures,
                                      entity_statistics, feature_signal])
