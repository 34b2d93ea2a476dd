"""Raw layer: every Racing API payload kept verbatim in Postgres (`raw` schema), one row per race."""

from collections.abc import Callable, Iterator
from datetime import date, timedelta

import polars as pl
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    BackfillPolicy,
    Backoff,
    Jitter,
    MetadataValue,
    Output,
    RetryPolicy,
    asset,
)

from darkhorses_assets.partitions import race_days, today_in_uk
from darkhorses_assets.racing_api.client import RacingApiResource
from darkhorses_assets.transforms.raw_rows import JSON_COLUMNS, course_rows, race_rows, races_per_day

RACING_API_POOL = "racing_api"
RAW_PREFIX = "raw"
OWNERS = ["team:darkhorses"]
API_RETRY = RetryPolicy(max_retries=2, delay=30, backoff=Backoff.EXPONENTIAL, jitter=Jitter.PLUS_MINUS)
"""Run-level retry on top of the client's own per-request retries (e.g. an API outage of a few minutes)."""
DAYS_PER_RUN = 31
"""A backfill fetches up to a month per run: the limiter stays busy and a failure costs at most a month."""


def _checks(asset_name: str) -> list[AssetCheckSpec]:
    key = AssetKey([RAW_PREFIX, asset_name])
    return [
        AssetCheckSpec("pages_parsed", asset=key, description="Every API page of the partition(s) parsed as JSON."),
        AssetCheckSpec(
            "races_every_day",
            asset=key,
            description="Each race day returned at least one race (blank days such as Christmas Day warn).",
        ),
    ]


def _days(context: AssetExecutionContext) -> list[date]:
    window = context.partition_time_window
    first, end = window.start.date(), window.end.date()
    return [first + timedelta(days=offset) for offset in range((end - first).days)]


def _materialize_race_days(
    context: AssetExecutionContext,
    fetch_day: Callable[[date], list],
    envelope_key: str,
) -> Iterator:
    days = _days(context)
    frames, requests = [], 0
    for number, day in enumerate(days, start=1):
        pages = fetch_day(day)
        requests += len(pages)
        frames.append(race_rows(pages, day, envelope_key))
        context.log.info(f"{day}: {frames[-1].height} races from {len(pages)} page(s) [{number}/{len(days)} days]")
    rows = pl.concat(frames) if frames else race_rows([], days[0], envelope_key)
    per_day = races_per_day(rows)
    unreadable = rows.filter(pl.col("parse_error").is_not_null())
    race_days = set(per_day.filter(pl.col("races") > 0)["race_date"].to_list())
    blank_days = [day.isoformat() for day in days if day not in race_days]
    window = f"{days[0]} .. {days[-1]}"

    yield Output(
        rows,
        metadata={
            "races": MetadataValue.int(rows["race_id"].drop_nulls().n_unique()),
            "api_requests": MetadataValue.int(requests),
            "race_days": MetadataValue.int(len(days)),
            "blank_days": MetadataValue.json(blank_days),
            "unreadable_pages": MetadataValue.int(unreadable.height),
            "races_per_day": MetadataValue.md(_markdown(per_day)),
        },
    )
    yield AssetCheckResult(
        check_name="pages_parsed",
        passed=unreadable.height == 0,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "partition_range": window,
            "unreadable_pages": unreadable.height,
            "errors": MetadataValue.json(unreadable["parse_error"].head(10).to_list()),
        },
    )
    yield AssetCheckResult(
        check_name="races_every_day",
        passed=not blank_days,
        severity=AssetCheckSeverity.WARN,
        metadata={"partition_range": window, "blank_days": MetadataValue.json(blank_days)},
    )


RACE_DAY_API_ASSET = dict(
    key_prefix=[RAW_PREFIX],
    group_name="raw",
    owners=OWNERS,
    kinds={"python", "postgres"},
    partitions_def=race_days,
    backfill_policy=BackfillPolicy.multi_run(max_partitions_per_run=DAYS_PER_RUN),
    pool=RACING_API_POOL,
    retry_policy=API_RETRY,
    metadata={"partition_expr": "race_date", "column_types": JSON_COLUMNS},
)
"""What every daily raw asset shares: layer, API pool, run retry, month-sized backfill runs, json payloads."""


def _markdown(per_day: pl.DataFrame, limit: int = 40) -> str:
    lines = ["| race_date | races | unreadable_pages |", "|---|---|---|"]
    lines += [f"| {d} | {r} | {u} |" for d, r, u in per_day.head(limit).iter_rows()]
    if per_day.height > limit:
        lines.append(f"| … {per_day.height - limit} more days | | |")
    return "\n".join(lines)


@asset(check_specs=_checks("raw_results"), **RACE_DAY_API_ASSET)
def raw_results(context: AssetExecutionContext, racing_api: RacingApiResource):
    """Every GB + IRE result of the race day, verbatim from `/v1/results` (one date per call, paged to `total`).

    Days after today cost no request: they have no results yet.

    One row per race: `race_id`, `race_date`, `fetched_at`, the `request` (path + params, no credentials) and the
    race JSON as `payload` (json). A page that could not be parsed is kept as `raw_text` + `parse_error`.
    """
    def fetch_results(day: date) -> list:
        return racing_api.fetch_results_day(day) if day <= today_in_uk() else []

    yield from _materialize_race_days(context, fetch_results, "results")


@asset(check_specs=_checks("raw_racecards"), **RACE_DAY_API_ASSET)
def raw_racecards(context: AssetExecutionContext, racing_api: RacingApiResource):
    """Every GB + IRE racecard of the race day (up to 7 days ahead), verbatim from `/v1/racecards/pro`.

    Runners carry declarations and bookmaker `odds[]`. Same row layout as `raw_results`.
    """
    yield from _materialize_race_days(context, racing_api.fetch_racecards_day, "racecards")


@asset(
    key_prefix=[RAW_PREFIX],
    group_name="raw",
    owners=OWNERS,
    kinds={"python", "postgres"},
    pool=RACING_API_POOL,
    retry_policy=API_RETRY,
    metadata={"column_types": JSON_COLUMNS},
    check_specs=[
        AssetCheckSpec("pages_parsed", asset=AssetKey([RAW_PREFIX, "raw_courses"]),
                       description="The course list parsed as JSON.")
    ],
)
def raw_courses(context: AssetExecutionContext, racing_api: RacingApiResource):
    """The GB + IRE course list from `/v1/courses`, one row per course, verbatim."""
    rows = course_rows(racing_api.fetch_courses())
    unreadable = rows.filter(pl.col("parse_error").is_not_null()).height
    yield Output(rows, metadata={"courses": MetadataValue.int(rows["course_id"].drop_nulls().n_unique())})
    yield AssetCheckResult(check_name="pages_parsed", passed=unreadable == 0, metadata={"unreadable_pages": unreadable})


raw_assets = [raw_results, raw_racecards, raw_courses]
