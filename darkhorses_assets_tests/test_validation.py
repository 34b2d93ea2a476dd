"""validate(): the valid / quarantined split, reasons and rule summaries on hand-built frames."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest

from darkhorses_assets.schemas import TABLES, as_schema
from darkhorses_assets.schemas.validation import (
    DUPLICATE_KEY_RULE,
    QUARANTINE_SCHEMA,
    RACE_QUARANTINED_RULE,
    SCHEMA_RULE,
    hard_failures,
    reconcile,
    reconcile_per_race,
    validate,
)

RACE_DATE = dt.date(2025, 10, 13)


def frame_of(table: str, rows: list[dict], **defaults) -> pl.DataFrame:
    """Rows of ``table`` with every model column present (null unless given) and the model's dtypes."""
    columns = as_schema(TABLES[table].hard).columns
    schema = {name: column.dtype.type for name, column in columns.items()}
    full = [{**dict.fromkeys(schema), **defaults, **row} for row in rows]
    return pl.DataFrame(full, schema=schema, orient="row")


def runners(*rows: dict) -> pl.DataFrame:
    return frame_of("runners", list(rows), race_id="rac_1", race_date=RACE_DATE, weight_lbs=130, age=5)


def results(*rows: dict) -> pl.DataFrame:
    return frame_of("results", list(rows), race_id="rac_1", race_date=RACE_DATE, finish_status="FIN",
                    finish_position=1)


def rule(validation, name):
    return next(outcome for outcome in validation.rules if outcome.name == name)


def reasons_by_horse(validation) -> dict[str, str]:
    return dict(validation.quarantined.select("horse_id", "reasons").iter_rows())


def test_clean_rows_are_all_valid():
    frame = runners({"horse_id": "hrs_1"}, {"horse_id": "hrs_2"})
    validation = validate(frame, "runners")
    assert validation.valid.equals(frame)
    assert validation.quarantined.is_empty()
    assert validation.quarantined.schema == pl.Schema(QUARANTINE_SCHEMA)
    assert all(outcome.failing_rows == 0 for outcome in validation.rules)


def test_null_key_is_quarantined():
    validation = validate(runners({"horse_id": "hrs_1"}, {"horse_id": None}), "runners")
    assert validation.valid["horse_id"].to_list() == ["hrs_1"]
    quarantined = validation.quarantined.row(0, named=True)
    assert quarantined["reasons"] == "horse_id:not_null"
    assert quarantined["row_key"] == "race_id=rac_1|horse_id=null"
    assert quarantined["race_date"] == RACE_DATE
    assert rule(validation, "horse_id:not_null").failing_rows == 1


def test_exact_duplicates_collapse_and_conflicting_duplicates_are_all_quarantined():
    frame = runners(
        {"horse_id": "hrs_1"}, {"horse_id": "hrs_1"},
        {"horse_id": "hrs_2", "weight_lbs": 130}, {"horse_id": "hrs_2", "weight_lbs": 131},
    )
    validation = validate(frame, "runners")
    assert validation.collapsed_duplicates == 1
    assert validation.valid["horse_id"].to_list() == ["hrs_1"]
    assert validation.quarantined["horse_id"].to_list() == ["hrs_2", "hrs_2"]
    assert set(validation.quarantined["reasons"]) == {DUPLICATE_KEY_RULE}
    assert rule(validation, DUPLICATE_KEY_RULE).failing_rows == 2


def test_duplicates_differing_only_in_raw_json_collapse():
    frame = runners({"horse_id": "hrs_1"}, {"horse_id": "hrs_1"}).with_columns(
        pl.Series("raw_json", ['{"horse_id":"hrs_1"}', '{"horse_id": "hrs_1"}'])
    )
    validation = validate(frame, "runners")
    assert validation.valid.height == 1 and validation.quarantined.is_empty()


def test_bad_finish_status_is_quarantined_with_the_value():
    validation = validate(results({"horse_id": "hrs_1"}, {"horse_id": "hrs_2", "finish_status": "XYZ",
                                                           "finish_position": None}), "results")
    assert validation.valid["horse_id"].to_list() == ["hrs_1"]
    assert reasons_by_horse(validation) == {"hrs_2": "finish_status:known_finish_status (got XYZ)"}
    outcome = rule(validation, "finish_status:known_finish_status")
    assert (outcome.hard, outcome.failing_rows) == (True, 1)
    assert outcome.examples == [{"race_date": RACE_DATE, "race_id": "rac_1", "horse_id": "hrs_2",
                                 "reason": "finish_status:known_finish_status (got XYZ)"}]


def test_soft_rule_failure_warns_but_keeps_the_row():
    validation = validate(runners({"horse_id": "hrs_1", "weight_lbs": 250}), "runners")
    assert validation.valid["horse_id"].to_list() == ["hrs_1"]
    assert validation.quarantined.is_empty()
    outcome = rule(validation, "weight_lbs:in_range(100, 190)")
    assert (outcome.hard, outcome.failing_rows) == (False, 1)
    assert outcome.examples[0]["reason"] == "weight_lbs:in_range(100, 190) (got 250)"


def test_a_row_carries_all_its_reasons():
    frame = results({"horse_id": "hrs_1", "race_date": None, "finish_status": "XYZ", "sp_favourite": "Q"})
    validation = validate(frame, "results")
    assert validation.quarantined["reasons"].to_list() == [
        "finish_status:known_finish_status (got XYZ); race_date:not_null; "
        "sp_favourite:known_sp_favourite (got Q)"
    ]


def test_raw_json_goes_to_quarantine_and_never_to_valid():
    frame = runners({"horse_id": "hrs_1"}, {"horse_id": None}).with_columns(
        pl.Series("raw_json", ['{"horse_id":"hrs_1"}', '{"horse_id":""}'])
    )
    validation = validate(frame, "runners")
    assert "raw_json" not in validation.valid.columns
    assert validation.quarantined["raw_json"].to_list() == ['{"horse_id":""}']


def test_without_raw_json_the_parsed_row_is_serialised():
    validation = validate(runners({"horse_id": None, "weight_lbs": 131}), "runners")
    parsed = json.loads(validation.quarantined["raw_json"][0])
    assert (parsed["race_id"], parsed["weight_lbs"], parsed["race_date"]) == ("rac_1", 131, "2025-10-13")


def test_structural_failure_quarantines_every_row():
    frame = runners({"horse_id": "hrs_1"}, {"horse_id": "hrs_2"}).with_columns(pl.col("age").cast(pl.Int64))
    validation = validate(frame.drop("form"), "runners")
    assert validation.valid.is_empty()
    assert validation.quarantined.height == 2
    assert sorted(validation.structural_errors) == ["age is Int64, expected Int32", "missing column form"]
    assert rule(validation, SCHEMA_RULE).failing_rows == 2


def test_rows_of_quarantined_races_are_quarantined():
    frame = runners({"horse_id": "hrs_1"}, {"horse_id": "hrs_2", "race_id": "rac_2"})
    validation = validate(frame, "runners", quarantined_race_ids=pl.Series(["rac_2"]))
    assert validation.valid["horse_id"].to_list() == ["hrs_1"]
    assert reasons_by_horse(validation) == {"hrs_2": RACE_QUARANTINED_RULE}


def test_every_declared_rule_is_reported_even_when_passing():
    validation = validate(runners({"horse_id": "hrs_1"}), "runners")
    names = [outcome.name for outcome in validation.rules]
    assert names[:3] == [SCHEMA_RULE, "race_id:not_null", "horse_id:not_null"]
    assert DUPLICATE_KEY_RULE in names and "weight_lbs:in_range(100, 190)" in names


def test_examples_are_capped_at_ten():
    frame = runners(*({"horse_id": f"hrs_{i}", "weight_lbs": 250} for i in range(25)))
    outcome = rule(validate(frame, "runners"), "weight_lbs:in_range(100, 190)")
    assert outcome.failing_rows == 25 and len(outcome.examples) == 10


def test_empty_frame():
    validation = validate(runners().clear(), "runners")
    assert validation.valid.is_empty() and validation.quarantined.is_empty()
    assert validation.quarantine_rate == 0.0


def test_valid_output_satisfies_the_hard_model():
    frame = results({"horse_id": "hrs_1"}, {"horse_id": "hrs_1", "finish_position": 2}, {"horse_id": None})
    assert hard_failures(validate(frame, "results").valid, "results").is_empty()


@pytest.mark.parametrize("table", sorted(TABLES))
def test_every_table_validates_an_empty_frame(table):
    validation = validate(frame_of(table, []), table)
    assert validation.structural_errors == []


def test_reconcile_balanced_and_not():
    raw = pl.Series(["a", "b", "c", "c"])
    balanced = reconcile(raw, pl.Series(["a", "b"]), pl.Series(["c", "c"]))
    assert balanced.balanced and (balanced.raw, balanced.clean, balanced.quarantined) == (3, 2, 1)

    broken = reconcile(raw, pl.Series(["a", "x"]), pl.Series(["a"]))
    assert not broken.balanced
    assert broken.missing.to_list() == ["b", "c"]
    assert broken.unexpected.to_list() == ["x"]
    assert broken.in_both.to_list() == ["a"]


def raw_rows_per_race(**rows: int) -> pl.DataFrame:
    return pl.DataFrame({"race_id": list(rows), "rows": list(rows.values())})


def test_rows_per_race_reconcile_raw_with_clean_quarantined_and_collapsed():
    parsed = runners({"horse_id": "hrs_1"}, {"horse_id": None}, {"horse_id": "hrs_3", "age": 9},
                     {"horse_id": "hrs_3", "age": 10}, {"horse_id": "hrs_5"}, {"horse_id": "hrs_5"},
                     {"race_id": "rac_2", "horse_id": "hrs_6"})
    validation = validate(parsed, "runners")
    assert (validation.valid.height, validation.quarantined.height, validation.collapsed_duplicates) == (3, 3, 1)
    outcome = reconcile_per_race(raw_rows_per_race(rac_1=6, rac_2=1), validation)
    assert outcome.balanced and outcome.unbalanced.is_empty()
    assert (outcome.raw, outcome.clean, outcome.quarantined) == (7, 3, 3)


def test_a_race_with_rows_lost_or_invented_is_named():
    validation = validate(runners({"horse_id": "hrs_1"}, {"race_id": "rac_2", "horse_id": "hrs_2"}), "runners")
    outcome = reconcile_per_race(raw_rows_per_race(rac_1=2, rac_2=0, rac_3=1), validation)
    assert not outcome.balanced
    assert outcome.missing.to_list() == ["rac_1", "rac_3"]
    assert outcome.unexpected.to_list() == ["rac_2"]
    assert outcome.unbalanced.rows() == [("rac_1", 2, 1, 0, 0), ("rac_2", 0, 1, 0, 0), ("rac_3", 1, 0, 0, 0)]


def test_rows_of_races_without_id_reconcile_as_one_group():
    validation = validate(runners({"race_id": None, "horse_id": "hrs_1"}), "runners")
    raw = pl.DataFrame({"race_id": [None], "rows": [1]}, schema={"race_id": pl.String, "rows": pl.Int64})
    assert reconcile_per_race(raw, validation).balanced
    lost = reconcile_per_race(raw.with_columns(pl.lit(2).alias("rows")), validation)
    assert lost.missing.to_list() == ["(no race_id)"]
