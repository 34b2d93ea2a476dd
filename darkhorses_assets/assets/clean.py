"""Clean layer: typed, pandera-validated racing tables (`clean` schema) with quarantine and reconciliation.

One step parses a range of race days once and writes every clean table of those days: races, runners,
results, non_runners, runner_odds and the quarantine. Logic lives in `darkhorses_assets.transforms.clean_layer`.
"""

from dagster import (
    AssetCheckResult,
    AssetExecutionContext,
    AssetIn,
    AssetOut,
    BackfillPolicy,
    MetadataValue,
    Output,
    multi_asset,
)

from darkhorses_assets.assets.keys import OWNERS, clean_key, raw_key
from darkhorses_assets.checks import check_results_for, check_specs_for
from darkhorses_assets.partitions import race_day_window, race_days
from darkhorses_assets.transforms.clean_layer import clean_race_days

DAYS_PER_RUN = 92
"""A clean backfill parses a quarter per run: one year of racecard JSON is ≈ 600 MB (4.7 GB peak to parse in
one run), so a 10-year range in one run would not fit in memory; a year cut into quarters peaked at 2.1 GB
(bench/clean.py --days 365)."""
RAW_COLUMNS = ["race_id", "race_date", "payload"]
DESCRIPTIONS = {
    "races": "One row per race: racecard and result fields merged (each source fills its own columns); "
             "a race seen only in racecards or only in results is still a race. Pro cards add the tip, the "
             "verdict and the betting forecast (text and typed prices).",
    "runners": "Declared runners, one row per race_id × horse_id: number, draw, weight, ratings, jockey, "
               "trainer, owner, pedigree ids — as on the racecard — and the pro card's analysis: trainer's "
               "14-day form and RTF, comment, spotlight, headgear / wind-surgery runs, past-results flags, and "
               "quotes, stable tour, medical history, previous trainers and owners as typed JSON lists.",
    "results": "One row per finishing or non-finishing runner: finish_position / finish_status, dead heats, "
               "beaten lengths, SP as a decimal, finishing time, prize.",
    "non_runners": "Horses withdrawn from a race, with the reason given in the result.",
    "runner_odds": "Bookmaker odds per runner from the pro racecards (fractional text kept, decimal parsed), "
                   "with each bookmaker's earlier prices as a typed `history` list.",
    "quarantine": "Rows that broke a hard rule: source table, key, every reason and the raw JSON fragment. "
                  "Nothing is dropped silently.",
}
VALIDATED_TABLES = {  # asset → the validated tables its checks cover (its own table last)
    "races": ("racecard_races", "result_races", "races"),
    "runners": ("runners",),
    "results": ("results",),
    "non_runners": ("non_runners",),
    "runner_odds": ("runner_odds",),
}


@multi_asset(
    name="clean_race_days",
    outs={
        name: AssetOut(
            key=clean_key(name), description=description, group_name="clean", owners=OWNERS,
            kinds={"polars", "postgres"}, metadata={"partition_expr": "race_date"},
        )
        for name, description in DESCRIPTIONS.items()
    },
    ins={
        "raw_racecards": AssetIn(key=raw_key("raw_racecards"), metadata={"columns": RAW_COLUMNS}),
        "raw_results": AssetIn(key=raw_key("raw_results"), metadata={
            "columns": RAW_COLUMNS,
            "schema_if_missing": {"race_id": "String", "race_date": "Date", "payload": "String"},
        }),
    },
    check_specs=[
        spec for asset_name in VALIDATED_TABLES for spec in check_specs_for(clean_key(asset_name), asset_name)
    ],
    partitions_def=race_days,
    backfill_policy=BackfillPolicy.multi_run(max_partitions_per_run=DAYS_PER_RUN),
)
def clean_race_days_asset(context: AssetExecutionContext, raw_racecards, raw_results):
    """Parse the raw racecards and results of the partition range, validate every row, quarantine the rest."""
    partition_range = race_day_window(context).label
    cleaned = clean_race_days(raw_racecards, raw_results)
    for name in VALIDATED_TABLES:
        frame = cleaned.tables[name]
        quarantined = sum(cleaned.validations[t].quarantined.height for t in VALIDATED_TABLES[name])
        yield Output(frame, output_name=name, metadata={
            "partition_range": partition_range,
            "quarantined_rows": MetadataValue.int(quarantined),
        })
    yield Output(cleaned.quarantine, output_name="quarantine", metadata={
        "partition_range": partition_range,
        "by_table": MetadataValue.json(
            {t: v.quarantined.height for t, v in cleaned.validations.items()}
        ),
    })
    for asset_name, tables in VALIDATED_TABLES.items():
        results: list[AssetCheckResult] = check_results_for(
            [cleaned.validations[t] for t in tables], asset_name, partition_range, clean_key(asset_name),
            reconciliation=[cleaned.reconciliations[t] for t in tables],
        )
        yield from results


from darkhorses_assets.column_schemas import with_column_schemas  # noqa: E402

clean_assets = with_column_schemas([clean_race_days_asset])
