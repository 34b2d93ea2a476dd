"""``python -m darkhorses_assets.racing_api.simulator``: serve the simulated API until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from datetime import date

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
    parser.add_argument("--today", type=date.fromisoformat, default=None, help="fix the date (YYYY-MM-DD)")
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


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING)
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
    config = SimulatorConfig(
        seed=args.seed,
        username=args.username,
        password=args.password,
        rate_limit_per_s=args.rate_limit,
        faults=faults,
        replay_dir=args.replay_dir,
        today=args.today,
        racecard_history_from=args.racecard_history_from,
    )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with SimulatorServer(config, host=args.host, port=args.port) as server:
        print(f"Racing API simulator listening on {server.url}", flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
