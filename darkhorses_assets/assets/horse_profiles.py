"""Horse pro profiles: fetched once per horse within a per-run request budget (raw), then parsed and validated.

`raw/raw_horse_profiles` grows by increments: each run asks `/v1/horses/{id}/pro` for at most
`max_requests` horses of the `horses` dimension that have no stored answer yet (most recently seen first) and
upserts those rows only. A horse with a stored profile, or one the API answered 404 for, is never asked
again; an unreadable answer is retried by the next run. An API outage mid-run keeps what was fetched; an
error no retry can help (401/403, an unreachable RACING_API_BASE_URL, a malformed DARKHORSES_DATABASE_URL)
fails with `allow_retries=False`.
"""

from datetime import UTC, datetime

import polars as pl
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetIn,
    AssetOut,
    Config,
    Failure,
    MetadataValue,
    Output,
    asset,
    multi_asset,
)
from pydantic import Field

from darkhorses_assets.assets.keys import OWNERS, clean_key, raw_key
from darkhorses_assets.assets.raw import RACING_API_POOL
from darkhorses_assets.checks import check_results_for, check_specs_for
from darkhorses_assets.column_schemas import with_column_schemas
from darkhorses_assets.fail_fast import fail_fast, is_retryable
from darkhorses_assets.io.warehouse import WarehouseResource
from darkhorses_assets.racing_api.client import RacingApiResource
from darkhorses_assets.schemas.validation import reconcile, validate
from darkhorses_assets.transforms.horses import horses_to_profile, parse_horse_profiles
from darkhorses_assets.transforms.raw_rows import JSON_COLUMNS, NOT_FOUND, horse_profile_rows

GROUP = "horse_profiles"
"""Its own group, after `dimensions`: `raw_horse_profiles` reads the horses dimension, so in `raw` it would draw
the group graph backwards (dimensions left of raw)."""

RAW_PROFILES_KEY = raw_key("raw_horse_profiles")
TABLE = "horse_profiles"
DEFAULT_MAX_REQUESTS = 1800
"""Fifteen minutes of the API's 2 requests/s: about a season's new horses per run, in a bounded time."""


class HorseProfileBudget(Config):
    max_requests: int = Field(
        default=DEFAULT_MAX_REQUESTS, ge=0,
        description="Most profile requests this run may send (one per new horse; the API allows 2 per second).",
    )


def _answered(stored: pl.DataFrame | None) -> pl.Series:
    """Horses with a stored answer that needs no second request: a profile, or the API's 404."""
    if stored is None:
        return pl.Series("horse_id", [], pl.Utf8)
    return stored.filter(pl.col("payload").is_not_null() | (pl.col("status") == NOT_FOUND))["horse_id"]


@asset(
    key=RAW_PROFILES_KEY,
    group_name=GROUP,
    owners=OWNERS,
    kinds={"python", "postgres"},
    pool=RACING_API_POOL,
    metadata={"upsert_key": "horse_id", "column_types": JSON_COLUMNS},
    ins={"horses": AssetIn(key=clean_key("horses"), metadata={"columns": ["horse_id", "last_seen"]})},
    check_specs=[
        AssetCheckSpec("pages_parsed", asset=RAW_PROFILES_KEY,
                       description="Every profile answer of the run parsed as a JSON object."),
    ],
)
def raw_horse_profiles(
    context: AssetExecutionContext,
    config: HorseProfileBudget,
    horses: pl.DataFrame,
    racing_api: RacingApiResource,
    warehouse: WarehouseResource,
):
    """`/v1/horses/{id}/pro` verbatim, one row per horse asked: newly seen horses only, within `max_requests`.

    Columns: `horse_id`, `fetched_at`, `request`, `status` (404: the API does not know the horse), `payload`
    (json), and `raw_text` + `parse_error` for an unreadable answer.
    """
    with fail_fast():
        stored = warehouse.read_asset(RAW_PROFILES_KEY, ["horse_id", "status", "payload"])
    answered = _answered(stored)
    unprofiled = horses_to_profile(horses, answered)
    queue = unprofiled.head(config.max_requests)
    context.log.info(
        f"{unprofiled.len()} horse(s) without a profile; asking for {queue.len()} "
        f"(budget {config.max_requests}, ≈{queue.len() / 2 / 60:.0f} min at 2 requests/s)"
    )
    pages, error = racing_api.fetch_until_error(queue.to_list(), racing_api.fetch_horse_pro)
    rows = horse_profile_rows(queue.head(len(pages)).to_list(), pages, datetime.now(UTC))
    unreadable = rows.filter(pl.col("parse_error").is_not_null())
    newly_answered = rows.height - unreadable.height
    replaced = pl.col("horse_id").is_in(rows["horse_id"].implode())
    kept_rows = 0 if stored is None else stored.filter(replaced.not_()).height

    yield Output(rows, metadata={
        "dagster/row_count": MetadataValue.int(kept_rows + rows.height),
        "api_requests": MetadataValue.int(rows.height),
        "request_budget": MetadataValue.int(config.max_requests),
        "profiles_fetched": MetadataValue.int(rows["payload"].is_not_null().sum()),
        "not_found": MetadataValue.int((rows["status"] == NOT_FOUND).sum()),
        "unreadable": MetadataValue.int(unreadable.height),
        "horses_still_unprofiled": MetadataValue.int(unprofiled.len() - newly_answered),
        "stopped_by_api_error": MetadataValue.text(str(error) if error else ""),
    })
    yield AssetCheckResult(
        check_name="pages_parsed",
        passed=unreadable.is_empty(),
        severity=AssetCheckSeverity.ERROR,
        metadata={"unreadable": unreadable.height,
                  "errors": MetadataValue.json(unreadable["parse_error"].head(10).to_list()),
                  "examples": MetadataValue.json(unreadable.select("horse_id", "request", "parse_error")
                                                 .head(10).to_dicts())},
    )
    if error is not None:
        raise Failure(
            description=f"The Racing API failed after {len(pages)} of {queue.len()} profile requests: {error} "
            "The profiles fetched so far are stored; the next run continues with the rest.",
            metadata={"error": MetadataValue.text(type(error).__name__),
                      "retryable": MetadataValue.bool(is_retryable(error))},
            allow_retries=is_retryable(error),
        )


@multi_asset(
    name="horse_profiles",
    outs={
        TABLE: AssetOut(
            key=clean_key(TABLE), group_name=GROUP, owners=OWNERS, kinds={"polars", "postgres"},
            description="One row per profiled horse (racehorses and their sires/dams/damsires under `hrs_` ids): "
                        "name and country, dob, sex, colour, breeder and pedigree ids, from its pro profile.",
        ),
        "horse_profile_quarantine": AssetOut(
            key=clean_key("horse_profile_quarantine"), group_name=GROUP, owners=OWNERS,
            kinds={"polars", "postgres"},
            description="Profiles that broke a hard rule, with every reason and the raw JSON (quarantine layout).",
        ),
    },
    ins={"raw_horse_profiles": AssetIn(key=RAW_PROFILES_KEY, metadata={"columns": ["horse_id", "payload"]})},
    check_specs=check_specs_for(clean_key(TABLE), TABLE),
)
def horse_profiles_asset(raw_horse_profiles: pl.DataFrame):
    """Parse every stored profile; the id is the one asked for (the API's own `id` stays in raw)."""
    readable = raw_horse_profiles.filter(pl.col("payload").is_not_null())
    parsed = parse_horse_profiles(readable["payload"], include_raw=True).with_columns(
        readable["horse_id"].alias("horse_id")
    )
    validation = validate(parsed, TABLE)
    reconciliation = reconcile(readable["horse_id"], validation.valid["horse_id"],
                               validation.quarantined["horse_id"])
    yield Output(validation.valid, output_name=TABLE,
                 metadata={"quarantined_rows": MetadataValue.int(validation.quarantined.height)})
    yield Output(validation.quarantined, output_name="horse_profile_quarantine")
    yield from check_results_for(validation, TABLE, "all", clean_key(TABLE), reconciliation=reconciliation)


horse_profile_assets = with_column_schemas([raw_horse_profiles, horse_profiles_asset])
