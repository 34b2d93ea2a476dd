"""Asset checks built from a Validation: specs, results, and a real materialisation."""

from __future__ import annotations

import polars as pl
import pytest
from dagster import AssetCheckSeverity, AssetKey, MaterializeResult, asset, materialize

from darkhorses_assets.checks import check_results_for, check_specs_for
from darkhorses_assets.schemas.validation import reconcile, reconcile_per_race, validate
from darkhorses_assets_tests.test_validation import RACE_DATE, frame_of, runners

KEY = AssetKey(["clean", "runners"])
RANGE = "2025-10-13..2025-10-14"


def races(table: str, *rows: dict) -> pl.DataFrame:
    return frame_of(table, list(rows), race_date=RACE_DATE, region="GB")


def results_by_name(validation, **kwargs):
    results = check_results_for(validation, "runners", RANGE, KEY, **kwargs)
    return {result.check_name: result for result in results}


def test_specs():
    specs = {spec.name: spec for spec in check_specs_for(KEY, "runners")}
    assert set(specs) == {"runners_hard_rules", "runners_soft_rules", "runners_reconciliation"}
    assert specs["runners_hard_rules"].blocking and specs["runners_reconciliation"].blocking
    assert not specs["runners_soft_rules"].blocking
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

    assert soft.metadata["failing_rows_by_rule"].value["quarantine_rate"] == 1
    assert soft.metadata["quarantine_rate"].value == 0.5


def test_a_quarantine_rate_above_the_limit_alone_fails_the_soft_check():
    frame = runners({"horse_id": "hrs_1"}, {"horse_id": None})
    soft = results_by_name(validate(frame, "runners"))["runners_soft_rules"]
    assert not soft.passed
    assert soft.metadata["failing_rows_by_rule"].value == {**{
        name: 0 for name in soft.metadata["failing_rows_by_rule"].value}, "quarantine_rate": 1}
    assert results_by_name(validate(frame, "runners"), max_quarantine_rate=0.5)["runners_soft_rules"].passed


def test_every_failing_rule_shows_its_count_and_examples():
    """A quarantine rate over the limit names the quarantined rows (key and reasons), like any other rule."""
    frame = runners({"horse_id": "hrs_1", "weight_lbs": 250}, {"horse_id": None})
    results = results_by_name(validate(frame, "runners"))
    for name in ("runners_hard_rules", "runners_soft_rules"):
        examples = results[name].metadata["examples"].value
        failing = {rule: n for rule, n in results[name].metadata["failing_rows_by_rule"].value.items() if n}
        assert failing, name
        for rule, count in failing.items():
            rows = [line for line in examples.splitlines() if line.startswith(f"| {rule} | {count} | ")]
            assert rows and all("{" in line for line in rows), (rule, examples)
        assert results[name].metadata["failing_rules"].value == "; ".join(
            f"{rule}: {count} rows" for rule, count in failing.items())
    soft_examples = results["runners_soft_rules"].metadata["examples"].value
    assert "horse_id:not_null" in next(line for line in soft_examples.splitlines() if "| quarantine_rate |" in line)


def test_one_set_of_checks_covers_several_validated_tables():
    """clean/races reports its racecard view, result view and merged table under three checks."""
    card_view = validate(races("racecard_races", {"race_id": "rac_1"}, {"race_id": None}), "racecard_races")
    merged = validate(races("races", {"race_id": "rac_1"}), "races")
    balanced = reconcile(pl.Series(["rac_1"]), pl.Series(["rac_1"]), pl.Series([], dtype=pl.Utf8))
    lost = reconcile(pl.Series(["rac_1", "rac_2"]), pl.Series(["rac_1"]), pl.Series([], dtype=pl.Utf8))
    results = {
        result.check_name: result
        for result in check_results_for([card_view, merged], "races", RANGE, ["clean", "races"],
                                        reconciliation=[lost, balanced])
    }
    assert set(results) == {"races_hard_rules", "races_soft_rules", "races_reconciliation"}
    hard = results["races_hard_rules"]
    assert hard.passed
    assert hard.metadata["quarantined_rows"].value == 1
    assert hard.metadata["failing_rows_by_rule"].value["racecard_races.race_id:not_null"] == 1
    assert hard.metadata["failing_rows_by_rule"].value["races.race_id:not_null"] == 0
    assert not results["races_soft_rules"].passed
    assert results["races_soft_rules"].metadata["quarantine_rate_by_table"].value == {
        "racecard_races": 0.5, "races": 0.0}
    reconciled = results["races_reconciliation"]
    assert not reconciled.passed
    assert reconciled.metadata["missing_examples"].value == ["racecard_races: rac_2"]
    assert reconciled.metadata["by_table"].value["races"]["balanced"]
    with pytest.raises(ValueError, match="is for table 'racecard_races', not 'races'"):
        check_results_for([merged, card_view], "races", RANGE, ["clean", "races"])
    with pytest.raises(ValueError, match="1 reconciliation"):
        check_results_for([card_view, merged], "races", RANGE, ["clean", "races"], reconciliation=balanced)


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


def test_reconciliation_per_race_names_the_races_that_do_not_balance():
    validation = validate(runners({"horse_id": "hrs_1"}, {"horse_id": "hrs_2", "age": 250},
                                  {"race_id": "rac_2", "horse_id": "hrs_3"}), "runners")
    raw_rows = pl.DataFrame({"race_id": ["rac_1", "rac_2"], "rows": [2, 2]})
    balanced = results_by_name(validation, reconciliation=reconcile_per_race(
        raw_rows.with_columns(pl.Series("rows", [2, 1])), validation))["runners_reconciliation"]
    assert balanced.passed and balanced.metadata["unbalanced_races"].value == []

    result = results_by_name(validation, reconciliation=reconcile_per_race(raw_rows, validation))
    reconciled = result["runners_reconciliation"]
    assert not reconciled.passed and reconciled.severity == AssetCheckSeverity.ERROR
    assert reconciled.metadata["unbalanced_race_count"].value == 1
    assert reconciled.metadata["unbalanced_races"].value == [
        {"table": "runners", "race_id": "rac_2", "raw": 2, "clean": 1, "quarantined": 0, "collapsed": 0}]
    assert reconciled.metadata["missing_examples"].value == ["rac_2"]


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
    assert evaluations == {"runners_hard_rules": True, "runners_soft_rules": False,
                           "runners_reconciliation": True}


def test_a_parser_that_drops_a_runner_fails_the_blocking_check_and_stops_downstream():
    """The clean layer's checks (same specs and results as `assets/clean.py`) on the real samples with one parsed
    runner dropped: the runners reconciliation fails, names the race, and the asset downstream does not run."""
    from darkhorses_assets.transforms.clean_layer import clean_race_days
    from darkhorses_assets_tests.test_clean_layer import sample_days

    cards, results = sample_days()
    dropped = cards["race_id"][0]

    def drop_one_runner(parsed):
        runners = parsed["runners"]
        parsed["runners"] = runners.filter(pl.int_range(pl.len()) != 0)
        return parsed

    @asset(key=KEY, check_specs=check_specs_for(KEY, "runners"))
    def clean_runners():
        cleaned = clean_race_days(cards, results, alter_parsed=drop_one_runner)
        return MaterializeResult(check_results=check_results_for(
            cleaned.validations["runners"], "runners", RANGE, KEY,
            reconciliation=cleaned.reconciliations["runners"]))

    @asset(deps=[clean_runners])
    def downstream():
        return None

    result = materialize([clean_runners, downstream], raise_on_error=False)
    assert not result.success
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    reconciled = evaluations["runners_reconciliation"]
    assert not reconciled.passed and reconciled.severity == AssetCheckSeverity.ERROR
    assert [race["race_id"] for race in reconciled.metadata["unbalanced_races"].value] == [dropped]
    assert evaluations["runners_hard_rules"].passed, "every row left is valid: only reconciliation sees the loss"
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert AssetKey("downstream") not in materialized
