"""Errors of the verdict store."""

from __future__ import annotations

from base.errors import FakeWatchError


class StoreError(FakeWatchError):
    """The verdict store cannot do what was asked."""

    code = "store"


class CheckNotFound(StoreError):
    """No check with that id."""

    code = "check_not_found"


class InvalidValue(StoreError):
    """A value outside what a column accepts (an unknown platform, action, decision...)."""

    code = "invalid_value"


class MigrationError(StoreError):
    """The schema could not be upgraded or downgraded."""

    code = "migration"
