"""API pages → raw rows: one row per race (or course), the JSON kept verbatim.

A page whose body could not be parsed becomes one row holding its raw text and the error, so nothing the
API sent is ever lost. The race-day and course assets then fail without writing, and archive such rows through
`unreadable_pages` (the horse profiles store them in place: they only ever add rows).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, Protocol

import polars as pl

RAW_RACE_SCHEMA: dict[str, pl.DataType] = {
    "race_id": pl.Utf8(),
    "race_date": pl.Date(),
    "fetched_at": pl.Datetime("us", "UTC"),
    "request": pl.Utf8(),
    "payload": pl.Utf8(),
    "raw_text": pl.Utf8(),
    "parse_error": pl.Utf8(),
}
RAW_COURSE_SCHEMA: dict[str, pl.DataType] = {
    "course_id": pl.Utf8(),
    "fetched_at": pl.Datetime("us", "UTC"),
    "request": pl.Utf8(),
    "payload": pl.Utf8(),
    "raw_text": pl.Utf8(),
    "parse_error": pl.Utf8(),
}
RAW_HORSE_PROFILE_SCHEMA: dict[str, pl.DataType] = {
    "horse_id": pl.Utf8(),
    "fetched_at": pl.Datetime("us", "UTC"),
    "request": pl.Utf8(),
    "status": pl.Int32(),
    "payload": pl.Utf8(),
    "raw_text": pl.Utf8(),
    "parse_error": pl.Utf8(),
}
"""One row per horse asked for: the profile (`status` 200), the API not knowing the id (404, no payload), or an
unreadable body (`raw_text` + `parse_error`)."""
UNREADABLE_PAGE_SCHEMA: dict[str, pl.DataType] = {
    "asset": pl.Utf8(),
    "race_date": pl.Date(),
    "request": pl.Utf8(),
    "fetched_at": pl.Datetime("us", "UTC"),
    "raw_text": pl.Utf8(),
    "parse_error": pl.Utf8(),
    "run_id": pl.Utf8(),
}
"""An API page a raw asset could not read: which asset and run asked, for which race day (null for the course
list), the request, when, what came back and why it was unreadable."""
JSON_COLUMNS = {"request": "json", "payload": "json"}
"""Raw JSON is stored as `json`, not `jsonb`: Postgres checks it is valid JSON and keeps the text as written (key
order included), and reading it back is a copy instead of a re-serialisation — a quarter of racecards came out
in 0.6–0.9 s instead of 1.5 s. Tables created as `jsonb` by earlier versions are still accepted."""
NOT_FOUND = 404


class Page(Protocol):
    """What the raw layer needs of an API response (see racing_api.client.ApiPage)."""

    fetched_at: datetime
    status: int
    body: Any
    text: str | None
    error: str | None

    @property
    def request(self) -> dict[str, Any]: ...


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _raw_text(page: Page) -> str:
    """What an unreadable page said: its text as received, else its body re-serialised."""
    return page.text if page.text is not None else _dumps(page.body)


def _items(page: Page, envelope_key: str) -> tuple[list[dict] | None, str | None]:
    """The page's records, or None and the reason they can't be read."""
    if page.error is not None or page.body is None:
        return None, page.error or "empty body"
    items = page.body.get(envelope_key) if isinstance(page.body, dict) else None
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        return None, f"expected a list of objects under {envelope_key!r}"
    return items, None


def race_rows(pages: Iterable[Page], race_date: date, envelope_key: str) -> pl.DataFrame:
    """Rows for one race day from `/v1/results` (`results`) or `/v1/racecards/pro` (`racecards`) pages."""
    rows: list[dict[str, Any]] = []
    for page in pages:
        request = _dumps(page.request)
        items, error = _items(page, envelope_key)
        if items is None:
            rows.append(_unreadable_row(race_date, page.fetched_at, request, _raw_text(page), error))
            continue
        for race in items:
            rows.append(
                {
                    "race_id": race.get("race_id"),
                    "race_date": race_date,
                    "fetched_at": page.fetched_at,
                    "request": request,
                    "payload": _dumps(race),
                    "raw_text": None,
                    "parse_error": None,
                }
            )
    return pl.DataFrame(rows, schema=RAW_RACE_SCHEMA, orient="row") if rows else empty(RAW_RACE_SCHEMA)


def course_rows(page: Page) -> pl.DataFrame:
    """Rows from a `/v1/courses` page, one per course."""
    request = _dumps(page.request)
    items, error = _items(page, "courses")
    if items is None:
        row = {"course_id": None, "fetched_at": page.fetched_at, "request": request, "payload": None,
               "raw_text": _raw_text(page), "parse_error": error}
        return pl.DataFrame([row], schema=RAW_COURSE_SCHEMA)
    rows = [
        {"course_id": course.get("id"), "fetched_at": page.fetched_at, "request": request,
         "payload": _dumps(course), "raw_text": None, "parse_error": None}
        for course in items
    ]
    return pl.DataFrame(rows, schema=RAW_COURSE_SCHEMA) if rows else empty(RAW_COURSE_SCHEMA)


def _unreadable_row(race_date: date, fetched_at: datetime, request: str, raw_text: str, error: str | None) -> dict:
    return {"race_id": None, "race_date": race_date, "fetched_at": fetched_at, "request": request,
            "payload": None, "raw_text": raw_text, "parse_error": error}


def empty(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


def unreadable_pages(rows: pl.DataFrame, asset: str, run_id: str) -> pl.DataFrame:
    """The unreadable pages among race or course rows, as `UNREADABLE_PAGE_SCHEMA` rows for the archive."""
    race_date = pl.col("race_date") if "race_date" in rows.columns else pl.lit(None, pl.Date())
    return rows.filter(pl.col("parse_error").is_not_null()).select(
        pl.lit(asset, pl.Utf8()).alias("asset"),
        race_date.alias("race_date"),
        "request",
        "fetched_at",
        "raw_text",
        "parse_error",
        pl.lit(run_id, pl.Utf8()).alias("run_id"),
    )


def races_per_day(frame: pl.DataFrame) -> pl.DataFrame:
    """Distinct races per race day (days with only unreadable pages count 0), compared with what is stored."""
    return (
        frame.group_by("race_date")
        .agg(pl.col("race_id").drop_nulls().n_unique().alias("races"))
        .sort("race_date")
    )


def horse_profile_rows(
    horse_ids: Sequence[str], pages: Sequence[Page | None], fetched_at: datetime
) -> pl.DataFrame:
    """Rows from `/v1/horses/{id}/pro` answers, one per horse id; a None answer is the API's 404 (stamped
    `fetched_at`, as the client returns no page for it)."""
    rows = []
    for horse_id, page in zip(horse_ids, pages, strict=True):
        if page is None:
            request = _dumps({"path": f"/v1/horses/{horse_id}/pro", "params": {}})
            rows.append({"horse_id": horse_id, "fetched_at": fetched_at, "request": request, "status": NOT_FOUND,
                         "payload": None, "raw_text": None, "parse_error": None})
            continue
        readable = page.error is None and isinstance(page.body, dict)
        rows.append({
            "horse_id": horse_id, "fetched_at": page.fetched_at, "request": _dumps(page.request),
            "status": page.status,
            "payload": _dumps(page.body) if readable else None,
            "raw_text": None if readable else _raw_text(page),
            "parse_error": None if readable else (page.error or "expected a JSON object"),
        })
    schema = RAW_HORSE_PROFILE_SCHEMA
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else empty(schema)
