"""Whether schedules and sensors ship RUNNING: `DARKHORSES_AUTOMATION=off` starts every one STOPPED."""

from __future__ import annotations

from dagster import DefaultScheduleStatus, DefaultSensorStatus

from darkhorses_assets.settings import automation_enabled


def sensor_status(ships_running: bool = True) -> DefaultSensorStatus:
    running = ships_running and automation_enabled()
    return DefaultSensorStatus.RUNNING if running else DefaultSensorStatus.STOPPED


def schedule_status() -> DefaultScheduleStatus:
    return DefaultScheduleStatus.RUNNING if automation_enabled() else DefaultScheduleStatus.STOPPED
