"""``fakewatch user add|passwd NAME``: dashboard accounts, the password read from standard input.

At a terminal the password is asked for twice without echo; otherwise the first line
of standard input is the password (``printf '%s\n' "$PW" | fakewatch user add alice``).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from typing import Any

from base.errors import ConfigurationError
from base.settings import Settings


def register(sub: Any) -> None:
    """Add ``user``."""
    p = sub.add_parser(
        "user",
        help="manage dashboard accounts",
        description="Create dashboard accounts or change their passwords. The password is "
        "read from standard input (asked twice at a terminal).",
    )
    actions = p.add_subparsers(dest="user_action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="create an account")
    add.add_argument("name")
    passwd = actions.add_parser("passwd", help="set a new password (ends its sessions)")
    passwd.add_argument("name")
    p.set_defaults(handler=run)


def read_password(stream: Any = None) -> str:
    """The new password: asked twice at a terminal, else the first line of ``stream``.

    Raises:
        ConfigurationError: the two entries differ, or nothing was given.
    """
    stream = stream or sys.stdin
    if stream.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != first:
            raise ConfigurationError("the passwords differ")
        password = first
    else:
        password = stream.readline().rstrip("\r\n")
    if not password:
        raise ConfigurationError("no password on standard input")
    return password


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Create the account or change its password."""
    from dashboard.accounts import change_password, create_account
    from db.engine import database_url
    from db.schema import upgrade_database

    url = database_url(settings)
    upgrade_database(url)
    password = read_password()
    if args.user_action == "add":
        user = asyncio.run(create_account(url, name=args.name, password=password))
        print(f"account {user.name!r} created; sign in to the dashboard with it")
    else:
        asyncio.run(change_password(url, name=args.name, password=password))
        print(f"password of {args.name.strip().lower()!r} changed")
    return 0
