"""Account administration for the command line (``fakewatch user``, ``fakewatch run``).

Each function opens the store at a URL (:func:`db.store.open_store`, the schema already
migrated by the command), does one thing and closes it again.
"""

from __future__ import annotations

from dashboard.passwords import MIN_LENGTH, hash_password
from db.errors import InvalidValue, StoreError
from db.store import open_store
from db.users import User, count_users, create_user, get_user_by_name, set_password


class NoSuchAccount(StoreError):
    """No account with that name."""

    code = "no_such_account"


def check_password(password: str) -> None:
    """Refuse passwords too short to be worth hashing.

    Raises:
        InvalidValue: shorter than :data:`MIN_LENGTH` characters.
    """
    if len(password) < MIN_LENGTH:
        raise InvalidValue(f"a password has at least {MIN_LENGTH} characters")


async def create_account(url: str, *, name: str, password: str) -> User:
    """Add an account with this password.

    Raises:
        InvalidValue: a bad name or a short password.
        UserExists: the name is taken.
    """
    check_password(password)
    async with open_store(url, migrate=False) as store, store.sessions() as session:
        return await create_user(session, name=name, password_hash=hash_password(password))


async def change_password(url: str, *, name: str, password: str) -> None:
    """Give an account a new password (its open sessions end).

    Raises:
        InvalidValue: a short password.
        NoSuchAccount: no such account.
    """
    check_password(password)
    async with open_store(url, migrate=False) as store, store.sessions() as session:
        user = await get_user_by_name(session, name=name)
        if user is None:
            raise NoSuchAccount(f"no account named {name!r}")
        await set_password(session, user_id=user.id, password_hash=hash_password(password))


async def account_count(url: str) -> int:
    """How many accounts the store has."""
    async with open_store(url, migrate=False) as store, store.sessions() as session:
        return await count_users(session)
