import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from darkhorses_assets.transforms.raw_rows import (
    UNREADABLE_PAGE_SCHEMA,
    course_rows,
    race_rows,
    races_per_day,
    unreadable_pages,
)

SAMPLES = Path(__file__).parent / "fixtures" / "samples"
FETCHED = datetime(2025, 10, 8, 6, 0, tzinfo=UTC)


@dataclass(frozen=True)
class FakePage:
    """A stand-in for ApiPage: the raw rows need only these attributes (no HTTP involved here)."""

    body: object
    text: str | None = None
    error: str | None = None
    fetched_at: datetime = FETCHED

    @property
    def request(self):
        return {"path": "/v1/results", "params": {"start_date": "2025-10-07", "region": ["gb", "ire"]}}


def test_every_race_of_a_real_page_becomes_one_row_with_its_json_verbatim():
    body = json.loads((SAMPLES / "results_2025-10-07.json").read_text())
    rows = race_rows([FakePage(body)], date(2025, 10, 7), "results")
    assert rows.height == len(body["results"])
    assert rows["race_id"].to_list() == [race["race_id"] for race in body["results"]]
    assert [json.loads(p) for p in rows["payload"]] == body["results"]
    assert json.loads(rows["request"][0])["params"]["region"] == ["gb", "ire"]
    assert rows["parse_error"].null_count() == rows.height
    assert rows.schema["fetched_at"] == pl.Datetime("us", "UTC")


def test_unparseable_page_is_kept_with_its_text_and_error():
    good = FakePage({"results": [{"race_id": "rac_1"}], "total": 2})
    bad = FakePage(None, text='{"results": [{"race_id": "rac_2", "cour', error="Unterminated string")
    rows = race_rows([good, bad], date(2025, 10, 7), "results")
    assert rows.height == 2
    kept = rows.filter(pl.col("parse_error").is_not_null()).row(0, named=True)
    assert kept["raw_text"] == bad.text and kept["race_id"] is None and kept["payload"] is None
    summary = races_per_day(rows).row(0, named=True)
    assert summary == {"race_date": date(2025, 10, 7), "races": 1}


def test_a_page_of_the_wrong_shape_is_kept_not_dropped():
    rows = race_rows([FakePage({"detail": "something else"})], date(2025, 10, 7), "results")
    assert rows.height == 1
    assert "results" in rows["parse_error"][0]
    assert json.loads(rows["raw_text"][0]) == {"detail": "something else"}


def test_blank_day_has_zero_rows_and_the_raw_schema():
    rows = race_rows([FakePage({"results": [], "total": 0})], date(2025, 12, 25), "results")
    assert rows.height == 0
    assert list(rows.columns) == ["race_id", "race_date", "fetched_at", "request", "payload", "raw_text", "parse_error"]


def test_course_rows_keep_each_course():
    body = {"courses": [{"id": "crs_1", "course": "Ascot", "region_code": "gb", "region": "Great Britain"}], "total": 1}
    rows = course_rows(FakePage(body))
    assert rows["course_id"].to_list() == ["crs_1"]
    assert json.loads(rows["payload"][0])["course"] == "Ascot"


def test_only_unreadable_pages_go_to_the_archive_with_their_asset_day_and_run():
    good = FakePage({"results": [{"race_id": "rac_1"}], "total": 2})
    bad = FakePage(None, text='{"results": [{"race_id": "rac_2", "cour', error="Unterminated string")
    rows = race_rows([good, bad], date(2025, 10, 7), "results")
    archived = unreadable_pages(rows, "raw/raw_results", "run-1")
    assert archived.schema == UNREADABLE_PAGE_SCHEMA
    assert archived.rows(named=True) == [{
        "asset": "raw/raw_results", "race_date": date(2025, 10, 7), "request": rows["request"][1],
        "fetched_at": FETCHED, "raw_text": bad.text, "parse_error": "Unterminated string", "run_id": "run-1",
    }]
    assert unreadable_pages(rows.head(1), "raw/raw_results", "run-1").is_empty()


def test_an_unreadable_course_list_is_archived_without_a_race_day():
    rows = course_rows(FakePage(None, text="<html>502</html>", error="invalid JSON"))
    archived = unreadable_pages(rows, "raw/raw_courses", "run-2")
    assert archived.schema == UNREADABLE_PAGE_SCHEMA
    assert archived.select("race_date", "raw_text", "run_id").rows() == [(None, "<html>502</html>", "run-2")]
