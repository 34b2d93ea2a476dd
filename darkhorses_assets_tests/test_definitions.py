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
