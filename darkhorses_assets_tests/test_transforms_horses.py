"""Horse pro profiles (OpenAPI `HorsePro`) -> horse profiles frame."""

from __future__ import annotations

import json
from datetime import date

import polars as pl

from darkhorses_assets.transforms.horses import (
    HORSE_PROFILES_SCHEMA,
    parse_horse_profiles,
)

PROFILE = {
    "id": "hrs_30455194",
    "name": "Create (IRE)",
    "dob": "2020-04-02",
    "sex": "mare",
    "sex_code": "M",
    "colour": "bay",
    "colour_code": "b",
    "breeder": "Some Stud",
    "sire": "Harry Angel (IRE)",
    "sire_id": "sir_7013188",
    "dam": "Patent Joy (IRE)",
    "dam_id": "dam_5801159",
    "damsire": "Pivotal",
    "damsire_id": "dsi_753900",
}


def test_profile_fields():
    row = parse_horse_profiles([PROFILE]).row(0, named=True)
    assert row == {
        "horse_id": "hrs_30455194",
        "horse": "Create (IRE)",
        "horse_name": "Create",
        "horse_country": "IRE",
        "dob": date(2020, 4, 2),
        "sex_code": "M",
        "colour": "bay",
        "colour_code": "B",
        "breeder": "Some Stud",
        "sire_id": "sir_7013188",
        "sire_name": "Harry Angel",
        "sire_country": "IRE",
        "dam_id": "dam_5801159",
        "dam_name": "Patent Joy",
        "dam_country": "IRE",
        "damsire_id": "dsi_753900",
        "damsire_name": "Pivotal",
        "damsire_country": None,
    }


def test_json_and_dicts_agree_and_schema_is_fixed():
    from_dicts = parse_horse_profiles([PROFILE])
    from_json = parse_horse_profiles(pl.Series([json.dumps(PROFILE)]))
    assert from_dicts.schema == pl.Schema(HORSE_PROFILES_SCHEMA)
    assert from_json.equals(from_dicts)


def test_sparse_profile_with_horse_key_word_sex_and_extra_fields():
    sparse = {"id": "hrs_1", "horse": "Border Gem", "sex": "gelding", "dob": "", "surprise": [1]}
    row = parse_horse_profiles([sparse]).row(0, named=True)
    assert (row["horse_name"], row["sex_code"], row["dob"], row["sire_id"]) == ("Border Gem", "G", None, None)


def test_missing_id_and_bad_payload_keep_rows():
    payloads = pl.Series([json.dumps({"name": "No Id"}), "not json", None])
    frame = parse_horse_profiles(payloads, include_raw=True)
    assert frame.height == 3
    assert frame["horse_id"].null_count() == 3
    assert frame["raw_json"].to_list()[:2] == ['{"name": "No Id"}', "not json"]
