"""``python -m darkhorses_assets.racing_api.simulator``: serve the simulated API until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from datetime import date, datetime

from .faults import Faults
from .server import SimulatorConfig, SimulatorServer


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m darkhorses_assets.racing_api.simulator",
        description="Simulated Racing API on loopback. Fault rates also come from DARKHORSES_SIM_FAULT_* "
        "environment variables; flags win.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--username", default="darkhorses")
    parser.add_argument("--password", default="simulator")
    parser.add_argument("--rate-limit", type=float, default=2.0, help="requests per second per credential")
    parser.add_argument("--replay-dir", default=None, help="serve recorded responses from this directory")
    clock = parser.add_argument_group("clock (default: the real UK time)")
    clock.add_argument(
        "--now", type=datetime.fromisoformat, default=None, metavar="YYYY-MM-DDTHH:MM",
        help="start the clock at this UK time (e.g. 2025-10-18T13:05)",
    )
    clock.add_argument(
        "--time-scale", type=float, default=None, metavar="K",
        help="run the clock K times faster than real time (0 freezes it; default 1)",
    )
    clock.add_argument(
        "--today", type=date.fromisoformat, default=None, metavar="YYYY-MM-DD",
        help="freeze the clock at 00:00 of this day (with --time-scale: run from there)",
    )
    clock.add_argument(
        "--result-delay-minutes", type=float, default=15.0, metavar="MIN",
        help="minutes from a race's off to its result (some races take 10-30 more)",
    )
    parser.add_argument("--racecard-history-from", type=date.fromisoformat, default=date(2015, 1, 1))
    faults = parser.add_argument_group("faults (rates 0..1)")
    for flag in ("429", "5xx", "slow", "truncated", "malformed", "extra-fields", "missing-fields"):
        faults.add_argument(f"--fault-{flag}", type=float, default=None, metavar="RATE")
    faults.add_argument("--fault-slow-seconds", type=float, default=None)
    faults.add_argument("--fault-seed", type=int, default=None)
    faults.add_argument(
        "--fail-first",
        type=json.loads,
        default=None,
        metavar="JSON",
        help="scripted faults, e.g. '{\"429\": 2}'",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")
    return parser


def config_from_args(args: argparse.Namespace) -> SimulatorConfig:
    """The config the command line asks for. ``--today D --time-scale K`` runs the clock from D 00:00."""
    now, today, time_scale = args.now, args.today, args.time_scale
    if today is not None and time_scale is not None and now is None:
        now, today = datetime.combine(today, datetime.min.time()), None
    faults = Faults.from_env(
        rate_429=args.fault_429,
        rate_5xx=args.fault_5xx,
        rate_slow=args.fault_slow,
        slow_seconds=args.fault_slow_seconds,
        rate_truncated=args.fault_truncated,
        rate_malformed=args.fault_malformed,
        rate_extra_fields=args.fault_extra_fields,
        rate_missing_fields=args.fault_missing_fields,
        seed=args.fault_seed,
        fail_first=args.fail_first,
    )
    return SimulatorConfig(
        seed=args.seed,
        username=args.username,
        password=args.password,
        rate_limit_per_s=args.rate_limit,
        faults=faults,
        replay_dir=args.replay_dir,
        today=today,
        now=now,
        time_scale=1.0 if time_scale is None else time_scale,
        result_delay_minutes=args.result_delay_minutes,
        racecard_history_from=args.racecard_history_from,
    )


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING)
    try:
        config = config_from_args(args)
    except ValueError as error:
        parser.error(str(error))
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with SimulatorServer(config, host=args.host, port=args.port) as server:
        server.app.warm_up()
        print(f"Racing API simulator listening on {server.url} ({server.clock!r})", flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
