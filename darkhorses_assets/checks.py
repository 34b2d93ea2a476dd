"""Asset checks for every validated table — clean, dimension, feature and statistics tables — built from
``validation.Validation``s (the Dagster side of validation).

Three checks per asset (names ``<table>_<kind>``):

* ``hard_rules`` (blocking, ERROR) — bad rows are quarantined, not fatal, so this check asks whether the
  *output* is sound: it passes when the valid frame re-validates against the hard model and there was no
  structural failure (missing column, wrong dtype, crashed check: a code bug that quarantines every row).
  It reports the quarantined count and the failing rows per hard rule with examples.
* ``soft_rules`` (WARN) — fails (as a warning) when any plausibility range is broken (rows stay clean) or
  more than ``MAX_QUARANTINE_RATE`` of the rows were quarantined.
* ``reconciliation`` (blocking, ERROR) — every raw id landed in exactly one of clean / quarantine; for the
  race tables, per race, rows counted from the raw JSON = clean + quarantined rows. Its metadata names the
  races that do not balance (``unbalanced_races``: table, race_id and the counts).

An asset built from several validated tables (clean ``races``: the racecard view, the result view and the
merged table) gets one set of checks covering all of them; rule names are then prefixed with the table
(``result_races.race_id:not_null``). Fewer checks is deliberate: Dagster stores one planned row per check
and partition of a run, so a year-long range costs 365 rows per declared check.

Every result carries ``partition_range`` (the run's first..last partition): a multi-day run reports one
check result for the whole range, which the UI would otherwise not show.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

from dagster import AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, AssetKey, MetadataValue

from darkhorses_assets.schemas.validation import MAX_EXAMPLES, Reconciliation, RuleOutcome, Validation, hard_failures

HARD_RULES = "hard_rules"
SOFT_RULES = "soft_rules"
RECONCILIATION = "reconciliation"
QUARANTINE_RATE_RULE = "quarantine_rate"
MAX_QUARANTINE_RATE = 0.01

CoercibleKey = AssetKey | str | Sequence[str]


def check_name(table: str, kind: str) -> str:
    return f"{table}_{kind}"


def check_specs_for(
    asset_key: CoercibleKey, table: str, *, reconciliation: bool = True, derived: bool = False
) -> list[AssetCheckSpec]:
    """The checks to declare on the asset writing ``table`` (``check_specs=`` of ``@asset``).

    Leave out ``reconciliation`` for tables with no raw id list to compare against (e.g. horses). ``derived``
    tables (features, statistics) are computed from clean rows, so a row failing a hard rule is a bug, not bad
    input: it is not quarantined, and their ``hard_rules`` check fails on it (no reconciliation either)."""
    key = AssetKey.from_coercible(asset_key)
    hard = (f"Every {table} row satisfies the hard rules (keys present and unique, types); a derived row failing "
            "one is a bug: the check fails and blocks what depends on it." if derived else
            f"Clean {table} rows satisfy every hard rule (keys, types, codes); rows that did not were quarantined.")
    soft = (f"{table} values lie in their plausible ranges (warning only)." if derived else
            f"Clean {table} values lie in their plausible ranges and at most {MAX_QUARANTINE_RATE:.0%} of the rows "
            "were quarantined (warning only).")
    specs = [
        AssetCheckSpec(check_name(table, HARD_RULES), asset=key, blocking=True, description=hard),
        AssetCheckSpec(check_name(table, SOFT_RULES), asset=key, description=soft),
    ]
    if reconciliation and not derived:
        specs.append(AssetCheckSpec(
            check_name(table, RECONCILIATION), asset=key, blocking=True,
            description=f"Every {table} row in raw is either clean or quarantined (for race tables: per race, "
                        "rows counted from the raw JSON = clean + quarantined rows).",
        ))
    return specs


def check_results_for(
    validations: Validation | Sequence[Validation],
    table: str,
    partition_range: str,
    asset_key: CoercibleKey,
    *,
    reconciliation: Reconciliation | Sequence[Reconciliation] | None = None,
    max_quarantine_rate: float = MAX_QUARANTINE_RATE,
    derived: bool = False,
) -> list[AssetCheckResult]:
    """Results for the checks of ``check_specs_for``, to return in ``MaterializeResult(check_results=...)``.

    ``validations``: the asset's validation, or several whose last is the asset's own ``table`` (then
    ``reconciliation`` is one per validation, in the same order). Pass ``reconciliation`` exactly when that
    check was declared: Dagster fails the step when a declared check gets no result."""
    validations = [validations] if isinstance(validations, Validation) else list(validations)
    if validations[-1].table != table:
        raise ValueError(f"validation is for table {validations[-1].table!r}, not {table!r}")
    key = AssetKey.from_coercible(asset_key)
    results = [
        _hard_result(validations, table, partition_range, key, derived),
        _soft_result(validations, table, partition_range, key, max_quarantine_rate),
    ]
    if reconciliation is not None:
        reconciliations = [reconciliation] if isinstance(reconciliation, Reconciliation) else list(reconciliation)
        if len(reconciliations) != len(validations):
            raise ValueError(f"{len(reconciliations)} reconciliation(s) for {len(validations)} validation(s)")
        by_table = dict(zip([v.table for v in validations], reconciliations, strict=True))
        results.append(_reconciliation_result(by_table, table, partition_range, key))
    return results


def _rules(validations: list[Validation], hard: bool) -> list[RuleOutcome]:
    """Every validation's hard (or soft) rules; prefixed with their table when there are several."""
    return [
        dataclasses.replace(rule, name=_prefixed(validations, validation.table, rule.name))
        for validation in validations
        for rule in (validation.hard_rules if hard else validation.soft_rules)
    ]


def _prefixed(validations: list[Validation], table: str, name: str) -> str:
    return f"{table}.{name}" if len(validations) > 1 else name


def _hard_result(
    validations: list[Validation], table: str, partition_range: str, key: AssetKey, derived: bool
) -> AssetCheckResult:
    rechecked = sum(_valid_rows_failing(v) for v in validations)
    structural = [error for v in validations for error in v.structural_errors]
    failing = sum(v.quarantined.height + v.collapsed_duplicates for v in validations) if derived else 0
    metadata = {
        **_common(validations, partition_range),
        **_rule_metadata(_rules(validations, hard=True)),
        "valid_rows_failing_hard_rules": MetadataValue.int(rechecked),
    }
    if derived:
        metadata["rows_failing_hard_rules"] = MetadataValue.int(failing)
    if structural:
        metadata["structural_errors"] = MetadataValue.json(structural)
    return AssetCheckResult(
        check_name=check_name(table, HARD_RULES),
        asset_key=key,
        passed=rechecked == 0 and not structural and failing == 0,
        severity=AssetCheckSeverity.ERROR,
        metadata=metadata,
    )


def _valid_rows_failing(validation: Validation) -> int:
    """Valid rows that fail the hard model when validated again. Only a split can change the verdict: with
    nothing quarantined the valid frame is the frame pandera just passed, so it is not validated twice."""
    if validation.quarantined.is_empty() and not validation.structural_errors:
        return 0
    return hard_failures(validation.valid, validation.table)["index"].n_unique()


def _soft_result(
    validations: list[Validation], table: str, partition_range: str, key: AssetKey, limit: float
) -> AssetCheckResult:
    rates = {validation.table: validation.quarantine_rate for validation in validations}
    rate_rules = [
        RuleOutcome(_prefixed(validations, v.table, QUARANTINE_RATE_RULE), hard=False,
                    failing_rows=v.quarantined.height if rates[v.table] > limit else 0,
                    examples=_quarantined_examples(v) if rates[v.table] > limit else [])
        for v in validations
    ]
    rules = _rules(validations, hard=False) + rate_rules
    metadata = {
        **_common(validations, partition_range),
        **_rule_metadata(rules),
        "quarantine_rate": MetadataValue.float(round(max(rates.values()), 6)),
        "max_quarantine_rate": MetadataValue.float(limit),
    }
    if len(rates) > 1:
        metadata["quarantine_rate_by_table"] = MetadataValue.json({t: round(r, 6) for t, r in rates.items()})
    return AssetCheckResult(
        check_name=check_name(table, SOFT_RULES),
        asset_key=key,
        passed=all(rule.failing_rows == 0 for rule in rules),
        severity=AssetCheckSeverity.WARN,
        metadata=metadata,
    )


def _quarantined_examples(validation: Validation) -> list[dict[str, Any]]:
    """Up to MAX_EXAMPLES quarantined rows as the quarantine table shows them: day, key and every reason."""
    columns = [c for c in ("race_date", "row_key", "reasons") if c in validation.quarantined.columns]
    return validation.quarantined.select(columns).head(MAX_EXAMPLES).to_dicts()


def _reconciliation_result(
    reconciliations: dict[str, Reconciliation], table: str, partition_range: str, key: AssetKey
) -> AssetCheckResult:
    def sample(field: str) -> MetadataValue:
        prefix = len(reconciliations) > 1
        ids = [
            f"{name}: {_jsonable(value)}" if prefix else _jsonable(value)
            for name, outcome in reconciliations.items()
            for value in getattr(outcome, field).head(MAX_EXAMPLES).to_list()
        ]
        return MetadataValue.json(ids[:MAX_EXAMPLES])

    own = reconciliations[table]
    metadata = {
        "partition_range": MetadataValue.text(partition_range),
        "raw_ids": MetadataValue.int(own.raw),
        "clean_ids": MetadataValue.int(own.clean),
        "quarantined_ids": MetadataValue.int(own.quarantined),
        "missing_ids": MetadataValue.int(sum(r.missing.len() for r in reconciliations.values())),
        "unexpected_ids": MetadataValue.int(sum(r.unexpected.len() for r in reconciliations.values())),
        "ids_in_both": MetadataValue.int(sum(r.in_both.len() for r in reconciliations.values())),
        "missing_examples": sample("missing"),
        "unexpected_examples": sample("unexpected"),
        "in_both_examples": sample("in_both"),
    }
    unbalanced = [
        {"table": name, **{k: _jsonable(v) for k, v in row.items()}}
        for name, outcome in reconciliations.items()
        if outcome.unbalanced is not None
        for row in outcome.unbalanced.head(MAX_EXAMPLES).iter_rows(named=True)
    ]
    if any(outcome.unbalanced is not None for outcome in reconciliations.values()):
        metadata["unbalanced_races"] = MetadataValue.json(unbalanced[:MAX_EXAMPLES])
        metadata["unbalanced_race_count"] = MetadataValue.int(
            sum(r.unbalanced.height for r in reconciliations.values() if r.unbalanced is not None)
        )
    if len(reconciliations) > 1:
        metadata["by_table"] = MetadataValue.json({
            name: {"raw": r.raw, "clean": r.clean, "quarantined": r.quarantined, "balanced": r.balanced}
            for name, r in reconciliations.items()
        })
    return AssetCheckResult(
        check_name=check_name(table, RECONCILIATION),
        asset_key=key,
        passed=all(outcome.balanced for outcome in reconciliations.values()),
        severity=AssetCheckSeverity.ERROR,
        metadata=metadata,
    )


def _common(validations: list[Validation], partition_range: str) -> dict[str, Any]:
    """Row counts of the asset's own table (the last validation); quarantined rows of all of them."""
    own = validations[-1]
    return {
        "partition_range": MetadataValue.text(partition_range),
        "input_rows": MetadataValue.int(own.input_rows),
        "valid_rows": MetadataValue.int(own.valid.height),
        "quarantined_rows": MetadataValue.int(sum(v.quarantined.height for v in validations)),
        "collapsed_duplicates": MetadataValue.int(sum(v.collapsed_duplicates for v in validations)),
    }


def _rule_metadata(rules: list[RuleOutcome]) -> dict[str, Any]:
    """The failing rules with their counts in one line (shown as is in the check's page), failing rows per rule
    (all rules, zeros included) and a markdown table of examples."""
    failing = [f"{rule.name}: {rule.failing_rows} rows" for rule in rules if rule.failing_rows]
    return {
        "failing_rules": MetadataValue.text("; ".join(failing) if failing else "none"),
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
        if not rule.examples:
            lines.append(f"| {_cell(rule.name)} | {rule.failing_rows} | (no row recorded: a rule on the whole table) |")
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
