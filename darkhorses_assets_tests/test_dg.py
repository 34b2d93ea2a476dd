"""The `dg` CLI (dagster-dg-cli, on dagster's release line) works on the project as `dagster dev` does: `dg check
defs` loads the definitions with nothing from our code warning, `dg dev` serves the same code location under
the same name, and plain `dagster` still takes its workspace from workspace.yaml (dg's settings live in dg.toml,
which `dagster` never reads; a [tool.dg] block in pyproject.toml would replace workspace.yaml for it)."""

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from darkhorses_assets.local.postgres import sqlalchemy_psycopg2_url
from darkhorses_assets_tests.dagster_dev import _default_signals, _stop, free_port, processes_with_env

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
LOCATION_NAME = "darkhorses_assets.definitions"
WARNING = re.compile(r"warning", re.IGNORECASE)


def _env(postgres_url: str, home: Path) -> dict:
    """A Dagster home with the project's dagster.yaml on the test's Postgres, as `make dev` sets one up."""
    home.mkdir()
    shutil.copyfile(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    env = {**os.environ, "DAGSTER_HOME": str(home), "DARKHORSES_DATABASE_URL": postgres_url,
           "DARKHORSES_DAGSTER_STORAGE_URL": sqlalchemy_psycopg2_url(postgres_url),
           "DARKHORSES_AUTOMATION": "off"}
    env.pop("VIRTUAL_ENV", None)  # as from the Makefile or `.venv/bin/dg` in a fresh shell: nothing activated
    return env


def _ours(output: str) -> list[str]:
    """Lines of `output` that warn, or that point into our code."""
    return [line for line in output.splitlines()
            if WARNING.search(line) or "darkhorses_assets/" in line or "darkhorses_assets_tests/" in line]


def test_dg_check_defs_loads_the_definitions_without_warnings(postgres_url, tmp_path):
    result = subprocess.run([str(VENV_BIN / "dg"), "check", "defs"], cwd=PROJECT_ROOT,
                            env=_env(postgres_url, tmp_path / "home"), capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "All definitions loaded successfully." in output, output
    assert not _ours(output), output


def test_plain_dagster_still_reads_workspace_yaml(postgres_url, tmp_path):
    """`dagster definitions validate` with no target, in the project root: the target `dagster dev` picks the
    same way (a [tool.dagster]/[tool.dg] block in pyproject.toml first, then workspace.yaml)."""
    from dagster._cli.utils import has_pyproject_dagster_block

    assert not has_pyproject_dagster_block(str(PROJECT_ROOT / "pyproject.toml"))
    assert (PROJECT_ROOT / "dg.toml").exists()
    result = subprocess.run([str(VENV_BIN / "dagster"), "definitions", "validate"], cwd=PROJECT_ROOT,
                            env=_env(postgres_url, tmp_path / "home"), capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert f"Validation successful for code location {LOCATION_NAME}." in output, output


ASSETS_QUERY = """{
  workspaceOrError { ... on Workspace { locationEntries { name locationOrLoadError { __typename } } } }
  assetNodes { assetKey { path } }
}"""


@pytest.mark.slow
def test_dg_dev_serves_the_code_location(postgres_url, tmp_path):
    """`dg dev` in the project root: the webserver lists our location (same name as under `dagster dev`) with
    every asset of the definitions, and the code server's log has no warning from our code."""
    from darkhorses_assets.definitions import defs

    home = tmp_path / "home"
    env = _env(postgres_url, home)
    port, log = free_port(), tmp_path / "dg_dev.log"
    with log.open("wb") as out:
        process = subprocess.Popen([str(VENV_BIN / "dg"), "dev", "-h", "127.0.0.1", "-p", str(port)],
                                   cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   process_group=0, preexec_fn=_default_signals)
    answer = None
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert process.poll() is None, log.read_text(errors="replace")[-5000:]
            try:
                answer = requests.post(f"http://127.0.0.1:{port}/graphql", json={"query": ASSETS_QUERY},
                                       timeout=10).json()["data"]
                entries = answer["workspaceOrError"]["locationEntries"]
                if entries and entries[0]["locationOrLoadError"] and answer["assetNodes"]:
                    break
            except (requests.RequestException, KeyError, TypeError, ValueError):
                pass
            time.sleep(1)
    finally:
        _stop(process)
    deadline = time.monotonic() + 15
    while (leftovers := processes_with_env("DAGSTER_HOME", str(home))) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not leftovers, f"processes left behind: {leftovers}"
    output = log.read_text(errors="replace")
    assert answer, output[-5000:]
    (entry,) = answer["workspaceOrError"]["locationEntries"]
    assert entry["name"] == LOCATION_NAME
    assert entry["locationOrLoadError"]["__typename"] == "RepositoryLocation", output[-5000:]
    served = {tuple(node["assetKey"]["path"]) for node in answer["assetNodes"]}
    assert served == {tuple(spec.key.path) for spec in defs.resolve_all_asset_specs()}
    ours = [line for line in output.splitlines() if "darkhorses_assets/" in line]
    assert not ours, "\n".join(ours)
