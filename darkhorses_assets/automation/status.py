"""Whether schedules and sensors ship RUNNING: `DARKHORSES_AUTOMATION=off` starts every one STOPPED."""

from __future__ import annotations

import os

from dagster import DefaultScheduleStatus, DefaultSensorStatus

AUTOMATION_ENV = "DARKHORSES_AUTOMATION"
_ON, _OFF = ("on", "1", "true", "yes", ""), ("off", "0", "false", "no")


def automation_enabled() -> bool:
    """True unless DARKHORSES_AUTOMATION says off; any other value fails naming the variable."""
    value = os.environ.get(AUTOMATION_ENV, "").strip().lower()
    if value in _ON:
        return True
    if value in _OFF:
        return False
    raise ValueError(f"{AUTOMATION_ENV}={value!r} is not understood: use 'on' (the default) or 'off'")


def sensor_status(ships_running: bool = True) -> DefaultSensorStatus:
    running = ships_running and automation_enabled()
    return DefaultSensorStatus.RUNNING if running else DefaultSensorStatus.STOPPED


def schedule_status() -> DefaultScheduleStatus:
    return DefaultScheduleStatus.RUNNING if automation_enabled() else DefaultScheduleStatus.STOPPED
