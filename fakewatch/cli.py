"""The ``fakewatch`` command: one entry point, one subcommand module per job.

Each module in :data:`COMMANDS` has ``register(subparsers)``, which adds its
subcommand and sets ``handler`` (taking the parsed arguments and the settings,
returning an exit code). Heavy imports happen inside handlers, so
``fakewatch --help`` and the bot commands never load torch.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from base.errors import FakeWatchError
from base.scheduling import normal_scheduling
from base.settings import load_settings
from fakewatch import __version__

COMMANDS = (
    "fakewatch.commands.check",
    "fakewatch.commands.demo",
    "fakewatch.commands.telegram",
    "fakewatch.commands.discord",
    "fakewatch.commands.bench",
    "fakewatch.commands.worker",
    "fakewatch.commands.submit",
    "fakewatch.commands.audit",
    "fakewatch.commands.database",
    "fakewatch.commands.redis_server",
    "fakewatch.commands.train",
    "fakewatch.commands.evaluate",
    "fakewatch.commands.dashboard",
    "fakewatch.commands.user",
    "fakewatch.commands.run",
)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="fakewatch", description="Deepfake moderation for chat communities."
    )
    parser.add_argument("--version", action="version", version=f"fakewatch {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    normal_scheduling()  # first, before any thread starts: threads inherit the policy
    args = build_parser().parse_args(argv)
    level = (logging.WARNING, logging.INFO, logging.DEBUG)[min(args.verbose, 2)]
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings()
        code: int = args.handler(args, settings)
    except FakeWatchError as e:
        print(f"fakewatch: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("fakewatch: interrupted", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
