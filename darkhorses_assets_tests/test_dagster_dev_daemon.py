"""The real `dagster dev` (webserver + daemon) on the test's Postgres: the daemon records sensor ticks within a
minute of starting, none of them failed, and the API password never appears in its output."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from darkhorses_assets.instance_settings import DAGSTER_EVENT_SETTINGS
from darkhorses_assets.local.postgres import sqlalchemy_psycopg2_url
from darkhorses_assets.racing_api.simulator import SimulatorConfig, SimulatorServer

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT_S = 60
TICK_DEADLINE_S = 60
SHUTDOWN_GRACE_S = 30
WATCHED_SENSORS = {"results_watch", "run_failure_alerts", "darkhorses_automation"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _default_signals() -> None:
    """As cli.py does: a child started from a script may inherit ignored SIGINT/SIGTERM."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _stop(process: subprocess.Popen) -> None:
    """SIGINT to dagster dev's process group, SIGKILL to the group if it has not finished after the grace."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(SHUTDOWN_GRACE_S)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # children that outlived dagster dev (run workers, code server)
    except ProcessLookupError:
        pass
    process.wait(10)


def _processes_with_env(name: str, value: str) -> list[str]:
    """Command lines of live processes whose environment has name=value (our DAGSTER_HOME: anything we left)."""
    needle = f"{name}={value}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if needle in (proc / "environ").read_bytes().split(b"\0"):
                found.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except OSError:
            continue
    return found


def _wait_for_webserver(process: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        assert process.poll() is None, f"dagster dev exited with {process.returncode}:\n{log.read_text()[-5000:]}"
        try:
            if requests.get(f"http://127.0.0.1:{port}/server_info", timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    pytest.fail(f"the webserver did not answer within {STARTUP_TIMEOUT_S} s:\n{log.read_text()[-5000:]}")


def _sensor_daemon_started_at(instance, process: subprocess.Popen, log: Path) -> float:
    """Timestamp of the sensor daemon's first heartbeat in the instance storage."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        assert process.poll() is None, f"dagster dev exited with {process.returncode}:\n{log.read_text()[-5000:]}"
        heartbeat = instance.get_daemon_heartbeats().get("SENSOR")
        if heartbeat is not None:
            return heartbeat.timestamp
        time.sleep(0.5)
    pytest.fail(f"no sensor daemon heartbeat within {STARTUP_TIMEOUT_S} s:\n{log.read_text()[-5000:]}")


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

    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    storage_url = sqlalchemy_psycopg2_url(postgres_url)
    monkeypatch.setenv("DARKHORSES_DAGSTER_STORAGE_URL", storage_url)  # for this process's DagsterInstance
    config = SimulatorConfig(rate_limit_per_s=1000.0)
    port = _free_port()
    log = tmp_path / "dagster_dev.log"

    with SimulatorServer(config, host="127.0.0.1", port=0) as sim:
        env = {
            **DAGSTER_EVENT_SETTINGS,
            **os.environ,
            "DAGSTER_HOME": str(home),
            "DARKHORSES_DATABASE_URL": postgres_url,
            "DARKHORSES_DAGSTER_STORAGE_URL": storage_url,
            "RACING_API_BASE_URL": sim.url,
            "RACING_API_USERNAME": config.username,
            "RACING_API_PASSWORD": config.password,
        }
        env.pop("DARKHORSES_AUTOMATION", None)  # the shipped defaults: sensors RUNNING
        started = time.time()
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "dagster", "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
                cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                process_group=0, preexec_fn=_default_signals,
            )
        try:
            _wait_for_webserver(process, port, log)
            webserver_at = time.time()
            with DagsterInstance.from_config(str(home)) as instance:
                daemon_at = _sensor_daemon_started_at(instance, process, log)
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
        finally:
            _stop(process)
        stopped = time.time()

    output = log.read_text(errors="replace")
    print(f"\ndagster dev: webserver answered after {webserver_at - started:.1f} s, sensor daemon heartbeat "
          f"{daemon_at - started:.1f} s, stopped after {stopped - started:.1f} s (exit {process.returncode})")
    for name, sensor_ticks in sorted(ticks.items()):
        for tick in sensor_ticks:
            detail = tick.skip_reason or (tick.error.to_string() if tick.error else "") or \
                f"{len(tick.run_ids)} run(s) requested"
            print(f"  {name}: {tick.status.value} at +{tick.timestamp - started:.1f} s — {detail}")

    assert config.password not in output, "the API password appeared in dagster dev's output"
    leftovers = _processes_with_env("DAGSTER_HOME", str(home))
    assert not leftovers, f"processes left behind: {leftovers}"

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
