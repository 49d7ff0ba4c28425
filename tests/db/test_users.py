"""Dashboard accounts in the store (``db.users``), on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from db.errors import InvalidValue
from db.users import (
    UserExists,
    count_users,
    create_user,
    get_user,
    get_user_by_name,
    normalise_name,
    record_login,
    set_password,
)


def _name() -> str:
    # The PostgreSQL store is shared by the session's tests and keeps its users.
    return f"Mod-{uuid.uuid4().hex[:8]}"


async def test_create_find_and_update(session: AsyncSession) -> None:
    before = await count_users(session)
    name = _name()
    user = await create_user(session, name=name, password_hash="$argon2id$hash-1")
    assert user.name == name.lower()
    assert await count_users(session) == before + 1
    found = await get_user_by_name(session, name=name.upper())
    assert found is not None and found.id == user.id
    assert await get_user_by_name(session, name="nobody-" + name) is None
    assert await get_user_by_name(session, name="not a name!") is None

    await set_password(session, user_id=user.id, password_hash="$argon2id$hash-2")
    await record_login(session, user_id=user.id)
    fresh = await get_user(session, user_id=user.id)
    assert fresh is not None
    assert fresh.password_hash == "$argon2id$hash-2"
    assert fresh.last_login_at is not None


async def test_names_are_unique_whatever_their_case(session: AsyncSession) -> None:
    name = _name()
    await create_user(session, name=name, password_hash="h")
    with pytest.raises(UserExists):
        await create_user(session, name=f"  {name.upper()} ", password_hash="h")
    # The session is usable after the refusal.
    await create_user(session, name=_name(), password_hash="h")


@pytest.mark.parametrize("bad", ["", "   ", "a b", "x" * 65, "semi;colon", "<b>"])
def test_bad_names_are_refused(bad: str) -> None:
    with pytest.raises(InvalidValue):
        normalise_name(bad)
