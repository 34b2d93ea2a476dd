"""The code location loads, validates with the project's workspace, and every asset tells its story in the UI."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from dagster import AssetKey

from darkhorses_assets.definitions import defs
from darkhorses_assets.local.postgres import sqlalchemy_psycopg2_url

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def test_dagster_definitions_validate_with_workspace(postgres_url, tmp_path):
    shutil.copyfile(PROJECT_ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path),
           "DARKHORSES_DAGSTER_STORAGE_URL": sqlalchemy_psycopg2_url(postgres_url)}
    result = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_asset_has_description_group_owner_and_kinds():
    specs = list(defs.resolve_all_asset_specs())
    assert specs
    for spec in specs:
        assert spec.description, spec.key
        assert spec.group_name and spec.group_name != "default", spec.key
        assert spec.owners, spec.key
        assert spec.kinds, spec.key


def test_raw_assets_live_in_the_raw_schema_and_share_the_api_pool():
    raw_keys = {AssetKey(["raw", name]) for name in ("raw_results", "raw_racecards", "raw_courses")}
    graph = defs.resolve_asset_graph()
    for key in raw_keys:
        node = graph.get(key)
        assert node.pools == {"racing_api"}, key


def test_no_tool_dagster_block_overrides_workspace_yaml():
    pyproject = (PROJECT_ROOT / "pyproject.toml").read_text()
    assert "[tool.dagster]" not in pyproject and "[tool.dg]" not in pyproject


GROUPS_IN_FLOW_ORDER = ("raw", "clean", "dimensions", "horse_profiles", "features", "statistics")
"""How the collapsed group graph must read, left to right."""


def test_every_asset_declares_a_column_schema_with_a_description_for_every_column():
    specs = list(defs.resolve_all_asset_specs())
    undescribed = {}
    for spec in specs:
        schema = spec.metadata.get("dagster/column_schema")
        schema = getattr(schema, "schema", schema)
        assert schema is not None and schema.columns, f"{spec.key.to_user_string()} has no column schema"
        blank = [column.name for column in schema.columns if not (column.description or "").strip()]
        if blank:
            undescribed[spec.key.to_user_string()] = blank
    assert not undescribed, f"columns without a description (describe them in schemas/): {undescribed}"


def test_column_schemas_follow_the_pandera_models():
    from darkhorses_assets.schemas import TABLES

    graph = defs.resolve_asset_graph()
    for key in (AssetKey(["clean", "runners"]), AssetKey(["clean", "races"]), AssetKey(["clean", "horses"])):
        schema = graph.get(key).metadata["dagster/column_schema"]
        columns = {column.name: column for column in getattr(schema, "schema", schema).columns}
        model = TABLES[key.path[-1]].hard.to_schema().columns
        assert set(columns) == set(model), key
        assert columns["race_id" if key.path[-1] != "horses" else "horse_id"].constraints.nullable is False


def test_groups_read_left_to_right_in_data_flow_order():
    """No edge points from a later group back to an earlier one (the collapsed group graph has no cycle)."""
    graph = defs.resolve_asset_graph()
    groups = {key: graph.get(key).group_name for key in graph.get_all_asset_keys()}
    assert set(groups.values()) == set(GROUPS_IN_FLOW_ORDER)
    backwards = [
        f"{parent.to_user_string()} ({groups[parent]}) → {key.to_user_string()} ({groups[key]})"
        for key in groups
        for parent in graph.get(key).parent_keys
        if GROUPS_IN_FLOW_ORDER.index(groups[parent]) > GROUPS_IN_FLOW_ORDER.index(groups[key])
    ]
    assert not backwards


def test_every_asset_is_labelled_with_where_it_is_stored():
    """Every asset is written by the Postgres IO manager, so its kinds say postgres (and not only polars)."""
    unlabelled = [spec.key.to_user_string() for spec in defs.resolve_all_asset_specs() if "postgres" not in spec.kinds]
    assert not unlabelled


def test_loading_the_code_prints_no_beta_warning_of_ours(postgres_url):
    result = subprocess.run(
        [sys.executable, "-W", "default", "-c",
         "import darkhorses_assets.definitions as d; d.defs.get_repository_def().get_all_jobs()"],
        cwd=PROJECT_ROOT, env={**os.environ, "DARKHORSES_DATABASE_URL": postgres_url},
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "BetaWarning" not in result.stderr, result.stderr
