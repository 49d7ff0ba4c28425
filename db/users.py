"""Dashboard accounts: moderators who sign in to the web dashboard.

Only the password's hash is stored (the dashboard hashes with argon2id; this module
does not care which algorithm, it stores the encoded string). Names are compared
case-insensitively: ``Alice`` and ``alice`` are one account.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from db.columns import UTCDateTime, utcnow
from db.errors import InvalidValue, StoreError
from db.models import Base, Id

NAME_MAX = 64


class UserExists(StoreError):
    """An account with that name already exists."""

    code = "user_exists"


class User(Base):
    """A dashboard account."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    # Stored folded to lower case: the unique constraint then means case-insensitive.
    name: Mapped[str] = mapped_column(String(NAME_MAX), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.name}>"


def normalise_name(name: str) -> str:
    """The stored form of an account name.

    Raises:
        InvalidValue: empty, too long, or with characters other than letters, digits, ``._-@``.
    """
    folded = name.strip().lower()
    if not folded or len(folded) > NAME_MAX:
        raise InvalidValue(f"an account name has 1 to {NAME_MAX} characters")
    if not all(c.isalnum() or c in "._-@" for c in folded):
        raise InvalidValue("an account name has only letters, digits and . _ - @")
    return folded


async def create_user(session: AsyncSession, *, name: str, password_hash: str) -> User:
    """Add an account.

    Raises:
        InvalidValue: a bad name.
        UserExists: the name is taken.
    """
    user = User(name=normalise_name(name), password_hash=password_hash, created_at=utcnow())
    session.add(user)
    try:
        await session.commit()
    except IntegrityError as e:
        await session.rollback()
        raise UserExists(f"an account named {user.name!r} already exists") from e
    return user


async def get_user(session: AsyncSession, *, user_id: int) -> User | None:
    """The account with that id, or ``None``."""
    return await session.get(User, user_id, populate_existing=True)


async def get_user_by_name(session: AsyncSession, *, name: str) -> User | None:
    """The account with that name (any case), or ``None``."""
    try:
        folded = normalise_name(name)
    except InvalidValue:
        return None
    rows = await session.scalars(select(User).where(User.name == folded))
    return rows.first()


async def set_password(session: AsyncSession, *, user_id: int, password_hash: str) -> None:
    """Replace an account's password hash (which also ends its sessions)."""
    await session.execute(
        update(User).where(User.id == user_id).values(password_hash=password_hash)
    )
    await session.commit()


async def record_login(session: AsyncSession, *, user_id: int) -> None:
    """Remember when the account last signed in."""
    await session.execute(update(User).where(User.id == user_id).values(last_login_at=utcnow()))
    await session.commit()


async def count_users(session: AsyncSession) -> int:
    """How many accounts exist."""
    return int(await session.scalar(select(func.count()).select_from(User)) or 0)
