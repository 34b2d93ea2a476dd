"""Reference data shipped with the package: GB + IRE course coordinates (ids are not API ids)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

COURSE_COORDINATES_PATH = Path(__file__).parent / "data" / "courses_gb_ire_with_coordinates.json"


@cache
def course_coordinates() -> list[dict]:
    """Course name, country, latitude and longitude per course; matched to API courses on a normalised name."""
    return json.loads(COURSE_COORDINATES_PATH.read_text())
