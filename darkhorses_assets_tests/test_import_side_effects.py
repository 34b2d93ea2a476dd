"""Importing any module of the package changes nothing in the process; the entry points configure it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from darkhorses_assets.instance_settings import DAGSTER_EVENT_SETTINGS

ENTRY_POINT = "darkhorses_assets.definitions"

_IMPORT_ALL = """
import importlib, json, os, pkgutil, sys, warnings
import dagster, pandera.polars, polars, pyarrow, psycopg, requests  # third-party: polars sets jemalloc, urllib3 filters
import darkhorses_assets
environ, filters = dict(os.environ), list(warnings.filters)
names = sorted(m.name for m in pkgutil.walk_packages(darkhorses_assets.__path__, "darkhorses_assets."))
for name in names:
    if name != sys.argv[1] and not name.endswith("__main__"):
        importlib.import_module(name)
print(json.dumps({"modules": len(names), "environ_changed": sorted(set(os.environ.items()) ^ set(environ.items())),
                  "filters_changed": len(warnings.filters) != len(filters)}))
"""


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in DAGSTER_EVENT_SETTINGS}


def test_importing_every_module_changes_neither_the_environment_nor_the_warning_filters():
    done = subprocess.run([sys.executable, "-c", _IMPORT_ALL, ENTRY_POINT], env=_clean_env(),
                          capture_output=True, text=True, timeout=300, check=True)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["modules"] > 40
    assert report["environ_changed"] == []
    assert report["filters_changed"] is False


def test_the_code_location_configures_its_process_once_on_load():
    names = sorted(DAGSTER_EVENT_SETTINGS)
    probe = f"import os; import darkhorses_assets.definitions; print([os.environ.get(k) for k in {names!r}])"
    done = subprocess.run([sys.executable, "-W", "default", "-c", probe], env=_clean_env(),
                          capture_output=True, text=True, timeout=300, check=True)
    assert done.stdout.strip() == str([DAGSTER_EVENT_SETTINGS[k] for k in names])
    assert "BetaWarning" not in done.stderr, done.stderr[-2000:]
