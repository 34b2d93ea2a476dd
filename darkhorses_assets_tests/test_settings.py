"""Every DARKHORSES_* setting is read in `settings`: a bad value fails naming the variable, its value (no
password) and a good example — at load of the code location and before `darkhorses dev` starts anything."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from darkhorses_assets import settings
from darkhorses_assets.database_url import redact_url
from darkhorses_assets.racing_api.simulator.faults import Faults
from darkhorses_assets.settings import SettingsError, load_settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "s3cr3t-Pw"
TODAY = date(2025, 10, 18)

BAD_VALUES = [
    # (variable, value, what the message says is wrong, the value as the message shows it)
    ("DARKHORSES_START_DATE", "2015/01/01", "YYYY-MM-DD", "2015/01/01"),
    ("DARKHORSES_START_DATE", "01-01-2015", "YYYY-MM-DD", "01-01-2015"),
    ("DARKHORSES_START_DATE", "2015-02-30", "not a calendar date", "2015-02-30"),
    ("DARKHORSES_START_DATE", "2025-10-19", "after today (2025-10-18, UK)", "2025-10-19"),
    ("DARKHORSES_START_DATE", "2030-01-01", "after today", "2030-01-01"),
    ("DARKHORSES_RACECARDS_HISTORY_FROM", "23/01/2023", "YYYY-MM-DD", "23/01/2023"),
    ("DARKHORSES_RACECARDS_HISTORY_FROM", "2025-10-19", "after today (2025-10-18, UK)", "2025-10-19"),
    ("DARKHORSES_RESULTS_HISTORY_FROM", "last year", "YYYY-MM-DD", "last year"),
    ("DARKHORSES_RESULTS_HISTORY_FROM", "2024-02-30", "not a calendar date", "2024-02-30"),
    ("DARKHORSES_RESULTS_HISTORY_FROM", "2026-01-01", "no result would ever be fetched", "2026-01-01"),
    ("DARKHORSES_DATABASE_URL", f"darkhorses:{PASSWORD}@db.example:5432/darkhorses", "postgresql://",
     "darkhorses:***@db.example:5432/darkhorses"),
    ("DARKHORSES_DATABASE_URL", f"mysql://me:{PASSWORD}@db/x", "postgresql://", "mysql://me:***@db/x"),
    ("DARKHORSES_DATABASE_URL", f"postgresql://me:{PASSWORD}%zz@db/x", "percent-encode",
     "postgresql://me:***@db/x"),
    ("DARKHORSES_DATABASE_URL", f"postgresql://me:{PASSWORD}@oops@db/x", "%40", "postgresql://me:***@db/x"),
    ("DARKHORSES_DATABASE_URL", f"postgresql://me:{PASSWORD}@db:54x2/x", "port", "postgresql://me:***@db:54x2/x"),
    ("DARKHORSES_DATABASE_URL", f"postgresql://me:{PASSWORD}@db/x?colour=blue", "libpq",
     "postgresql://me:***@db/x?colour=blue"),
    ("DARKHORSES_DAGSTER_STORAGE_URL", f"postgresql://me:{PASSWORD}@db/x", "postgresql+psycopg2://",
     "postgresql://me:***@db/x"),
    ("DARKHORSES_PORT", "three thousand", "TCP port", "three thousand"),
    ("DARKHORSES_PORT", "0", "TCP port", "0"),
    ("DARKHORSES_PORT", "65536", "TCP port", "65536"),
    ("DARKHORSES_SIMULATOR_PORT", "-1", "TCP port", "-1"),
    ("DARKHORSES_HOST", "local host", "host name", "local host"),
    ("DARKHORSES_AUTOMATION", "sometimes", "not understood", "sometimes"),
    ("DARKHORSES_STATE_DIR", "/etc/hostname", "not a folder", "/etc/hostname"),
    ("DARKHORSES_RECORD_DIR", "/etc/hostname", "not a folder", "/etc/hostname"),
    ("DARKHORSES_ALERT_WEBHOOK_URL", f"ftp://hooks.example/T0/{PASSWORD}", "http(s)", "ftp://hooks.example/***"),
    ("DARKHORSES_ALERT_WEBHOOK_URL", f"hooks.example/{PASSWORD}", "http(s)", "***"),
    ("RACING_API_BASE_URL", "api.theracingapi.com", "http(s) URL", "api.theracingapi.com"),
    ("RACING_API_BASE_URL", f"https://me:{PASSWORD}@api.theracingapi.com:99999", "http(s) URL",
     "https://me:***@api.theracingapi.com:99999"),
    ("DARKHORSES_SIM_FAULT_5XX", "1.5", "between 0 and 1", "1.5"),
    ("DARKHORSES_SIM_FAULT_429", "often", "between 0 and 1", "often"),
    ("DARKHORSES_SIM_FAULT_SLOW_SECONDS", "-2", "seconds", "-2"),
    ("DARKHORSES_SIM_FAULT_SEED", "7.5", "integer", "7.5"),
    ("DARKHORSES_SIM_FAULT_TIMEOUT", "0.1", "not a fault setting", "0.1"),
]


@pytest.mark.parametrize(("variable", "value", "problem", "shown"), BAD_VALUES)
def test_a_bad_value_fails_naming_the_variable_its_value_and_a_good_example(variable, value, problem, shown):
    with pytest.raises(SettingsError) as raised:
        load_settings({variable: value}, today=TODAY)
    message = str(raised.value)
    assert raised.value.variables == (variable,)
    assert message.startswith(f"{variable}={shown!r} "), message
    assert problem in message
    assert PASSWORD not in message
    example_variable, _, example = message.rpartition("; e.g. ")[2].partition("=")
    assert example_variable.startswith("DARKHORSES_") or example_variable == "RACING_API_BASE_URL"
    good = load_settings({example_variable: example.split(" ")[0]}, today=TODAY)  # the example itself is good
    assert good is not None


def test_unset_and_empty_variables_mean_the_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    empty = {name: "" for name in settings.KNOWN_VARIABLES}
    for environ in ({}, empty, {name: "  " for name in settings.KNOWN_VARIABLES}):
        loaded = load_settings(environ, today=TODAY)
        assert loaded == settings.Settings(
            database_url=None, dagster_storage_url=None, start_date=date(2015, 1, 1),
            racecards_history_from=date(2023, 1, 23), results_history_from=None, record_dir=None,
            host="127.0.0.1", port=3000, state_dir=tmp_path.resolve() / ".darkhorses", automation_enabled=True,
            simulator_port=0, alert_webhook_url=None, racing_api_base_url="https://api.theracingapi.com",
            racing_api_credentials_set=False, sim_faults={})


def test_good_values_are_parsed(tmp_path):
    environ = {
        "DARKHORSES_DATABASE_URL": f"postgresql://me:{PASSWORD}@db.example:5433/darkhorses",
        "DARKHORSES_DAGSTER_STORAGE_URL": "postgresql+psycopg2://me@/darkhorses?host=/tmp/pg",
        "DARKHORSES_START_DATE": " 2025-10-18 ",
        "DARKHORSES_RACECARDS_HISTORY_FROM": "2015-01-01",
        "DARKHORSES_RESULTS_HISTORY_FROM": "2024-10-18",
        "DARKHORSES_RECORD_DIR": str(tmp_path / "recordings"),
        "DARKHORSES_HOST": "0.0.0.0",
        "DARKHORSES_PORT": "3001",
        "DARKHORSES_STATE_DIR": str(tmp_path / "state"),
        "DARKHORSES_AUTOMATION": "OFF",
        "DARKHORSES_SIMULATOR_PORT": "8765",
        "DARKHORSES_ALERT_WEBHOOK_URL": "https://hooks.example/T0/B1/abc?x=1",
        "RACING_API_BASE_URL": "http://127.0.0.1:8765",
        "RACING_API_USERNAME": "me",
        "RACING_API_PASSWORD": PASSWORD,
        "DARKHORSES_SIM_FAULT_5XX": "0.25",
        "DARKHORSES_SIM_FAULT_SEED": "11",
        "DARKHORSES_SIM_FAULT_SLOW_SECONDS": "0.5",
    }
    loaded = load_settings(environ, today=TODAY)
    assert loaded.database_url == environ["DARKHORSES_DATABASE_URL"]
    assert loaded.dagster_storage_url == environ["DARKHORSES_DAGSTER_STORAGE_URL"]
    assert loaded.start_date == TODAY  # today itself is allowed: one race day
    assert loaded.racecards_history_from == date(2015, 1, 1)  # the simulator's cards, offline
    assert loaded.results_history_from == date(2024, 10, 18)  # a Standard plan: 12 months of results
    assert loaded.record_dir == tmp_path / "recordings"
    assert (loaded.host, loaded.port, loaded.simulator_port) == ("0.0.0.0", 3001, 8765)
    assert loaded.state_dir == tmp_path / "state"
    assert loaded.automation_enabled is False
    assert loaded.alert_webhook_url == environ["DARKHORSES_ALERT_WEBHOOK_URL"]
    assert loaded.racing_api_base_url == "http://127.0.0.1:8765"
    assert loaded.racing_api_credentials_set is True
    assert loaded.sim_faults == {"rate_5xx": 0.25, "seed": 11, "slow_seconds": 0.5}
    assert Faults(**loaded.sim_faults).rate_5xx == 0.25


@pytest.mark.parametrize("given", ["RACING_API_USERNAME", "RACING_API_PASSWORD"])
def test_one_credential_without_the_other_is_refused_without_showing_it(given):
    missing = ({"RACING_API_USERNAME", "RACING_API_PASSWORD"} - {given}).pop()
    with pytest.raises(SettingsError) as raised:
        load_settings({given: PASSWORD}, today=TODAY)
    message = str(raised.value)
    assert message.startswith(f"{missing} is not set while {given} is: set both"), message
    assert PASSWORD not in message


def test_every_bad_variable_is_reported_at_once():
    environ = {"DARKHORSES_PORT": "x", "DARKHORSES_START_DATE": "2015/01/01",
               "DARKHORSES_DATABASE_URL": f"me:{PASSWORD}@db/x"}
    with pytest.raises(SettingsError) as raised:
        load_settings(environ, today=TODAY)
    lines = str(raised.value).splitlines()
    assert [line.split("=")[0] for line in lines] == ["DARKHORSES_DATABASE_URL", "DARKHORSES_START_DATE",
                                                      "DARKHORSES_PORT"]
    assert set(raised.value.variables) == set(environ)
    assert PASSWORD not in str(raised.value)


def test_an_unknown_darkhorses_variable_is_named_in_a_warning(caplog):
    load_settings({"DARKHORSES_START_DAT": "2020-01-01"}, today=TODAY)
    assert "unknown settings DARKHORSES_START_DAT are ignored" in caplog.text


def test_the_start_date_is_refused_after_today_in_the_uk_by_default():
    tomorrow = datetime.now(ZoneInfo("Europe/London")).date() + timedelta(days=1)
    with pytest.raises(SettingsError, match="is after today"):
        settings.start_date({"DARKHORSES_START_DATE": tomorrow.isoformat()})


def test_sim_fault_variables_cover_every_simulator_fault_setting():
    """The simulator's own reader (Faults.from_env) and ours must agree on names."""
    faults_fields = {f.name for f in dataclasses.fields(Faults)} - {"fail_first"}
    assert set(settings.SIM_FAULT_FIELDS.values()) == faults_fields
    environ = {settings.SIM_FAULT_PREFIX + suffix: "0.5" if suffix != "SEED" else "3"
               for suffix in settings.SIM_FAULT_FIELDS}
    assert Faults(**settings.sim_faults(environ)) == Faults.from_env(environ)


@pytest.mark.parametrize(("text", "redacted"), [
    (f"postgresql://me:{PASSWORD}@db:5432/x", "postgresql://me:***@db:5432/x"),
    (f"me:{PASSWORD}@db/x", "me:***@db/x"),
    (f"postgresql://me:{PASSWORD}@with@at@db/x", "postgresql://me:***@db/x"),
    (f"postgresql://:{PASSWORD}@db/x", "postgresql://:***@db/x"),
    (f"host=db user=me password={PASSWORD} dbname=x", "host=db user=me password=*** dbname=x"),
    ("postgresql://me@/x?host=/tmp/pg", "postgresql://me@/x?host=/tmp/pg"),
])
def test_redact_hides_passwords_in_urls_and_key_value_strings(text, redacted):
    assert redact_url(text) == redacted


def _run(args: list[str], env_overrides: dict[str, str], cwd: Path = PROJECT_ROOT) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DARKHORSES_", "RACING_API_"))}
    env.update(env_overrides)
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize(("variable", "value", "expected"), [
    ("DARKHORSES_START_DATE", "2015/01/01",
     "DARKHORSES_START_DATE='2015/01/01' is not a date written YYYY-MM-DD; e.g. DARKHORSES_START_DATE=2015-01-01"),
    ("DARKHORSES_START_DATE", "2999-01-01", "DARKHORSES_START_DATE='2999-01-01' is after today"),
    ("DARKHORSES_DATABASE_URL", f"me:{PASSWORD}@db.example/x",
     "DARKHORSES_DATABASE_URL='me:***@db.example/x' is not a URL starting with postgresql://"),
])
def test_a_bad_setting_fails_loading_the_code_location(tmp_path, variable, value, expected):
    """`dagster definitions validate` loads the code location as `dagster dev` does."""
    result = _run([sys.executable, "-m", "dagster", "definitions", "validate", "-m", "darkhorses_assets.definitions"],
                  {"DAGSTER_HOME": str(tmp_path), variable: value})
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert "SettingsError: " + expected in output, output[-3000:]
    assert PASSWORD not in output


@pytest.mark.parametrize("url", [f"me:{PASSWORD}@db.example/x", f"postgresql://me:{PASSWORD}%@db.example/x"])
def test_darkhorses_dev_refuses_a_malformed_database_url_before_starting_anything(tmp_path, url):
    state_dir = tmp_path / "state"
    result = _run([sys.executable, "-m", "darkhorses_assets.cli", "dev"],
                  {"DARKHORSES_DATABASE_URL": url, "DARKHORSES_STATE_DIR": str(state_dir)})
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("darkhorses: DARKHORSES_DATABASE_URL='"), result.stderr
    assert "me:***@db.example/x" in result.stderr and "e.g. DARKHORSES_DATABASE_URL=postgresql://" in result.stderr
    assert "Traceback" not in result.stderr
    assert PASSWORD not in result.stdout + result.stderr
    assert not state_dir.exists()  # neither Postgres nor Dagster was started


def test_darkhorses_dev_refuses_a_bad_port_naming_the_variable(tmp_path):
    result = _run([sys.executable, "-m", "darkhorses_assets.cli", "dev"],
                  {"DARKHORSES_PORT": "80a", "DARKHORSES_STATE_DIR": str(tmp_path / "state")})
    assert result.returncode == 2
    assert "darkhorses: DARKHORSES_PORT='80a' is not a TCP port (1 to 65535); e.g. DARKHORSES_PORT=3000" \
        in result.stderr
