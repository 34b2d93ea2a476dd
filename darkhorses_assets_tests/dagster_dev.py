"""Support for tests that start the real `dagster dev` (webserver + daemon): started as `make dev` starts it —
the project's dagster.yaml in a DAGSTER_HOME of its own, storage on the test's Postgres, the API at a simulator —
and always stopped, with nothing left behind."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from darkhorses_assets.instance_settings import DAGSTER_EVENT_SETTINGS
from darkhorses_assets.local.postgres import sqlalchemy_psycopg2_url

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT_S = 60
SHUTDOWN_GRACE_S = 30


@dataclass
class DagsterDev:
    process: subprocess.Popen
    port: int
    home: Path
    log: Path
    started: float
    """`time.time()` when the process was started."""

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, condition: Callable[[], object], timeout_s: float, what: str):
        """`condition()`'s first truthy value within `timeout_s`, failing with the log's tail otherwise."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.process.poll() is None, \
                f"dagster dev exited with {self.process.returncode}:\n{self.output()[-5000:]}"
            value = condition()
            if value:
                return value
            time.sleep(0.5)
        pytest.fail(f"{what} not within {timeout_s} s:\n{self.output()[-8000:]}")


def free_port() -> int:
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


def processes_with_env(name: str, value: str) -> list[str]:
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


@contextmanager
def running_dagster_dev(postgres_url: str, tmp_path: Path, simulator, monkeypatch,
                        automation: str | None = None) -> Iterator[DagsterDev]:
    """`dagster dev` on `postgres_url` and `simulator`, once its webserver answers; stopped on exit.

    `automation` sets DARKHORSES_AUTOMATION (None: unset, the shipped defaults). This process's own
    `DagsterInstance.from_config(home)` reads the same storage (the variable is set with `monkeypatch`).
    """
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    storage_url = sqlalchemy_psycopg2_url(postgres_url)
    monkeypatch.setenv("DARKHORSES_DAGSTER_STORAGE_URL", storage_url)
    config = simulator.config
    env = {
        **DAGSTER_EVENT_SETTINGS,
        **os.environ,
        "DAGSTER_HOME": str(home),
        "DARKHORSES_DATABASE_URL": postgres_url,
        "DARKHORSES_DAGSTER_STORAGE_URL": storage_url,
        "RACING_API_BASE_URL": simulator.url,
        "RACING_API_USERNAME": config.username,
        "RACING_API_PASSWORD": config.password,
    }
    env.pop("DARKHORSES_AUTOMATION", None)
    if automation is not None:
        env["DARKHORSES_AUTOMATION"] = automation
    port, log = free_port(), tmp_path / "dagster_dev.log"
    started = time.time()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "dagster", "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
            cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            process_group=0, preexec_fn=_default_signals,
        )
    dev = DagsterDev(process, port, home, log, started)
    try:
        dev.wait_for(lambda: _answers(port), STARTUP_TIMEOUT_S, "the webserver answering")
        yield dev
    finally:
        _stop(process)
    deadline = time.monotonic() + 15  # processes SIGKILLed with the group take a moment to go
    while (leftovers := processes_with_env("DAGSTER_HOME", str(home))) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not leftovers, f"processes left behind: {leftovers}"


def _answers(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/server_info", timeout=2).ok
    except requests.RequestException:
        return False
