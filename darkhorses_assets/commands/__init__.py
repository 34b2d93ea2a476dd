"""Terminal commands built on the Dagster instance (`darkhorses backfill | status | export`): what they do is
what the UI shows. Each module adds its subcommand with `add_parser`; `run_command` runs the parsed one."""

from __future__ import annotations

import argparse
import sys
import warnings

from darkhorses_assets.commands import backfill, export, status
from darkhorses_assets.commands.common import USAGE_ERROR, CommandError

COMMANDS = ("backfill", "status", "export")


def add_parsers(commands) -> None:
    for module in (backfill, status, export):
        module.add_parser(commands)


def run_command(args: argparse.Namespace) -> int:
    """Run a parsed command; a refused one prints one line `darkhorses: …` and exits 2."""
    warnings.filterwarnings("ignore", message=r".* is currently in (beta|preview)")  # Dagster's, on import
    warnings.filterwarnings("ignore", message=r"XDG_RUNTIME_DIR is not set")  # platformdirs, in containers
    try:
        return args.run(args)
    except CommandError as error:
        print(f"darkhorses: {error}", file=sys.stderr, flush=True)
        return USAGE_ERROR
