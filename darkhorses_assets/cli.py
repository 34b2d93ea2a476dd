"""`darkhorses` command line: run the local deployment (`dev`) or the simulated Racing API (`simulate`)."""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from darkhorses_assets import settings
from darkhorses_assets.commands import COMMANDS, add_parsers, run_command
from darkhorses_assets.instance_settings import DAGSTER_EVENT_SETTINGS, configure_dagster_process
from darkhorses_assets.local.services import local_services
from darkhorses_assets.settings import SettingsError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHUTDOWN_GRACE_S = 30


def prepare_dagster_home(state_dir: Path) -> Path:
    """A DAGSTER_HOME in the project state folder whose dagster.yaml is a copy of the project's (Postgres storage,
    on DARKHORSES_DAGSTER_STORAGE_URL, which `darkhorses dev` sets)."""
    home = state_dir / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    return home


def run_dev(host: str, port: int) -> int:
    """`dagster dev` on the local services, run in its DAGSTER_HOME: started in the project root, whose own
    dagster.yaml is not the one in use (a copy is), it would warn that the folder's dagster.yaml "will not be used".
    Folders given as relative paths are passed on absolute, so they mean what they meant here."""
    loaded = settings.load_settings()  # every setting checked before anything starts
    state_dir = loaded.state_dir
    with local_services(state_dir) as services:
        for line in services.description:
            print(f"darkhorses: {line}", flush=True)
        dagster_home = prepare_dagster_home(state_dir)
        env = {**DAGSTER_EVENT_SETTINGS, **os.environ, **services.env, "DAGSTER_HOME": str(dagster_home),
               settings.STATE_DIR_ENV: str(state_dir)}
        if loaded.record_dir is not None:
            env[settings.RECORD_DIR_ENV] = str(loaded.record_dir)
        command = [sys.executable, "-m", "dagster", "dev", "-w", str(PROJECT_ROOT / "workspace.yaml"),
                   "-h", host, "-p", str(port)]
        print(f"darkhorses: Dagster UI on http://{host}:{port} — Ctrl-C stops everything", flush=True)
        dagster = subprocess.Popen(command, env=env, cwd=dagster_home,
                                   process_group=0, preexec_fn=_default_signals)
        return _wait_forwarding_signals(dagster)


def _default_signals() -> None:
    """A child started from a script may inherit ignored SIGINT/SIGTERM; dagster dev must hear Ctrl-C."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _wait_forwarding_signals(child: subprocess.Popen) -> int:
    """Ctrl-C / SIGTERM reach dagster dev (in its own process group) exactly once; we wait for it to finish."""
    def forward(signum, _frame):
        if child.poll() is None:
            child.send_signal(signal.SIGINT)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return child.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if child.poll() is None:
            try:
                child.wait(SHUTDOWN_GRACE_S)
            except subprocess.TimeoutExpired:
                child.kill()


def main(argv: list[str] | None = None) -> int:
    configure_dagster_process()
    parser = argparse.ArgumentParser(prog="darkhorses", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    dev = commands.add_parser("dev", help="Postgres + simulator (unless credentials are set) + dagster dev")
    dev.add_argument("--host", default=None, help="default DARKHORSES_HOST, else 127.0.0.1")
    dev.add_argument("--port", type=int, default=None, help="default DARKHORSES_PORT, else 3000")
    commands.add_parser("simulate", help="run the simulated Racing API (see --help of the simulator)",
                        add_help=False)
    add_parsers(commands)  # backfill, status, export (darkhorses_assets/commands/)
    args, rest = parser.parse_known_args(argv)
    if args.command in COMMANDS:
        if rest:
            parser.error(f"unrecognized arguments: {' '.join(rest)}")
        return run_command(args)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if args.command == "dev":
        try:
            host = args.host if args.host is not None else settings.host()
            port = args.port if args.port is not None else settings.port()
            return run_dev(host, port)
        except SettingsError as error:
            print(f"darkhorses: {error}", file=sys.stderr, flush=True)
            return 2
    from darkhorses_assets.racing_api.simulator.__main__ import main as simulate

    return simulate(rest)


if __name__ == "__main__":
    sys.exit(main())
