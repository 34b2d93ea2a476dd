"""API courses + the shared coordinates list -> courses dimension, matched on a normalised name."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from darkhorses_assets.transforms.courses import COURSES_SCHEMA, course_name_key, parse_courses

SAMPLES = Path(__file__).parent / "fixtures" / "samples"


@pytest.fixture(scope="module")
def coordinates() -> list[dict]:
    return json.loads((SAMPLES / "courses_gb_ire_with_coordinates.json").read_text())


API_PAGE = {
    "courses": [
        {"id": "crs_10244", "course": "Southwell (AW)", "region_code": "gb", "region": "Great Britain"},
        {"id": "crs_624", "course": "Hereford", "region_code": "gb", "region": "Great Britain"},
        {"id": "crs_28054", "course": "Kempton (AW)", "region_code": "gb", "region": "Great Britain"},
        {"id": "crs_1", "course": "Bangor-on-Dee", "region_code": "gb", "region": "Great Britain"},
        {"id": "crs_2", "course": "Down Royal", "region_code": "ire", "region": "Ireland", "new_field": 1},
        {"id": "crs_3", "course": "Atlantis", "region_code": "gb", "region": "Great Britain"},
        {"course": "Ascot", "region_code": "gb"},
    ],
    "total": 7,
}


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Southwell (AW)", "southwell"),
        ("Newmarket (July)", "newmarket"),
        ("Bangor-on-Dee", "bangor"),
        ("Haydock Park", "haydock"),
        ("Chelmsford City (AW)", "chelmsford"),
        ("Great Yarmouth", "yarmouth"),
        ("Down Royal", "down royal"),
        ("Ffos Las", "ffos las"),
        ("", None),
    ],
)
def test_course_name_key(name, key):
    assert pl.select(course_name_key(pl.lit(name))).item() == key


def test_coordinate_keys_are_unique(coordinates):
    keys = pl.DataFrame({"course": [row["course"] for row in coordinates]}).select(course_name_key("course"))
    assert keys.to_series().is_unique().all()


def test_courses_get_coordinates_by_normalised_name(coordinates):
    courses = parse_courses(API_PAGE, coordinates)
    assert courses.schema == pl.Schema(COURSES_SCHEMA)
    assert courses.height == len(API_PAGE["courses"])
    southwell = courses.row(0, named=True)
    assert southwell["course_id"] == "crs_10244"
    assert southwell["region_code"] == "GB"
    southwell_coordinates = next(row for row in coordinates if row["course"] == "Southwell")
    assert (southwell["latitude"], southwell["longitude"]) == (
        southwell_coordinates["latitude"],
        southwell_coordinates["longitude"],
    )
    located = dict(courses.select("course", pl.col("latitude").is_not_null()).rows())
    assert located == {
        "Southwell (AW)": True,
        "Hereford": True,
        "Kempton (AW)": True,
        "Bangor-on-Dee": True,
        "Down Royal": True,
        "Atlantis": False,
        "Ascot": True,
    }
    assert courses["course_id"].to_list()[-1] is None


def test_frames_and_plain_lists_give_the_same_result(coordinates):
    from_dicts = parse_courses(API_PAGE, coordinates)
    from_frames = parse_courses(pl.DataFrame(API_PAGE["courses"]), pl.DataFrame(coordinates))
    from_list = parse_courses(API_PAGE["courses"], coordinates)
    assert from_frames.equals(from_dicts)
    assert from_list.equals(from_dicts)


def test_empty_inputs():
    assert parse_courses({"courses": [], "total": 0}, []).schema == pl.Schema(COURSES_SCHEMA)
