"""PostgresPolarsIOManager through real Dagster materializations against a real Postgres."""

from __future__ import annotations

import json
from datetime import date, timedelta

import polars as pl
import psycopg
import pytest
from dagster import (
    AssetIn,
    AssetKey,
    DailyPartitionsDefinition,
    StaticPartitionsDefinition,
    TableColumn,
    TableColumnConstraints,
    TableSchema,
    TimeWindowPartitionMapping,
    asset,
    materialize,
)

from darkhorses_assets.io import PostgresPolarsIOManager
from darkhorses_assets.transforms.raw_rows import JSON_COLUMNS

DAYS = DailyPartitionsDefinition(start_date="2024-01-01", timezone="Europe/London")
RUNNERS_KEY = AssetKey(["clean", "runners"])


def runners_asset(tag: str = "a", per_day: int = 3, stray_day: date | None = None):
    """clean/runners: `per_day` rows for every day of the run's partition window, labelled `tag`."""

    @asset(key_prefix=["clean"], partitions_def=DAYS, metadata={"partition_expr": "race_date"})
    def runners(context) -> pl.DataFrame:
        window = context.partition_time_window
        first, last = window.start.date(), window.end.date()
        days = [first + timedelta(days=n) for n in range((last - first).days)]
        if stray_day is not None:
            days.append(stray_day)
        return pl.DataFrame({
            "race_date": [day for day in days for _ in range(per_day)],
            "runner_id": [f"{day}-{n}" for day in days for n in range(per_day)],
            "tag": tag,
        })

    return runners


def resources(url: str) -> dict:
    return {"io_manager": PostgresPolarsIOManager(database_url=url)}


def fetch(url: str, query: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def runner_rows(url: str) -> list[tuple]:
    return fetch(url, "SELECT race_date, runner_id, tag FROM clean.runners ORDER BY runner_id")


def test_same_partition_twice_replaces_its_rows_and_leaves_other_partitions_alone(postgres_url):
    materialize([runners_asset("a")], partition_key="2024-01-01", resources=resources(postgres_url))
    materialize([runners_asset("a")], partition_key="2024-01-02", resources=resources(postgres_url))
    first = runner_rows(postgres_url)

    materialize([runners_asset("a")], partition_key="2024-01-02", resources=resources(postgres_url))
    assert runner_rows(postgres_url) == first
    assert len(first) == 6

    materialize([runners_asset("b", per_day=2)], partition_key="2024-01-02",
                resources=resources(postgres_url))
    counts = fetch(postgres_url,
                   "SELECT race_date, tag, count(*) FROM clean.runners GROUP BY 1, 2 ORDER BY 1")
    assert counts == [(date(2024, 1, 1), "a", 3), (date(2024, 1, 2), "b", 2)]


def test_output_metadata_describes_the_write(postgres_url):
    result = materialize([runners_asset()], partition_key="2024-01-05", resources=resources(postgres_url))
    metadata = result.asset_materializations_for_node("clean__runners")[0].metadata
    assert metadata["dagster/row_count"].value == 3
    assert metadata["table"].value == "clean.runners"
    assert metadata["dagster/table_name"].value == "clean.runners"
    assert metadata["partitions"].value == "2024-01-05"
    columns = {column.name: column.type for column in metadata["dagster/column_schema"].value.columns}
    assert columns == {"race_date": "date", "runner_id": "text", "tag": "text"}
    preview = metadata["preview"].value
    assert preview.splitlines()[0] == "| race_date | runner_id | tag |"
    assert "| 2024-01-05 | 2024-01-05-0 | a |" in preview



def test_written_column_schema_keeps_the_declared_descriptions(postgres_url):
    """The UI shows a materialization's column schema instead of the declared one: it must keep the
    descriptions (and constraints) declared in `dagster/column_schema`, with the Postgres types written."""
    declared = TableSchema(columns=[
        TableColumn("race_date", "Date", description="UK race day",
                    constraints=TableColumnConstraints(nullable=False)),
        TableColumn("runner_id", "String", description="the runner"),
    ])

    @asset(key_prefix=["clean"], partitions_def=DAYS,
           metadata={"partition_expr": "race_date", "dagster/column_schema": declared})
    def runners(context) -> pl.DataFrame:
        return pl.DataFrame({"race_date": [date(2024, 1, 7)], "runner_id": ["r1"], "tag": ["a"]})

    result = materialize([runners], partition_key="2024-01-07", resources=resources(postgres_url))
    metadata = result.asset_materializations_for_node("clean__runners")[0].metadata
    columns = metadata["dagster/column_schema"].value.columns
    assert [(c.name, c.type, c.description) for c in columns] == [
        ("race_date", "date", "UK race day"), ("runner_id", "text", "the runner"), ("tag", "text", None)]
    assert columns[0].constraints.nullable is False

def test_partition_range_in_one_run_then_loaded_through_a_time_window_mapping(postgres_url):
    upstream = runners_asset()
    result = materialize(
        [upstream], resources=resources(postgres_url),
        tags={"dagster/asset_partition_range_start": "2024-01-01",
              "dagster/asset_partition_range_end": "2024-01-04"},
    )
    assert result.asset_materializations_for_node("clean__runners")[0].metadata["partitions"].value == (
        "2024-01-01..2024-01-04"
    )
    assert fetch(postgres_url, "SELECT count(DISTINCT race_date), count(*) FROM clean.runners") == [(4, 12)]
    seen: dict[str, pl.DataFrame] = {}

    @asset(
        key_prefix=["features"],
        partitions_def=DAYS,
        metadata={"partition_expr": "race_date"},
        ins={"runners": AssetIn(
            key=RUNNERS_KEY,
            partition_mapping=TimeWindowPartitionMapping(start_offset=-2, end_offset=-1),
            metadata={"columns": ["race_date", "runner_id"]},
        )},
    )
    def form(context, runners: pl.DataFrame) -> pl.DataFrame:
        seen["runners"] = runners
        day = context.partition_time_window.start.date()
        return pl.DataFrame({"race_date": [day], "runs": [runners.height]})

    materialize([upstream, form], selection=[form], partition_key="2024-01-04",
                resources=resources(postgres_url))
    loaded = seen["runners"]
    assert loaded.columns == ["race_date", "runner_id"]
    assert loaded.schema == pl.Schema({"race_date": pl.Date, "runner_id": pl.Utf8})
    assert sorted(set(loaded["race_date"].to_list())) == [date(2024, 1, 2), date(2024, 1, 3)]
    assert loaded.height == 6
    assert fetch(postgres_url, "SELECT race_date, runs FROM features.form") == [(date(2024, 1, 4), 6)]


def test_loading_a_missing_upstream_table_says_what_to_materialize(postgres_url):
    @asset(partitions_def=DAYS, ins={"runners": AssetIn(key=RUNNERS_KEY)})
    def consumer(runners: pl.DataFrame) -> None:
        raise AssertionError("not reached")

    result = materialize([runners_asset(), consumer], selection=[consumer], partition_key="2024-01-03",
                         resources=resources(postgres_url), raise_on_error=False)
    assert not result.success
    message = _failure_message(result)
    assert "clean.runners does not exist" in message
    assert "materialize the upstream asset clean/runners (partition(s) 2024-01-03)" in message


def test_empty_partition_loads_as_an_empty_frame_with_the_table_schema(postgres_url):
    materialize([runners_asset()], partition_key="2024-01-01", resources=resources(postgres_url))
    seen = {}

    @asset(partitions_def=DAYS, ins={"runners": AssetIn(key=RUNNERS_KEY)})
    def consumer(runners: pl.DataFrame) -> None:
        seen["runners"] = runners

    materialize([runners_asset(), consumer], selection=[consumer], partition_key="2024-01-09",
                resources=resources(postgres_url))
    assert seen["runners"].height == 0
    assert seen["runners"].schema == pl.Schema({"race_date": pl.Date, "runner_id": pl.Utf8, "tag": pl.Utf8})


def test_rows_outside_the_partition_fail_the_write_and_keep_the_previous_rows(postgres_url):
    materialize([runners_asset()], partition_key="2024-01-01", resources=resources(postgres_url))
    before = runner_rows(postgres_url)
    result = materialize([runners_asset("b", stray_day=date(2024, 1, 7))], partition_key="2024-01-01",
                         resources=resources(postgres_url), raise_on_error=False)
    assert not result.success
    message = _failure_message(result)
    assert "3 row(s) for clean.runners have race_date outside the run's partition(s) 2024-01-01" in message
    assert "2024-01-07" in message
    assert runner_rows(postgres_url) == before


def test_unpartitioned_asset_is_replaced_and_jsonb_override_round_trips(postgres_url):
    def courses_asset(payloads: list[dict]):
        @asset(key_prefix=["raw"], metadata={"column_types": {"payload": "jsonb"}})
        def courses() -> pl.DataFrame:
            return pl.DataFrame({
                "course_id": [f"crs_{n}" for n in range(len(payloads))],
                "payload": [json.dumps(payload) for payload in payloads],
            })
        return courses

    first = [{"name": "Ascot", "region": "GB"}, {"name": "Leopardstown", "tags": [1, 2]}, {"name": None}]
    materialize([courses_asset(first)], resources=resources(postgres_url))
    second = [{"name": "Cheltenham", "nested": {"a": "ü \"quoted\""}}, {}]
    materialize([courses_asset(second)], resources=resources(postgres_url))

    assert fetch(postgres_url, "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                 "WHERE attrelid = 'raw.courses'::regclass AND attname = 'payload'") == [("jsonb",)]
    seen = {}

    @asset(ins={"courses": AssetIn(key=AssetKey(["raw", "courses"]))})
    def consumer(courses: pl.DataFrame) -> None:
        seen["courses"] = courses

    materialize([courses_asset(second), consumer], selection=[consumer], resources=resources(postgres_url))
    loaded = seen["courses"].sort("course_id")
    assert loaded["course_id"].to_list() == ["crs_0", "crs_1"]
    assert [json.loads(text) for text in loaded["payload"]] == second


def test_odd_identifiers_and_schema_override(postgres_url):
    @asset(key_prefix=["clean"], name="odd-Table", metadata={"schema": "Weird Schema"})
    def odd() -> pl.DataFrame:
        return pl.DataFrame({"select": [1, 2], "Mixed Case": ["x", "y"], 'quote"d': [True, None]})

    materialize([odd], resources=resources(postgres_url))
    assert fetch(postgres_url, 'SELECT "select", "Mixed Case", "quote""d" FROM "Weird Schema"."odd-Table" '
                 'ORDER BY 1') == [(1, "x", True), (2, "y", None)]
    seen = {}

    selected = AssetIn(key=AssetKey(["clean", "odd-Table"]), metadata={"columns": ["Mixed Case", "select"]})

    @asset(ins={"odd": selected})
    def consumer(odd: pl.DataFrame) -> None:
        seen["odd"] = odd

    materialize([odd, consumer], selection=[consumer], resources=resources(postgres_url))
    assert seen["odd"].sort("select").to_dict(as_series=False) == {"Mixed Case": ["x", "y"], "select": [1, 2]}


def test_unknown_input_columns_are_named(postgres_url):
    materialize([runners_asset()], partition_key="2024-01-01", resources=resources(postgres_url))

    @asset(partitions_def=DAYS, ins={"runners": AssetIn(key=RUNNERS_KEY, metadata={"columns": ["nope"]})})
    def consumer(runners: pl.DataFrame) -> None:
        raise AssertionError("not reached")

    result = materialize([runners_asset(), consumer], selection=[consumer], partition_key="2024-01-01",
                         resources=resources(postgres_url), raise_on_error=False)
    assert "column(s) ['nope'] are not in table clean.runners" in _failure_message(result)


def test_partitioned_asset_without_partition_expr_is_refused(postgres_url):
    @asset(key_prefix=["clean"], partitions_def=DAYS)
    def no_expr() -> pl.DataFrame:
        return pl.DataFrame({"race_date": [date(2024, 1, 1)]})

    result = materialize([no_expr], partition_key="2024-01-01", resources=resources(postgres_url),
                         raise_on_error=False)
    assert "no `partition_expr` metadata" in _failure_message(result)


def test_static_partitions_and_lazy_frames(postgres_url):
    regions = StaticPartitionsDefinition(["gb", "ire"])

    def courses_asset(count: int):
        @asset(key_prefix=["raw"], partitions_def=regions, metadata={"partition_expr": "region"})
        def region_courses(context) -> pl.LazyFrame:
            return pl.LazyFrame({"region": context.partition_key, "n": list(range(count))})
        return region_courses

    for key, count in (("gb", 3), ("ire", 2), ("gb", 4)):
        materialize([courses_asset(count)], partition_key=key, resources=resources(postgres_url))
    assert fetch(postgres_url, "SELECT region, count(*) FROM raw.region_courses GROUP BY 1 ORDER BY 1") == [
        ("gb", 4), ("ire", 2)]
    seen = {}

    @asset(partitions_def=regions, ins={"courses": AssetIn(key=AssetKey(["raw", "region_courses"]))})
    def consumer(courses: pl.LazyFrame) -> None:
        seen["courses"] = courses

    materialize([courses_asset(4), consumer], selection=[consumer], partition_key="ire",
                resources=resources(postgres_url))
    assert isinstance(seen["courses"], pl.LazyFrame)
    assert seen["courses"].collect()["region"].to_list() == ["ire", "ire"]


def _failure_message(result) -> str:
    failures = [event for event in result.all_events if event.is_failure]
    assert failures, "expected a failed step"
    return "\n".join(str(event.event_specific_data.error) for event in failures)


@pytest.mark.parametrize("value", ["postgresql://u:s3cret@db.example/x", "postgresql://u@h/x?password=s3cret"])
def test_urls_are_redacted(value):
    from darkhorses_assets.io import redact_url

    assert "s3cret" not in redact_url(value)
    assert "***" in redact_url(value)


def test_a_range_write_states_counts_schema_and_preview_once_on_its_last_partition(postgres_url):
    result = materialize(
        [runners_asset()], resources=resources(postgres_url),
        tags={"dagster/asset_partition_range_start": "2024-01-01",
              "dagster/asset_partition_range_end": "2024-01-03"},
    )
    events = result.asset_materializations_for_node("clean__runners")
    assert [event.partition for event in events] == ["2024-01-01", "2024-01-02", "2024-01-03"]
    assert all(event.metadata["partitions"].value == "2024-01-01..2024-01-03" for event in events)
    assert all(event.metadata["table"].value == "clean.runners" for event in events)
    assert all("preview" not in event.metadata and "dagster/row_count" not in event.metadata
               for event in events[:-1])
    last = events[-1].metadata
    assert last["dagster/row_count"].value == 9  # the whole range's rows: one row count per materialization
    assert "range_rows" not in last
    assert {column.name for column in last["dagster/column_schema"].value.columns} == {"race_date", "runner_id", "tag"}
    assert "| 2024-01-01 | 2024-01-01-0 | a |" in last["preview"].value


def test_upsert_key_replaces_only_the_written_keys(postgres_url):
    def profiles_asset(rows: dict[str, str | None]):
        @asset(key_prefix=["raw"], metadata={"upsert_key": "horse_id"})
        def profiles() -> pl.DataFrame:
            return pl.DataFrame({"horse_id": list(rows), "name": list(rows.values())},
                                schema={"horse_id": pl.Utf8, "name": pl.Utf8})
        return profiles

    materialize([profiles_asset({"hrs_1": "Ace", "hrs_2": None})], resources=resources(postgres_url))
    second = materialize([profiles_asset({"hrs_2": "Bold", "hrs_3": "Cara"})], resources=resources(postgres_url))
    assert fetch(postgres_url, "SELECT horse_id, name FROM raw.profiles ORDER BY horse_id") == [
        ("hrs_1", "Ace"), ("hrs_2", "Bold"), ("hrs_3", "Cara")]
    metadata = second.asset_materializations_for_node("raw__profiles")[0].metadata
    assert metadata["upserted_rows"].value == 2 and metadata["replaced_rows"].value == 1
    assert materialize([profiles_asset({})], resources=resources(postgres_url)).success
    assert len(fetch(postgres_url, "SELECT * FROM raw.profiles")) == 3

    refused = materialize([profiles_asset({None: "Nameless"})], resources=resources(postgres_url),
                          raise_on_error=False)
    assert "null horse_id" in _failure_message(refused)
    assert len(fetch(postgres_url, "SELECT * FROM raw.profiles")) == 3


def test_raw_json_is_stored_as_written_and_old_jsonb_tables_still_take_writes(postgres_url):
    text = '{"z": 1, "a": [1.50, "x"],  "dup": 1}'

    @asset(key_prefix=["raw"], name="json_text", metadata={"column_types": JSON_COLUMNS})
    def json_text() -> pl.DataFrame:
        return pl.DataFrame({"id": ["a"], "request": ["{}"], "payload": [text]})

    materialize([json_text], resources=resources(postgres_url))
    assert fetch(postgres_url, "SELECT format_type(atttypid, atttypmod), (SELECT payload::text FROM raw.json_text) "
                 "FROM pg_attribute WHERE attrelid = 'raw.json_text'::regclass AND attname = 'payload'") == [
        ("json", text)]

    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE raw.json_text ALTER COLUMN payload TYPE jsonb USING payload::jsonb")
    assert materialize([json_text], resources=resources(postgres_url)).success
    assert fetch(postgres_url, "SELECT payload::text FROM raw.json_text") == [('{"a": [1.50, "x"], "z": 1, "dup": 1}',)]
