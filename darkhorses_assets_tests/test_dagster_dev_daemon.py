"""The real `dagster dev` (webserver + daemon) on the test's Postgres: the daemon records sensor ticks within a
minute of starting, none of them failed, and the API password never appears in its output."""

import time

import pytest

from darkhorses_assets.racing_api.simulator import SimulatorConfig, SimulatorServer
from darkhorses_assets_tests.dagster_dev import STARTUP_TIMEOUT_S, running_dagster_dev

TICK_DEADLINE_S = 60
WATCHED_SENSORS = {"results_watch", "run_failure_alerts", "darkhorses_automation"}


def _sensor_daemon_started_at(instance, dev) -> float:
    """Timestamp of the sensor daemon's first heartbeat in the instance storage."""
    heartbeat = dev.wait_for(lambda: instance.get_daemon_heartbeats().get("SENSOR"), STARTUP_TIMEOUT_S,
                             "a sensor daemon heartbeat")
    return heartbeat.timestamp


def _sensor_ticks(instance) -> dict[str, list]:
    """Every sensor's recorded ticks by sensor name."""
    from dagster._core.definitions.run_request import InstigatorType

    ticks = {}
    for state in instance.all_instigator_state(instigator_type=InstigatorType.SENSOR):
        ticks[state.name] = instance.get_ticks(state.instigator_origin_id, state.selector_id)
    return ticks


@pytest.mark.slow
def test_dagster_dev_daemon_records_sensor_ticks(postgres_url, tmp_path, monkeypatch):
    from dagster import DagsterInstance
    from dagster._core.scheduler.instigation import TickStatus

    config = SimulatorConfig(rate_limit_per_s=1000.0)
    with SimulatorServer(config, host="127.0.0.1", port=0) as sim, \
            running_dagster_dev(postgres_url, tmp_path, sim, monkeypatch) as dev:
        started, webserver_at = dev.started, time.time()
        with DagsterInstance.from_config(str(dev.home)) as instance:
            daemon_at = _sensor_daemon_started_at(instance, dev)
            deadline = daemon_at + TICK_DEADLINE_S
            ticks: dict[str, list] = {}
            while time.time() < deadline:
                ticks = _sensor_ticks(instance)
                if all(ticks.get(name) for name in WATCHED_SENSORS):
                    break
                time.sleep(1)
            ticks = _sensor_ticks(instance)
            first_tick_at = min((tick.timestamp for name in WATCHED_SENSORS for tick in ticks.get(name, [])),
                                default=None)
    stopped = time.time()

    output = dev.output()
    print(f"\ndagster dev: webserver answered after {webserver_at - started:.1f} s, sensor daemon heartbeat "
          f"{daemon_at - started:.1f} s, stopped after {stopped - started:.1f} s (exit {dev.process.returncode})")
    for name, sensor_ticks in sorted(ticks.items()):
        for tick in sensor_ticks:
            detail = tick.skip_reason or (tick.error.to_string() if tick.error else "") or \
                f"{len(tick.run_ids)} run(s) requested"
            print(f"  {name}: {tick.status.value} at +{tick.timestamp - started:.1f} s — {detail}")

    assert config.password not in output, "the API password appeared in dagster dev's output"

    failed = {name: [tick.error.to_string() if tick.error else "(no error recorded)" for tick in sensor_ticks
                     if tick.status == TickStatus.FAILURE]
              for name, sensor_ticks in ticks.items()}
    assert not any(failed.values()), f"sensor ticks failed: {failed}"
    watched = [tick for name in WATCHED_SENSORS for tick in ticks.get(name, [])]
    assert watched, f"no tick of {sorted(WATCHED_SENSORS)} within {TICK_DEADLINE_S} s of the daemon starting " \
                    f"(ticks seen: { {name: len(t) for name, t in ticks.items()} }):\n{output[-5000:]}"
    assert first_tick_at is not None and started <= first_tick_at <= deadline
    assert all(tick.timestamp >= started for tick in watched)
    finished = [tick for tick in watched if tick.status in (TickStatus.SUCCESS, TickStatus.SKIPPED)]
    assert finished, f"no finished tick: {[(tick.instigator_name, tick.status.value) for tick in watched]}"
    assert "raw_gap_filler" not in ticks or not ticks["raw_gap_filler"], "raw_gap_filler ships STOPPED"
