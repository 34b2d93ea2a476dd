"""API pages → raw rows: one row per race (or course), the JSON kept verbatim.

A page whose body could not be parsed becomes one row holding its raw text and the error, so nothing the
API sent is ever lost; the raw asset checks then fail on it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
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
JSON_COLUMNS = {"request": "jsonb", "payload": "jsonb"}


class Page(Protocol):
    """What the raw layer needs of an API response (see racing_api.client.ApiPage)."""

    fetched_at: datetime
    body: Any
    text: str | None
    error: str | None

    @property
    def request(self) -> dict[str, Any]: ...


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


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
            raw_text = page.text if page.text is not None else _dumps(page.body)
            rows.append(_unreadable_row(race_date, page.fetched_at, request, raw_text, error))
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
        raw_text = page.text if page.text is not None else _dumps(page.body)
        row = {"course_id": None, "fetched_at": page.fetched_at, "request": request, "payload": None,
               "raw_text": raw_text, "parse_error": error}
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


def races_per_day(frame: pl.DataFrame) -> pl.DataFrame:
    """Races and unreadable pages per race day, for metadata and volume checks."""
    return (
        frame.group_by("race_date")
        .agg(
            pl.col("race_id").drop_nulls().n_unique().alias("races"),
            pl.col("parse_error").is_not_null().sum().alias("unreadable_pages"),
        )
        .sort("race_date")
    )
