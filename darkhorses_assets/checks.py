"""Asset checks for the clean tables, built from a ``validation.Validation`` (the Dagster side of validation).

Four checks per table (names ``<table>_<kind>``):

* ``hard_rules`` (blocking, ERROR) — bad rows are quarantined, not fatal, so this check asks whether the
  *output* is sound: it passes when the valid frame re-validates against the hard model and there was no
  structural failure (missing column, wrong dtype, crashed check: a code bug that quarantines every row).
  It reports the quarantined count and the failing rows per hard rule with examples.
* ``soft_rules`` (WARN) — fails (as a warning) when any plausibility range is broken; rows stay clean.
* ``reconciliation`` (blocking, ERROR) — every raw id landed in exactly one of clean / quarantine.
* ``quarantine_rate`` (WARN) — more than ``MAX_QUARANTINE_RATE`` of the rows were quarantined.

Every result carries ``partition_range`` (the run's first..last partition): a multi-day run reports one
check result for the whole range, which the UI would otherwise not show.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from dagster import AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, AssetKey, MetadataValue

from darkhorses_assets.validation import MAX_EXAMPLES, Reconciliation, RuleOutcome, Validation, hard_failures

HARD_RULES = "hard_rules"
SOFT_RULES = "soft_rules"
RECONCILIATION = "reconciliation"
QUARANTINE_RATE = "quarantine_rate"
MAX_QUARANTINE_RATE = 0.01

CoercibleKey = AssetKey | str | Sequence[str]


def check_name(table: str, kind: str) -> str:
    return f"{table}_{kind}"


def check_specs_for(
    asset_key: CoercibleKey, table: str, *, reconciliation: bool = True
) -> list[AssetCheckSpec]:
    """The checks to declare on the asset writing ``table`` (``check_specs=`` of ``@asset``).

    Leave out ``reconciliation`` for tables with no raw id list to compare against (e.g. horses)."""
    key = AssetKey.from_coercible(asset_key)
    specs = [
        AssetCheckSpec(
            check_name(table, HARD_RULES), asset=key, blocking=True,
            description=f"Clean {table} rows satisfy every hard rule (keys, types, codes); "
                        "rows that did not were quarantined.",
        ),
        AssetCheckSpec(
            check_name(table, SOFT_RULES), asset=key,
            description=f"Clean {table} values lie in their plausible ranges (warning only).",
        ),
        AssetCheckSpec(
            check_name(table, QUARANTINE_RATE), asset=key,
            description=f"At most {MAX_QUARANTINE_RATE:.0%} of {table} rows were quarantined (warning only).",
        ),
    ]
    if reconciliation:
        specs.append(AssetCheckSpec(
            check_name(table, RECONCILIATION), asset=key, blocking=True,
            description=f"Every {table} row in raw is either clean or quarantined.",
        ))
    return specs


def check_results_for(
    validation: Validation,
    table: str,
    partition_range: str,
    asset_key: CoercibleKey,
    *,
    reconciliation: Reconciliation | None = None,
    max_quarantine_rate: float = MAX_QUARANTINE_RATE,
) -> list[AssetCheckResult]:
    """Results for the checks of ``check_specs_for``, to return in ``MaterializeResult(check_results=...)``.

    Pass ``reconciliation`` exactly when that check was declared: Dagster fails the step when a declared
    check gets no result."""
    if validation.table != table:
        raise ValueError(f"validation is for table {validation.table!r}, not {table!r}")
    key = AssetKey.from_coercible(asset_key)
    results = [
        _hard_result(validation, partition_range, key),
        _soft_result(validation, partition_range, key),
        _rate_result(validation, partition_range, key, max_quarantine_rate),
    ]
    if reconciliation is not None:
        results.append(_reconciliation_result(reconciliation, table, partition_range, key))
    return results


def _hard_result(validation: Validation, partition_range: str, key: AssetKey) -> AssetCheckResult:
    recheck = hard_failures(validation.valid, validation.table)
    metadata = {
        **_common(validation, partition_range),
        **_rule_metadata(validation.hard_rules),
        "valid_rows_failing_hard_rules": MetadataValue.int(recheck.height),
    }
    if validation.structural_errors:
        metadata["structural_errors"] = MetadataValue.json(validation.structural_errors)
    return AssetCheckResult(
        check_name=check_name(validation.table, HARD_RULES),
        asset_key=key,
        passed=recheck.is_empty() and not validation.structural_errors,
        severity=AssetCheckSeverity.ERROR,
        metadata=metadata,
    )


def _soft_result(validation: Validation, partition_range: str, key: AssetKey) -> AssetCheckResult:
    return AssetCheckResult(
        check_name=check_name(validation.table, SOFT_RULES),
        asset_key=key,
        passed=all(rule.failing_rows == 0 for rule in validation.soft_rules),
        severity=AssetCheckSeverity.WARN,
        metadata={**_common(validation, partition_range), **_rule_metadata(validation.soft_rules)},
    )


def _rate_result(
    validation: Validation, partition_range: str, key: AssetKey, limit: float
) -> AssetCheckResult:
    return AssetCheckResult(
        check_name=check_name(validation.table, QUARANTINE_RATE),
        asset_key=key,
        passed=validation.quarantine_rate <= limit,
        severity=AssetCheckSeverity.WARN,
        metadata={
            **_common(validation, partition_range),
            "quarantine_rate": MetadataValue.float(round(validation.quarantine_rate, 6)),
            "max_quarantine_rate": MetadataValue.float(limit),
        },
    )


def _reconciliation_result(
    reconciliation: Reconciliation, table: str, partition_range: str, key: AssetKey
) -> AssetCheckResult:
    def sample(ids) -> MetadataValue:
        return MetadataValue.json([_jsonable(value) for value in ids.head(MAX_EXAMPLES).to_list()])

    return AssetCheckResult(
        check_name=check_name(table, RECONCILIATION),
        asset_key=key,
        passed=reconciliation.balanced,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "partition_range": MetadataValue.text(partition_range),
            "raw_ids": MetadataValue.int(reconciliation.raw),
            "clean_ids": MetadataValue.int(reconciliation.clean),
            "quarantined_ids": MetadataValue.int(reconciliation.quarantined),
            "missing_ids": MetadataValue.int(reconciliation.missing.len()),
            "unexpected_ids": MetadataValue.int(reconciliation.unexpected.len()),
            "ids_in_both": MetadataValue.int(reconciliation.in_both.len()),
            "missing_examples": sample(reconciliation.missing),
            "unexpected_examples": sample(reconciliation.unexpected),
            "in_both_examples": sample(reconciliation.in_both),
        },
    )


def _common(validation: Validation, partition_range: str) -> dict[str, Any]:
    return {
        "partition_range": MetadataValue.text(partition_range),
        "input_rows": MetadataValue.int(validation.input_rows),
        "valid_rows": MetadataValue.int(validation.valid.height),
        "quarantined_rows": MetadataValue.int(validation.quarantined.height),
        "collapsed_duplicates": MetadataValue.int(validation.collapsed_duplicates),
    }


def _rule_metadata(rules: list[RuleOutcome]) -> dict[str, Any]:
    """Failing rows per rule (all rules, zeros included) and a markdown table of examples."""
    return {
        "failing_rows_by_rule": MetadataValue.json({rule.name: rule.failing_rows for rule in rules}),
        "examples": MetadataValue.md(_examples_markdown(rules)),
    }


def _examples_markdown(rules: list[RuleOutcome]) -> str:
    failing = [rule for rule in rules if rule.failing_rows]
    if not failing:
        return "No failing rows."
    lines = ["| rule | failing rows | example |", "|---|---|---|"]
    for rule in failing:
        for example in rule.examples[:MAX_EXAMPLES]:
            text = json.dumps({k: _jsonable(v) for k, v in example.items()}, ensure_ascii=False)
            lines.append(f"| {_cell(rule.name)} | {rule.failing_rows} | {_cell(text)} |")
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
