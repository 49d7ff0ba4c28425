"""Password hashing for dashboard accounts: argon2id with the library's defaults."""

from __future__ import annotations

import asyncio
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_HASHER = PasswordHasher()
# Verified against when the account does not exist, so a wrong name costs the same
# time as a wrong password and names cannot be probed by timing.
_DUMMY = _HASHER.hash(secrets.token_urlsafe(16))
MIN_LENGTH = 8


def hash_password(password: str) -> str:
    """The encoded argon2id hash of ``password`` (salt and parameters included)."""
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; ``None`` (no such account) never does, in the same time."""
    try:
        return _HASHER.verify(password_hash or _DUMMY, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def verify_password_async(password_hash: str | None, password: str) -> bool:
    """:func:`verify_password` off the event loop (argon2 is deliberately slow)."""
    return await asyncio.to_thread(verify_password, password_hash, password)


def fingerprint(password_hash: str) -> str:
    """A short digest of the hash, kept in the session: a new password ends old sessions."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def generate_password() -> str:
    """A random password to print for a first account (about 120 bits)."""
    return secrets.token_urlsafe(15)
