"""Raw layer: every Racing API payload kept verbatim in Postgres (`raw` schema), one row per race.

A write never makes a stored partition worse. A run fails without writing — the stored rows stay as they
are — when any page of its range could not be read (the pages go to `raw.unreadable_pages` instead), or when
the API now has fewer races for a day up to today than are stored (unless forced with `allow_fewer_races`).
The course list follows the same rule (`allow_fewer_courses`).

Neither failure is retried by the run's RetryPolicy. The client has already retried every unreadable page
(up to `max_attempts` over `max_retry_seconds`, with backoff): a body still unreadable after that is rarely a
blip, and a run retry would fetch the whole range — up to a month, ≈ 60 requests of the shared 2/s budget —
twice more to most likely archive the same error. Fewer races is not a transport fault at all: asking again a
minute later gives the same answer, and the decision belongs to a person. Both failures say what to do.

Never is a request spent on data that cannot exist: a day before the API's data for it begins
(`raw_racecards` before DARKHORSES_RACECARDS_HISTORY_FROM, default 2023-01-23, where pro racecards begin;
`raw_results` before DARKHORSES_RESULTS_HISTORY_FROM, for plans whose results reach back only 12 months) or
after today (`raw_results`) is skipped: no request, and the metadata `skipped_days` says why. A skipped day is
not fetched, so it cannot be judged: rows already stored for it are kept as they are (written back unchanged
in the range's replace), never counted as "fewer races"; with none stored it stays an empty partition.

Nor is any other error a retry cannot help — 401/403, 422, a paging total that changed, an unreachable
RACING_API_BASE_URL, a malformed DARKHORSES_DATABASE_URL or refused database credentials: each fails on the
first attempt as `Failure(allow_retries=False)` (`darkhorses_assets.fail_fast`). 429, 5xx, timeouts and
dropped connections that outlast the client's own retries, and a database that does not answer, keep the
RetryPolicy.
"""

from collections.abc import Callable, Iterator
from datetime import date, timedelta

import polars as pl
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetsDefinition,
    BackfillPolicy,
    Backoff,
    Config,
    Failure,
    Jitter,
    MaterializeResult,
    MetadataValue,
    Output,
    RetryPolicy,
    asset,
)
from pydantic import Field

from darkhorses_assets import settings
from darkhorses_assets.assets.keys import OWNERS, RAW, raw_key
from darkhorses_assets.column_schemas import with_column_schemas
from darkhorses_assets.fail_fast import fail_fast
from darkhorses_assets.io.io_manager import COLUMN_SCHEMA, metadata_of_write, split_write_metadata
from darkhorses_assets.io.partitions import time_window_slice
from darkhorses_assets.io.warehouse import UNREADABLE_PAGES, WarehouseResource
from darkhorses_assets.partitions import race_day_window, race_days, today_in_uk
from darkhorses_assets.racing_api.client import RacingApiResource, fetch_in_order
from darkhorses_assets.transforms.raw_rows import (
    JSON_COLUMNS,
    RAW_RACE_SCHEMA,
    course_rows,
    race_rows,
    races_per_day,
    unreadable_pages,
)

RACING_API_POOL = "racing_api"
API_RETRY = RetryPolicy(max_retries=2, delay=30, backoff=Backoff.EXPONENTIAL, jitter=Jitter.PLUS_MINUS)
"""Step retry on top of the client's own per-request retries (e.g. an API outage of a few minutes); only for
errors a retry can help."""
DAYS_PER_RUN = 31
PARTITION_COLUMN = "race_date"
"""A backfill fetches up to a month per run: the limiter stays busy and a failure costs at most a month."""


class RaceDayRefresh(Config):
    """Run config of `raw_results` and `raw_racecards`."""

    allow_fewer_races: bool = Field(
        default=False,
        description="Replace a stored race day up to today even when the API now returns fewer races for it "
        "(e.g. races it has since voided). Without it such a run fails and keeps the stored races.",
    )


class CourseListRefresh(Config):
    """Run config of `raw_courses`."""

    allow_fewer_courses: bool = Field(
        default=False,
        description="Replace the stored course list even when the API now returns fewer courses. Without it "
        "such a run fails and keeps the stored courses.",
    )


def _checks(asset_name: str) -> list[AssetCheckSpec]:
    key = raw_key(asset_name)
    return [
        AssetCheckSpec(
            "races_every_day",
            asset=key,
            description="Each race day returned at least one race (blank days such as Christmas Day warn).",
        ),
    ]


def _launchpad(context: AssetExecutionContext, flag: str) -> str:
    return f"ops: {{{context.asset_key.to_python_identifier()}: {{config: {{{flag}: true}}}}}}"


def _refuse_unreadable(context: AssetExecutionContext, warehouse: WarehouseResource, rows: pl.DataFrame,
                       pages_fetched: int) -> None:
    """Archive the unreadable pages among `rows` and fail, writing nothing; return if every page was read."""
    pages = unreadable_pages(rows, context.asset_key.to_user_string(), context.run.run_id)
    if pages.is_empty():
        return
    warehouse.archive_unreadable(pages)
    dated = pages.drop_nulls("race_date")
    if dated.is_empty():
        where = "the course list"
    else:
        counts = dated.group_by("race_date").len().sort("race_date").iter_rows()
        where = ", ".join(f"{day}: {n}" for day, n in counts)
    raise Failure(
        description=(
            f"{context.asset_key.to_user_string()}: {pages.height} of {pages_fetched} API page(s) could not be "
            f"read ({where}; first error: {pages['parse_error'][0]}). Nothing was written: the stored rows are "
            f"kept, and the unreadable pages are archived in {UNREADABLE_PAGES} (run_id '{context.run.run_id}'). "
            "The client already retried each page; re-run when the API answers with valid JSON, and if it keeps "
            f"failing read their raw_text in {UNREADABLE_PAGES} to see what the API sends."
        ),
        metadata={"unreadable_pages": pages.height, "archived_in": str(UNREADABLE_PAGES),
                  "errors": MetadataValue.json(pages["parse_error"].head(10).to_list())},
        allow_retries=False,
    )


def _fewer_races(now: dict[date, int], stored: dict[date, int], days: list[date]) -> list[tuple[date, int, int]]:
    """(day, stored races, races now) for each of `days` whose new answer has fewer races than are stored."""
    return [(day, stored[day], now.get(day, 0)) for day in days if now.get(day, 0) < stored.get(day, 0)]


def _refuse_fewer_races(context: AssetExecutionContext, shrunk: list[tuple[date, int, int]], forced: bool) -> None:
    if not shrunk:
        return
    listed = ", ".join(f"{day} ({before} stored, {after} now)" for day, before, after in shrunk)
    if forced:
        context.log.warning(f"allow_fewer_races: replacing stored races with fewer for {listed}")
        return
    raise Failure(
        description=(
            f"{context.asset_key.to_user_string()}: the API now returns fewer races than are stored for "
            f"{len(shrunk)} race day(s) up to today: {listed}. Nothing was written: the stored races are kept. "
            "If the API is right (races voided or removed), re-run with the config allow_fewer_races: true "
            f"(launchpad: {_launchpad(context, 'allow_fewer_races')}); otherwise re-run when the API has the "
            "day complete again."
        ),
        metadata={"fewer_races": MetadataValue.json(
            [{"race_date": day.isoformat(), "stored": before, "now": after} for day, before, after in shrunk])},
        allow_retries=False,
    )


SkipReason = Callable[[date], str | None]
"""Why a race day is not asked for (its data cannot exist), or None to ask."""


def _skipped_ranges(skipped: dict[date, str]) -> list[dict]:
    """Consecutive skipped days with one reason as one entry: a skipped year is a line, not 365."""
    ranges: list[dict] = []
    for day, reason in sorted(skipped.items()):
        last = ranges[-1] if ranges else None
        if last and last["reason"] == reason and date.fromisoformat(last["last"]) + timedelta(days=1) == day:
            last["last"], last["days"] = day.isoformat(), last["days"] + 1
        else:
            ranges.append({"first": day.isoformat(), "last": day.isoformat(), "days": 1, "reason": reason})
    return ranges


def _materialize_race_days(
    context: AssetExecutionContext,
    config: RaceDayRefresh,
    warehouse: WarehouseResource,
    fetch_day: Callable[[date], list],
    envelope_key: str,
    skip_reason: SkipReason,
) -> Iterator:
    """Fetch the range's days two in flight and store each as it comes, in one transaction that replaces the
    range's rows (`WarehouseResource.replacing`): the server stores a day while the API is asked for the next,
    and the never-worse checks run before the commit, so a refused answer rolls every day back."""
    window = race_day_window(context)
    days = window.days
    key = context.asset_key
    skipped = {day: reason for day in days if (reason := skip_reason(day)) is not None}
    asked = [day for day in days if day not in skipped]
    position = {day: number for number, day in enumerate(days, start=1)}
    stored = warehouse.stored_races_per_day(key, days[0], days[-1])
    kept_days = [day for day in skipped if stored.get(day)]
    time_window = context.partition_time_window
    partition = time_window_slice(PARTITION_COLUMN, time_window.start, time_window.end, context.partition_keys)
    kept = warehouse.read_race_days(key, kept_days, list(RAW_RACE_SCHEMA)).cast(RAW_RACE_SCHEMA) if kept_days \
        else race_rows([], days[0], envelope_key)
    now: dict[date, int] = dict(races_per_day(kept).iter_rows())
    unreadable: list[pl.DataFrame] = []
    requests, preview = 0, kept
    with warehouse.replacing(key, RAW_RACE_SCHEMA, partition, JSON_COLUMNS) as writer:
        if kept_days:
            context.log.info(f"keeping the {kept.height} stored races of {len(kept_days)} skipped day(s) as they are")
            writer.append(kept)
        for day, pages in zip(asked, fetch_in_order(asked, fetch_day), strict=True):
            rows = race_rows(pages, day, envelope_key)
            requests += len(pages)
            now[day] = rows["race_id"].drop_nulls().n_unique()
            if rows["parse_error"].null_count() < rows.height:
                unreadable.append(rows)
            elif not unreadable:  # once a page is unreadable the run fails: nothing more is worth storing
                writer.append(rows)
                preview = rows if preview.is_empty() else preview
            context.log.info(f"{day}: {now[day]} races from {len(pages)} page(s) [{position[day]}/{len(days)} days]")
        if skipped:
            context.log.info(f"{len(skipped)} of {len(days)} day(s) skipped without a request: " + "; ".join(
                f"{r['first']} .. {r['last']}: {r['reason']}" for r in _skipped_ranges(skipped)))
        if unreadable:
            _refuse_unreadable(context, warehouse, pl.concat(unreadable), requests)
        past_days = [day for day in days if day <= today_in_uk() and day not in skipped]
        _refuse_fewer_races(context, _fewer_races(now, stored, past_days), config.allow_fewer_races)
    written = writer.result
    context.log.info(f"wrote {written.rows} rows to {written.table} for partition(s) {partition.label} "
                     f"(replacing {written.replaced_rows}) in {written.seconds:.1f}s, while fetching")
    every_partition, per_write = split_write_metadata(metadata_of_write(
        written, preview,
        context.assets_def.metadata_by_key[key].get(COLUMN_SCHEMA), partition.label),
        ranged=len(context.partition_keys) > 1)
    if per_write:
        context.add_asset_metadata(per_write, partition_key=context.partition_keys[-1])
    blank_days = [day.isoformat() for day in days if not now.get(day) and day not in skipped]
    skipped_days = MetadataValue.json(_skipped_ranges(skipped))

    yield MaterializeResult(
        metadata={
            **every_partition,
            "races": MetadataValue.int(sum(now.values())),
            "races_stored_before": MetadataValue.int(sum(stored.values())),
            "api_requests": MetadataValue.int(requests),
            "race_days": MetadataValue.int(len(days)),
            "blank_days": MetadataValue.json(blank_days),
            "skipped_days": skipped_days,
            "races_kept_on_skipped_days": MetadataValue.int(sum(stored.get(day, 0) for day in kept_days)),
            "races_per_day": MetadataValue.md(_markdown(days, now, stored, skipped)),
        },
    )
    yield AssetCheckResult(
        check_name="races_every_day",
        passed=not blank_days,
        severity=AssetCheckSeverity.WARN,
        metadata={"partition_range": window.label, "blank_day_count": len(blank_days),
                  "blank_days": MetadataValue.json(blank_days),
                  "skipped_days": skipped_days},
    )


RACE_DAY_API_ASSET = dict(
    key_prefix=[RAW],
    group_name="raw",
    owners=OWNERS,
    kinds={"python", "postgres"},
    partitions_def=race_days,
    backfill_policy=BackfillPolicy.multi_run(max_partitions_per_run=DAYS_PER_RUN),
    pool=RACING_API_POOL,
    metadata={"partition_expr": PARTITION_COLUMN, "column_types": JSON_COLUMNS},
)
"""What every daily raw asset shares: layer, API pool, month-sized backfill runs, json payloads. The race days
write their own rows as they arrive (`_materialize_race_days`); the IO manager reads them for the clean layer."""


def _markdown(days: list[date], now: dict[date, int], stored: dict[date, int], skipped: dict[date, str],
              limit: int = 40) -> str:
    lines = ["| race_date | races | stored before | skipped |", "|---|---|---|---|"]
    lines += [f"| {day} | {now.get(day, 0)} | {stored.get(day, 0)} | {skipped.get(day, '')} |" for day in days[:limit]]
    if len(days) > limit:
        lines.append(f"| … {len(days) - limit} more days | | | |")
    return "\n".join(lines)


def _raw_results(
    context: AssetExecutionContext, config: RaceDayRefresh, racing_api: RacingApiResource,
    warehouse: WarehouseResource,
):
    """Every GB + IRE result of the race day, verbatim from `/v1/results` (one date per call, paged to `total`).

    Days after today cost no request: they have no results yet. Nor do days before
    DARKHORSES_RESULTS_HISTORY_FROM, when set (a plan whose results reach back only 12 months); a results date
    outside the plan otherwise fails at once naming the limit. Skipped days are listed in `skipped_days`.

    One row per race: `race_id`, `race_date`, `fetched_at`, the `request` (path + params, no credentials) and the
    race JSON as `payload` (json). Stored races are only ever replaced by an answer at least as complete: a page
    that could not be read fails the run (the page goes to `raw.unreadable_pages`), and so does an answer with
    fewer races for a day up to today than are stored — unless run with config `allow_fewer_races: true`
    (launchpad: `ops: {raw__raw_results: {config: {allow_fewer_races: true}}}`).
    """
    with fail_fast():
        history_from = settings.results_history_from()
        yield from _materialize_race_days(context, config, warehouse, racing_api.fetch_results_day,
                                          "results", lambda day: _results_skip_reason(day, history_from, today_in_uk()))


def _raw_racecards(
    context: AssetExecutionContext, config: RaceDayRefresh, racing_api: RacingApiResource,
    warehouse: WarehouseResource,
):
    """Every GB + IRE racecard of the race day (up to 7 days ahead), verbatim from `/v1/racecards/pro`.

    Runners carry declarations and bookmaker `odds[]`. Same row layout and the same never-worse rule as
    `raw_results` (days after today may shrink freely: cards change until the off); force with
    `ops: {raw__raw_racecards: {config: {allow_fewer_races: true}}}`. Days before
    DARKHORSES_RACECARDS_HISTORY_FROM (default 2023-01-23, where the API's pro racecards begin; the simulator
    has them from 2015) cost no request and are listed in `skipped_days`.
    """
    with fail_fast():
        history_from = settings.racecards_history_from()
        yield from _materialize_race_days(context, config, warehouse, racing_api.fetch_racecards_day,
                                          "racecards", lambda day: _racecards_skip_reason(day, history_from))


def _results_skip_reason(day: date, history_from: date | None, today: date) -> str | None:
    if day > today:
        return f"after today ({today}): no results yet"
    if history_from is not None and day < history_from:
        return f"before {settings.RESULTS_HISTORY_FROM_ENV}={history_from}"
    return None


def _racecards_skip_reason(day: date, history_from: date) -> str | None:
    if day >= history_from:
        return None
    if history_from == settings.PRO_RACECARDS_FROM:
        return (f"before {history_from}: the API's pro racecards begin then "
                f"(to ask anyway, set {settings.RACECARDS_HISTORY_FROM_ENV})")
    return f"before {settings.RACECARDS_HISTORY_FROM_ENV}={history_from}"


def _raw_courses(
    context: AssetExecutionContext, config: CourseListRefresh, racing_api: RacingApiResource,
    warehouse: WarehouseResource,
):
    """The GB + IRE course list from `/v1/courses`, one row per course, verbatim.

    An unreadable list fails the run (archived in `raw.unreadable_pages`), and so does a list with fewer courses
    than are stored unless run with `ops: {raw__raw_courses: {config: {allow_fewer_courses: true}}}`; either
    way the stored courses are kept.
    """
    with fail_fast():
        rows = course_rows(racing_api.fetch_courses())
        _refuse_unreadable(context, warehouse, rows, pages_fetched=1)
        courses = rows["course_id"].drop_nulls().n_unique()
        stored = warehouse.stored_distinct_count(context.asset_key, "course_id")
    if courses < stored and config.allow_fewer_courses:
        context.log.warning(f"allow_fewer_courses: replacing {stored} stored courses with {courses}")
    elif courses < stored:
        raise Failure(
            description=(
                f"{context.asset_key.to_user_string()}: the course list is worse than the stored one: the API now "
                f"lists {courses} courses where {stored} are stored. Nothing was written: the stored courses are "
                "kept. If the API is right, re-run with the config allow_fewer_courses: true (launchpad: "
                f"{_launchpad(context, 'allow_fewer_courses')}); otherwise re-run when the API lists them all again."
            ),
            metadata={"courses_stored": stored, "courses_now": courses},
            allow_retries=False,
        )
    yield Output(rows, metadata={"courses": MetadataValue.int(courses),
                                 "courses_stored_before": MetadataValue.int(stored)})


def build_raw_assets(retry_policy: RetryPolicy | None = API_RETRY) -> list[AssetsDefinition]:
    """`raw_results`, `raw_racecards` and `raw_courses`, with `retry_policy` as their step retry.

    The project's are built with API_RETRY; tests build theirs with a fast policy to watch a transient failure
    being retried without waiting half a minute.
    """
    race_day = {**RACE_DAY_API_ASSET, "retry_policy": retry_policy}
    return with_column_schemas([
        asset(name="raw_results", check_specs=_checks("raw_results"), **race_day)(_raw_results),
        asset(name="raw_racecards", check_specs=_checks("raw_racecards"), **race_day)(_raw_racecards),
        asset(name="raw_courses", key_prefix=[RAW], group_name="raw", owners=OWNERS,
              kinds={"python", "postgres"}, pool=RACING_API_POOL, retry_policy=retry_policy,
              metadata={"column_types": JSON_COLUMNS})(_raw_courses),
    ])


raw_assets = build_raw_assets()
raw_results, raw_racecards, raw_courses = raw_assets
