"""Split a clean frame into valid rows and quarantined rows, with a summary per rule (pure polars + pandera).

Decisions:

* **Hard rules** (the table's ``*Hard`` pandera model) decide where a row goes. A row failing any of them is
  quarantined with *all* its reasons; the rest is the valid frame (without ``raw_json``).
* **Soft rules** (the ``*Soft`` model) are checked on the valid rows only and never move a row.
* **Duplicate keys**: rows that are exact copies of one another (every column but ``raw_json``) collapse to
  the first one before validation — a race fetched twice is one race. Rows sharing a key but differing in
  content *conflict*: no row can be trusted over the other, so all of them are quarantined ("duplicate_key").
* **Structural failures** (a missing column, a wrong dtype, a check that crashed) have no row index: they
  quarantine every row, and are listed in ``Validation.structural_errors`` — a code bug, not bad data.
* Rows of a race quarantined elsewhere (``quarantined_race_ids``) are quarantined too ("race_quarantined"),
  so a clean table never references a race missing from clean ``races``.

Pandera reports failures lazily (``lazy=True``) as a ``failure_cases`` frame whose ``index`` is the row
position; reasons are grouped per index with polars, so cost grows with failures, not with rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandera.polars as pa
import polars as pl
from pandera.config import ValidationDepth, config_context

from darkhorses_assets.schemas import TABLES, Model, TableSchema, as_schema

QUARANTINE_SCHEMA: dict[str, pl.DataType] = {
    "table": pl.Utf8(),
    "source_asset": pl.Utf8(),
    "race_date": pl.Date(),
    "race_id": pl.Utf8(),
    "horse_id": pl.Utf8(),
    "row_key": pl.Utf8(),
    "reasons": pl.Utf8(),
    "raw_json": pl.Utf8(),
}
"""One row per quarantined row. ``race_date`` / ``race_id`` / ``horse_id`` are null for tables without them
(courses, horses); ``source_asset`` is the raw asset the row was parsed from (``SOURCE_ASSETS``);
``row_key`` is the readable key (``race_id=rac_1|horse_id=hrs_2``); ``reasons`` are the failed rule names
(with the offending value) joined by ``; ``; ``raw_json`` is the row's raw JSON fragment,
or the parsed row serialised as JSON when the frame has no ``raw_json`` column."""

SOURCE_ASSETS: dict[str, str] = {
    "racecard_races": "raw/raw_racecards",
    "runners": "raw/raw_racecards",
    "runner_odds": "raw/raw_racecards",
    "result_races": "raw/raw_results",
    "results": "raw/raw_results",
    "non_runners": "raw/raw_results",
    "races": "raw/raw_racecards, raw/raw_results",
    "courses": "raw/raw_courses",
    "horse_profiles": "raw/raw_horse_profiles",
}
"""The raw asset(s) each validated table is parsed from; tables built from clean tables name those."""
RAW_JSON = "raw_json"
SCHEMA_RULE = "schema"
DUPLICATE_KEY_RULE = "duplicate_key"
RACE_QUARANTINED_RULE = "race_quarantined"
MAX_EXAMPLES = 10
_ROW = "__row"


@dataclass(frozen=True)
class RuleOutcome:
    """How many rows failed one rule, with up to ``MAX_EXAMPLES`` of them (race_date, key columns, reason)."""

    name: str
    hard: bool
    failing_rows: int
    examples: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Validation:
    table: str
    input_rows: int
    valid: pl.DataFrame
    quarantined: pl.DataFrame
    rules: list[RuleOutcome]
    collapsed_keys: pl.DataFrame = field(default_factory=pl.DataFrame)
    """The key columns of the exact duplicate rows dropped before validation (for ``reconcile_per_race``)."""
    collapsed_duplicates: int = 0
    """Exact duplicate rows dropped before validation (not quarantined)."""
    structural_errors: list[str] = field(default_factory=list)

    @property
    def hard_rules(self) -> list[RuleOutcome]:
        return [rule for rule in self.rules if rule.hard]

    @property
    def soft_rules(self) -> list[RuleOutcome]:
        return [rule for rule in self.rules if not rule.hard]

    @property
    def quarantine_rate(self) -> float:
        """Quarantined rows ÷ rows after collapsing exact duplicates (0 for an empty input)."""
        rows = self.input_rows - self.collapsed_duplicates
        return self.quarantined.height / rows if rows else 0.0


def validate(
    frame: pl.DataFrame, table: str, *, quarantined_race_ids: pl.Series | None = None
) -> Validation:
    """Validate ``frame`` against the hard and soft models of ``table`` (a key of ``schemas.TABLES``)."""
    spec = TABLES[table]
    deduped, collapsed = _collapse_exact_duplicates(frame, spec.key)
    parsed = deduped.drop(RAW_JSON, strict=False).rechunk()
    failures = _failure_cases(parsed, spec.hard)
    if quarantined_race_ids is not None and "race_id" in parsed.columns and not table.endswith("races"):
        failures = pl.concat([failures, _race_quarantined(parsed, quarantined_race_ids)])
    failures = _with_rules(failures)

    structural = failures.filter(pl.col("index").is_null())
    row_failures = failures.filter(pl.col("index").is_not_null())
    if structural.height:
        every_row = pl.DataFrame({"index": range(parsed.height)}, schema={"index": pl.Int64})
        row_failures = pl.concat(
            [row_failures, structural.drop("index").join(every_row, how="cross").select(row_failures.columns)]
        )
    reasons = row_failures.group_by("index").agg(
        pl.col("reason").unique().sort().str.join("; ").alias("reasons")
    ).sort("index")
    bad = deduped.select(pl.all().gather(reasons["index"])).with_columns(reasons["reasons"])
    valid = parsed
    if reasons.height:
        valid = parsed.filter(pl.int_range(pl.len(), dtype=pl.Int64).is_in(reasons["index"].implode()).not_())

    rules = _outcomes(spec, failures, parsed, hard=True)
    if spec.soft is not None:
        rules += _outcomes(spec, _with_rules(_failure_cases(valid, spec.soft)), valid, hard=False)

    return Validation(
        table=table,
        input_rows=frame.height,
        valid=valid,
        quarantined=_quarantine_rows(bad, table, spec.key),
        collapsed_keys=collapsed.select(column for column in spec.key if column in collapsed.columns),
        rules=rules,
        collapsed_duplicates=collapsed.height,
        structural_errors=structural["reason"].unique(maintain_order=True).to_list(),
    )


def hard_failures(frame: pl.DataFrame, table: str) -> pl.DataFrame:
    """Pandera failure cases of ``frame`` against the hard model (empty when every hard rule holds)."""
    return _with_rules(_failure_cases(frame, TABLES[table].hard))


def _row_key(frame: pl.DataFrame, key: tuple[str, ...]) -> pl.Expr:
    def part(column: str) -> pl.Expr:
        if column not in frame.columns:
            return pl.lit(f"{column}=missing")
        value = pl.col(column).cast(pl.Utf8, strict=False).fill_null("null")
        return pl.concat_str(pl.lit(f"{column}="), value)

    return pl.concat_str([part(column) for column in key], separator="|").alias("row_key")


def _collapse_exact_duplicates(frame: pl.DataFrame, key: tuple[str, ...]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The frame without exact duplicates (the first copy kept, in order), and the copies dropped."""
    if not all(column in frame.columns for column in key) or frame.height < 2:
        return frame, frame.clear()
    if not frame.select(pl.struct(key).is_duplicated().any()).item():
        return frame, frame.clear()
    first = pl.struct(column for column in frame.columns if column != RAW_JSON).is_first_distinct()
    return frame.filter(first), frame.filter(~first)


_FAILURE_SCHEMA = {"failure_case": pl.Utf8, "schema_context": pl.Utf8, "column": pl.Utf8, "check": pl.Utf8,
                   "index": pl.Int64}


def _failure_cases(frame: pl.DataFrame, model: Model) -> pl.DataFrame:
    """Pandera's failure cases (``failure_case``, ``schema_context``, ``column``, ``check``, ``index``)."""
    with config_context(validation_enabled=True, validation_depth=ValidationDepth.SCHEMA_AND_DATA):
        try:
            model.validate(frame, lazy=True)
        except pa.errors.SchemaErrors as errors:
            cases = errors.failure_cases
            if isinstance(cases.schema["failure_case"], pl.List):  # e.g. the columns a regex column did not match
                cases = cases.with_columns(pl.col("failure_case").list.join(", "))
            return cases.select(pl.col(name).cast(dtype) for name, dtype in _FAILURE_SCHEMA.items())
    return pl.DataFrame(schema=_FAILURE_SCHEMA)


def _race_quarantined(frame: pl.DataFrame, race_ids: pl.Series) -> pl.DataFrame:
    hits = frame.select(pl.col("race_id").is_in(race_ids.implode()).arg_true().cast(pl.Int64).alias("index"))
    return hits.select(
        pl.lit(None, pl.Utf8).alias("failure_case"),
        pl.lit("Column").alias("schema_context"),
        pl.lit("race_id").alias("column"),
        pl.lit(RACE_QUARANTINED_RULE).alias("check"),
        "index",
    )


def _with_rules(failures: pl.DataFrame) -> pl.DataFrame:
    """Add ``rule`` (a stable name, also used by ``_declared_rules``) and ``reason`` (rule + value)."""
    check, column, case = pl.col("check"), pl.col("column"), pl.col("failure_case")
    column_level = pl.col("schema_context") == "Column"
    rule = (
        pl.when(check.is_in(["column_in_dataframe"]) | check.str.starts_with("dtype("))
        .then(pl.lit(SCHEMA_RULE))
        .when(check == "multiple_fields_uniqueness")
        .then(pl.lit(DUPLICATE_KEY_RULE))
        .when(check == RACE_QUARANTINED_RULE)
        .then(pl.lit(RACE_QUARANTINED_RULE))
        .when(check == "not_nullable")
        .then(pl.concat_str(column, pl.lit(":not_null")))
        .when(check == "field_uniqueness")
        .then(pl.concat_str(column, pl.lit(":unique")))
        .when(column_level)
        .then(pl.concat_str(column, pl.lit(":"), check))
        .otherwise(check)
    )
    reason = (
        pl.when(check == "column_in_dataframe")
        .then(pl.concat_str(pl.lit("missing column "), case))
        .when(check.str.starts_with("dtype("))
        .then(pl.concat_str(column, pl.lit(" is "), case, pl.lit(", expected "), _expected_dtype(check)))
        .when(pl.col("index").is_null())
        .then(pl.concat_str(pl.col("rule"), pl.lit(" failed: "), case.fill_null("")))
        .when(column_level & case.is_not_null() & (check != "field_uniqueness"))
        .then(pl.concat_str(pl.col("rule"), pl.lit(" (got "), case, pl.lit(")")))
        .otherwise(pl.col("rule"))
    )
    return failures.with_columns(rule.alias("rule")).with_columns(reason.alias("reason"))


def _expected_dtype(check: pl.Expr) -> pl.Expr:
    """``dtype('Int32')`` -> ``Int32``."""
    return check.str.strip_prefix("dtype(").str.strip_suffix(")").str.strip_chars("'")


def _declared_rules(spec: TableSchema, hard: bool) -> list[str]:
    """Every rule of the model, in declaration order, named like ``_with_rules`` names failures."""
    model = spec.hard if hard else spec.soft
    if model is None:
        return []
    schema = as_schema(model)
    rules = [SCHEMA_RULE] if hard else []
    for name, column in schema.columns.items():
        if hard and not column.nullable:
            rules.append(f"{name}:not_null")
        if column.unique:
            rules.append(f"{name}:unique")
        rules += [f"{name}:{check.error or check.name}" for check in column.checks]
    if schema.unique:
        rules.append(DUPLICATE_KEY_RULE)
    rules += [check.error or check.name for check in schema.checks]
    return rules


def _outcomes(spec: TableSchema, failures: pl.DataFrame, rows: pl.DataFrame, hard: bool) -> list[RuleOutcome]:
    counts = dict(
        failures.group_by("rule").agg(
            pl.when(pl.col("index").is_null().any())
            .then(pl.lit(rows.height, pl.UInt32))
            .otherwise(pl.col("index").n_unique())
            .alias("rows")
        ).iter_rows()
    )
    names = _declared_rules(spec, hard)
    if hard and RACE_QUARANTINED_RULE in counts:
        names.append(RACE_QUARANTINED_RULE)
    names += [name for name in counts if name not in names]
    examples = _examples(failures, rows, spec.key)
    return [RuleOutcome(name, hard, int(counts.get(name, 0)), examples.get(name, [])) for name in names]


def _examples(failures: pl.DataFrame, rows: pl.DataFrame, key: tuple[str, ...]) -> dict[str, list[dict]]:
    """Up to ``MAX_EXAMPLES`` failing rows per rule: race_date and key columns (when known) and the reason."""
    if failures.is_empty():
        return {}
    picked = failures.group_by("rule", maintain_order=True).head(MAX_EXAMPLES)
    context = [column for column in ("race_date", *key) if column in rows.columns]
    located = rows.select(context).with_row_index(_ROW).with_columns(pl.col(_ROW).cast(pl.Int64))
    joined = picked.join(located, left_on="index", right_on=_ROW, how="left", maintain_order="left")
    examples: dict[str, list[dict]] = {}
    for row in joined.select("rule", *context, "reason").iter_rows(named=True):
        examples.setdefault(row.pop("rule"), []).append(row)
    return examples


def _quarantine_rows(bad: pl.DataFrame, table: str, key: tuple[str, ...]) -> pl.DataFrame:
    def text_or_null(column: str, dtype: pl.DataType) -> pl.Expr:
        if column in bad.columns:
            return pl.col(column).cast(dtype, strict=False)
        return pl.lit(None, dtype)

    parsed = [column for column in bad.columns if column not in ("reasons", RAW_JSON)]
    as_json = pl.struct(parsed).struct.json_encode() if parsed else pl.lit("{}")
    raw = pl.coalesce(pl.col(RAW_JSON).cast(pl.Utf8), as_json) if RAW_JSON in bad.columns else as_json
    return bad.select(
        pl.lit(table).alias("table"),
        pl.lit(SOURCE_ASSETS.get(table, "clean/runners, clean/results")).alias("source_asset"),
        text_or_null("race_date", pl.Date()).alias("race_date"),
        text_or_null("race_id", pl.Utf8()).alias("race_id"),
        text_or_null("horse_id", pl.Utf8()).alias("horse_id"),
        _row_key(bad, key),
        pl.col("reasons"),
        raw.alias("raw_json"),
    ).cast(QUARANTINE_SCHEMA)


@dataclass(frozen=True)
class Reconciliation:
    """What raw holds vs what came out (clean + quarantined); balanced when nothing is missing, unexpected or
    doubled. Counts are distinct ids (``reconcile``) or rows (``reconcile_per_race``)."""

    raw: int
    clean: int
    quarantined: int
    missing: pl.Series
    """In raw but neither clean nor quarantined: silently lost (ids, or races that lost rows)."""
    unexpected: pl.Series
    """In clean or quarantine but not in raw: invented (ids, or races that gained rows)."""
    in_both: pl.Series
    """Both clean and quarantined: the split is not a partition."""
    unbalanced: pl.DataFrame | None = None
    """``reconcile_per_race`` only: the races whose counts differ (``race_id``, ``raw``, ``clean``,
    ``quarantined``, ``collapsed``), worst first."""

    @property
    def balanced(self) -> bool:
        return self.missing.is_empty() and self.unexpected.is_empty() and self.in_both.is_empty()


def reconcile(raw_ids: pl.Series, clean_ids: pl.Series, quarantined_ids: pl.Series) -> Reconciliation:
    """Compare id sets (any dtype); nulls are ignored.

    The check "raw ids = clean ids + quarantined ids" holds when ``balanced``: every raw id landed in exactly
    one of the two outputs.
    """
    def ids(series: pl.Series) -> pl.DataFrame:
        return series.drop_nulls().unique().rename("id").to_frame()

    raw, clean, quarantined = ids(raw_ids), ids(clean_ids), ids(quarantined_ids)
    landed = pl.concat([clean, quarantined]).unique()
    return Reconciliation(
        raw=raw.height,
        clean=clean.height,
        quarantined=quarantined.height,
        missing=raw.join(landed, on="id", how="anti")["id"].sort(),
        unexpected=landed.join(raw, on="id", how="anti")["id"].sort(),
        in_both=clean.join(quarantined, on="id", how="semi")["id"].sort(),
    )


_RACE_ID = "race_id"


def _rows_per_race(frame: pl.DataFrame, name: str) -> pl.DataFrame:
    """``race_id``, ``name``: the rows of ``frame`` per race (a frame without the column is one null race)."""
    race_id = pl.col(_RACE_ID).cast(pl.String) if _RACE_ID in frame.columns else pl.lit(None, pl.String)
    return (
        frame.with_columns(race_id.alias(_RACE_ID))
        .group_by(_RACE_ID)
        .agg(pl.len().cast(pl.Int64).alias(name))
    )


def reconcile_per_race(raw_rows: pl.DataFrame, validation: Validation) -> Reconciliation:
    """Rows per race counted from the raw JSON (``raw_rows``: ``race_id``, ``rows``; see
    ``transforms.raw_counts``) vs the rows of that race that came out of parsing and validation: clean +
    quarantined + exact duplicates collapsed. Balanced when every race's counts are equal.

    The two sides are counted by different roads (a scan of the raw text vs the parser's frames), so a parser
    that drops a runner, doubles an odds row or loses a race leaves that race unbalanced. Races without an id
    are compared as one group (null ``race_id``).
    """
    raw = raw_rows.select(pl.col(_RACE_ID).cast(pl.String), pl.col("rows").cast(pl.Int64).alias("raw"))
    sides = [
        raw,
        _rows_per_race(validation.valid, "clean"),
        _rows_per_race(validation.quarantined, "quarantined"),
        _rows_per_race(validation.collapsed_keys, "collapsed"),
    ]
    per_race = sides[0]
    for side in sides[1:]:
        per_race = per_race.join(side, on=_RACE_ID, how="full", coalesce=True, nulls_equal=True)
    per_race = per_race.with_columns(pl.col("raw", "clean", "quarantined", "collapsed").fill_null(0))
    out = pl.col("clean") + pl.col("quarantined") + pl.col("collapsed")
    unbalanced = (
        per_race.filter(pl.col("raw") != out)
        .sort((pl.col("raw") - out).abs(), _RACE_ID, descending=[True, False], nulls_last=True)
        .select(_RACE_ID, "raw", "clean", "quarantined", "collapsed")
    )
    race_ids = unbalanced.with_columns(pl.col(_RACE_ID).fill_null("(no race_id)"))
    return Reconciliation(
        raw=int(per_race["raw"].sum()),
        clean=validation.valid.height,
        quarantined=validation.quarantined.height,
        missing=race_ids.filter(pl.col("raw") > out)[_RACE_ID],
        unexpected=race_ids.filter(pl.col("raw") < out)[_RACE_ID],
        in_both=pl.Series(_RACE_ID, [], dtype=pl.String),
        unbalanced=unbalanced,
    )
