"""Asset checks built from a Validation: specs, results, and a real materialisation."""

from __future__ import annotations

import polars as pl
from dagster import AssetCheckSeverity, AssetKey, MaterializeResult, asset, materialize

from darkhorses_assets.checks import check_results_for, check_specs_for
from darkhorses_assets.validation import reconcile, validate
from darkhorses_assets_tests.test_validation import runners

KEY = AssetKey(["clean", "runners"])
RANGE = "2025-10-13..2025-10-14"


def results_by_name(validation, **kwargs):
    results = check_results_for(validation, "runners", RANGE, KEY, **kwargs)
    return {result.check_name: result for result in results}


def test_specs():
    specs = {spec.name: spec for spec in check_specs_for(KEY, "runners")}
    assert set(specs) == {"runners_hard_rules", "runners_soft_rules", "runners_quarantine_rate",
                          "runners_reconciliation"}
    assert specs["runners_hard_rules"].blocking and specs["runners_reconciliation"].blocking
    assert not specs["runners_soft_rules"].blocking and not specs["runners_quarantine_rate"].blocking
    assert all(spec.asset_key == KEY for spec in specs.values())
    assert "runners_reconciliation" not in {spec.name for spec in check_specs_for(KEY, "runners",
                                                                                  reconciliation=False)}


def test_quarantined_rows_do_not_fail_the_hard_check_but_the_rate_warns():
    frame = runners({"horse_id": "hrs_1", "weight_lbs": 250}, {"horse_id": None})
    results = results_by_name(validate(frame, "runners"))
    hard = results["runners_hard_rules"]
    assert hard.passed and hard.severity == AssetCheckSeverity.ERROR
    assert hard.metadata["quarantined_rows"].value == 1
    assert hard.metadata["failing_rows_by_rule"].value["horse_id:not_null"] == 1
    assert hard.metadata["partition_range"].value == RANGE
    assert "horse_id:not_null" in hard.metadata["examples"].value

    soft = results["runners_soft_rules"]
    assert not soft.passed and soft.severity == AssetCheckSeverity.WARN
    assert soft.metadata["failing_rows_by_rule"].value["weight_lbs:in_range(100, 190)"] == 1

    rate = results["runners_quarantine_rate"]
    assert not rate.passed and rate.severity == AssetCheckSeverity.WARN
    assert rate.metadata["quarantine_rate"].value == 0.5


def test_structural_failure_fails_the_hard_check():
    frame = runners({"horse_id": "hrs_1"}).drop("form")
    hard = results_by_name(validate(frame, "runners"))["runners_hard_rules"]
    assert not hard.passed
    assert hard.metadata["structural_errors"].value == ["missing column form"]


def test_reconciliation_result():
    validation = validate(runners({"horse_id": "hrs_1"}, {"horse_id": "hrs_2", "age": 250}), "runners")
    raw_ids = pl.Series(["hrs_1", "hrs_2", "hrs_3"])
    outcome = reconcile(raw_ids, validation.valid["horse_id"], validation.quarantined["horse_id"])
    result = results_by_name(validation, reconciliation=outcome)["runners_reconciliation"]
    assert not result.passed and result.severity == AssetCheckSeverity.ERROR
    assert result.metadata["missing_examples"].value == ["hrs_3"]


def test_results_are_accepted_by_dagster():
    @asset(key=KEY, check_specs=check_specs_for(KEY, "runners"))
    def clean_runners():
        validation = validate(runners({"horse_id": "hrs_1"}, {"horse_id": "hrs_1", "age": 9}), "runners")
        outcome = reconcile(
            pl.Series(["hrs_1"]), validation.valid["horse_id"], validation.quarantined["horse_id"]
        )
        return MaterializeResult(
            check_results=check_results_for(validation, "runners", RANGE, KEY, reconciliation=outcome)
        )

    result = materialize([clean_runners])
    assert result.success
    evaluations = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert evaluations == {"runners_hard_rules": True, "runners_soft_rules": True,
                           "runners_quarantine_rate": False, "runners_reconciliation": True}
