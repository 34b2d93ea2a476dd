"""DARKHORSES_AUTOMATION decides whether schedules and sensors ship RUNNING; the code location is loaded for real."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from dagster import DefaultScheduleStatus, DefaultSensorStatus

from darkhorses_assets.automation.status import schedule_status, sensor_status
from darkhorses_assets.settings import AUTOMATION_ENV, automation_enabled

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHIPS_STOPPED = {"raw_gap_filler"}
"""Spends API budget on old days: a person turns it on."""

STATUSES = """
import json
from darkhorses_assets.definitions import defs
print(json.dumps({
    "schedules": {s.name: s.default_status.value for s in defs.schedules},
    "sensors": {s.name: s.default_status.value for s in defs.sensors},
}))
"""


def load_statuses(value: str | None) -> dict:
    """Default statuses of every schedule and sensor, as a fresh process importing the code location sees them."""
    env = {k: v for k, v in os.environ.items() if k != AUTOMATION_ENV}
    if value is not None:
        env[AUTOMATION_ENV] = value
    result = subprocess.run([sys.executable, "-c", STATUSES], cwd=PROJECT_ROOT, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("value", [None, "on", "ON"])
def test_automation_on_ships_everything_running_but_the_gap_filler(value):
    statuses = load_statuses(value)
    schedules, sensors = statuses["schedules"], statuses["sensors"]
    assert {"racecards_week_ahead", "racecards_today_refresh", "racecards_tomorrow_refresh", "results_final",
            "courses_weekly", "horse_profiles_nightly", "raw_results_freshness",
            "raw_racecards_freshness"} <= set(schedules)
    assert {"results_watch", "raw_gap_filler", "darkhorses_automation", "run_failure_alerts"} <= set(sensors)
    assert set(schedules.values()) == {"RUNNING"}, schedules
    assert {name for name, status in sensors.items() if status != "RUNNING"} == SHIPS_STOPPED, sensors


def test_automation_off_ships_every_schedule_and_sensor_stopped():
    statuses = load_statuses("off")
    assert statuses["schedules"] and statuses["sensors"]
    assert set(statuses["schedules"].values()) == {"STOPPED"}, statuses["schedules"]
    assert set(statuses["sensors"].values()) == {"STOPPED"}, statuses["sensors"]


def test_a_value_that_is_neither_on_nor_off_fails_loading_naming_the_variable():
    env = {**os.environ, AUTOMATION_ENV: "sometimes"}
    result = subprocess.run([sys.executable, "-c", STATUSES], cwd=PROJECT_ROOT, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode != 0
    assert f"{AUTOMATION_ENV}='sometimes' is not understood" in result.stderr


@pytest.mark.parametrize(("value", "enabled"), [
    ("", True), ("on", True), (" On ", True), ("1", True), ("true", True), ("yes", True),
    ("off", False), ("OFF", False), ("0", False), ("false", False), ("no", False), (" no\n", False),
])
def test_status_functions_follow_the_variable(monkeypatch, value, enabled):
    monkeypatch.setenv(AUTOMATION_ENV, value)
    assert automation_enabled() is enabled
    assert schedule_status() == (DefaultScheduleStatus.RUNNING if enabled else DefaultScheduleStatus.STOPPED)
    assert sensor_status() == (DefaultSensorStatus.RUNNING if enabled else DefaultSensorStatus.STOPPED)
    assert sensor_status(ships_running=False) == DefaultSensorStatus.STOPPED


def test_unset_means_on(monkeypatch):
    monkeypatch.delenv(AUTOMATION_ENV, raising=False)
    assert automation_enabled() is True


@pytest.mark.parametrize("value", ["offf", "disabled", "2"])
def test_status_functions_refuse_unknown_values(monkeypatch, value):
    monkeypatch.setenv(AUTOMATION_ENV, value)
    with pytest.raises(ValueError, match=AUTOMATION_ENV):
        automation_enabled()
