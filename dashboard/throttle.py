"""Sign-in throttling: repeated failures are slowed, then refused, before argon2 runs.

Every attempt is counted against keys, each with its own record of recent failures:

* the client **address** (an IPv6 address by its /64, which one host usually owns
  whole): after ``free_failures`` failures each further attempt must wait a backoff
  that doubles (1 s, 2 s, 4 s... at most ``max_backoff_s``); at ``lock_after`` failures
  the address is **locked** (refused) for ``lock_s``;
* the **account** name (as the store folds it): the same backoff, but never a lock,
  so an attacker elsewhere can slow the real moderator down and not shut them out;
* or instead of both, a browser's **device** (see :mod:`dashboard.devices`), when it
  carries the cookie of an earlier sign-in to that very account: it is judged by its
  own failures only, so neither a locked shared address (an office NAT) nor a guessing
  attack on the account from elsewhere keeps the moderator out. Its failures count
  like an address's.

An attempt is charged *before* the password is checked and refunded when it proves
right, so a burst of parallel attempts cannot all slip past the count. A refused
attempt never reaches argon2, which is the point: argon2 is deliberately slow, and
at most :data:`VERIFY_SLOTS` verifications run at once however many addresses ask.
Failures are forgotten after ``lock_s`` without any (counted from the end of a wait).

The state is in this process's memory: each dashboard replica counts on its own, and
a restart forgets (a lock is short anyway).
"""

from __future__ import annotations

import ipaddress
import logging
import math
import os
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from base.settings import Settings

log = logging.getLogger(__name__)

Scope = Literal["address", "account", "device"]
Reason = Literal["backoff", "locked", "busy"]
REASONS: tuple[Reason, ...] = ("backoff", "locked", "busy")
# The first wait after the free failures; each further failure doubles it.
BACKOFF_S = 1.0
# argon2 verifications running at once; an attempt beyond them is told to retry shortly.
VERIFY_SLOTS = max(4, os.cpu_count() or 4)
BUSY_RETRY_S = 1.0
# Records kept per table (addresses and devices; account names): the least recently
# failed ones go first, once the forgotten ones are gone.
MAX_RECORDS = 50_000


@dataclass(frozen=True)
class Policy:
    """The thresholds (from ``FAKEWATCH_SIGNIN_*``; see :class:`base.settings.Settings`)."""

    free_failures: int = 5
    max_backoff_s: float = 60.0
    lock_after: int = 10
    lock_s: float = 900.0

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        """The policy the settings ask for."""
        return cls(
            free_failures=settings.signin_free_failures,
            max_backoff_s=settings.signin_max_backoff_s,
            lock_after=settings.signin_lock_after,
            lock_s=settings.signin_lock_s,
        )

    def backoff_s(self, failures: int) -> float:
        """The wait after ``failures`` failures (0 while they are free)."""
        if failures < self.free_failures:
            return 0.0
        doublings = min(failures - self.free_failures, 30)
        return min(self.max_backoff_s, BACKOFF_S * 2.0**doublings)


@dataclass
class _Record:
    failures: int = 0
    last: float = 0.0
    blocked_until: float = 0.0
    locked: bool = False


@dataclass(frozen=True)
class Key:
    """One thing attempts are counted against: ``scope`` and its value."""

    scope: Scope
    value: str

    @property
    def lockable(self) -> bool:
        """Whether failures here end in a lock (addresses and devices; accounts only slow)."""
        return self.scope != "account"


@dataclass(frozen=True)
class Refusal:
    """An attempt refused without checking its password.

    Attributes:
        reason: ``backoff`` (wait a little), ``locked`` (too many failures) or ``busy``.
        retry_after_s: When trying again can be let through.
        scope: Which key refused (``None`` when the server was busy).
    """

    reason: Reason
    retry_after_s: float
    scope: Scope | None = None

    @property
    def retry_after(self) -> int:
        """Whole seconds, for a ``Retry-After`` header."""
        return max(1, math.ceil(self.retry_after_s))


@dataclass(frozen=True)
class Attempt:
    """An admitted attempt: charged to its keys until :meth:`SignInThrottle.finish`."""

    keys: tuple[Key, ...]
    locks: tuple[Key, ...]  # the keys this attempt locks if it fails
    account: str
    address: str


@dataclass
class Stats:
    """Running totals, for ``/metrics``."""

    failures: int = 0
    locks: int = 0
    refused: Counter[str] = field(default_factory=Counter)


def address_key(host: str) -> str:
    """The address attempts are counted under: IPv6 by its /64, anything else as given."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host[:100]
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is None:
        return str(ipaddress.IPv6Network(f"{ip}/64", strict=False))
    return str(ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else ip)


def account_key(name: str) -> str:
    """An account name as the store folds it (so ``MOD`` and ``mod`` share one count)."""
    return name.strip().lower()[:256]


class SignInThrottle:
    """The failure records of this process, and the decisions made from them.

    Args:
        clock: Seconds from an arbitrary start (tests pass one they can advance).
    """

    def __init__(self, policy: Policy, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy
        self.clock = clock
        self.stats = Stats()
        self._tables: dict[bool, OrderedDict[Key, _Record]] = {
            True: OrderedDict(),  # lockable: addresses and devices
            False: OrderedDict(),  # accounts
        }
        self._verifying = 0

    def admit(self, *, address: str, account: str, device: str | None = None) -> Attempt | Refusal:
        """Charge an attempt to its keys, or refuse it (then nothing is charged).

        Args:
            address: The client's address.
            account: The name typed in.
            device: The device id of this account's cookie, when the browser has one.
        """
        now = self.clock()
        if device is not None:
            keys: tuple[Key, ...] = (Key("device", device),)
        else:
            keys = (Key("address", address_key(address)), Key("account", account_key(account)))
        records = [self._record(key, now) for key in keys]
        waits = [
            (r.blocked_until - now, key, r.locked)
            for key, r in zip(keys, records, strict=True)
            if r.blocked_until > now
        ]
        if waits:
            wait, key, locked = max(waits, key=lambda w: w[0])
            reason: Reason = "locked" if locked else "backoff"
            self.stats.refused[reason] += 1
            log.debug("sign-in refused (%s %s): %s for %.0f s", key.scope, key.value, reason, wait)
            return Refusal(reason=reason, retry_after_s=wait, scope=key.scope)
        if self._verifying >= VERIFY_SLOTS:
            self.stats.refused["busy"] += 1
            return Refusal(reason="busy", retry_after_s=BUSY_RETRY_S)
        self._verifying += 1
        locks = tuple(
            key for key, record in zip(keys, records, strict=True) if self._charge(key, record, now)
        )
        return Attempt(keys=keys, locks=locks, account=account_key(account)[:64], address=address)

    def finish(self, attempt: Attempt, *, ok: bool | None) -> None:
        """Record how an admitted attempt ended.

        Args:
            ok: The password was right (its charge is refunded), wrong (a failure, which
                may lock), or ``None``: no answer (an error, or the client gone), when
                the charge stays and no failure is counted.
        """
        self._verifying = max(0, self._verifying - 1)
        now = self.clock()
        if ok is None:
            return
        if ok:
            for key in attempt.keys:
                self._refund(key)
            return
        self.stats.failures += 1
        for key in attempt.locks:
            record = self._tables[key.lockable].get(key)
            if record is None:
                continue
            self.stats.locks += 1
            log.warning(
                "sign-in locked for %s %s for %.0f s after %d failures (the last for %r from %s)",
                key.scope,
                key.value if key.scope == "address" else key.value[:6] + "…",
                max(0.0, record.blocked_until - now),
                record.failures,
                attempt.account,
                attempt.address,
            )

    def locked_now(self) -> int:
        """How many addresses and devices are locked at the moment."""
        now = self.clock()
        return sum(1 for r in self._tables[True].values() if r.locked and r.blocked_until > now)

    # --- records --------------------------------------------------------------

    def _forgotten(self, record: _Record, now: float) -> bool:
        return now >= max(record.last, record.blocked_until) + self.policy.lock_s

    def _record(self, key: Key, now: float) -> _Record:
        table = self._tables[key.lockable]
        record = table.get(key)
        if record is not None and self._forgotten(record, now):
            del table[key]
            record = None
        return record or _Record()

    def _charge(self, key: Key, record: _Record, now: float) -> bool:
        """Count one more failure; whether it locks the key."""
        table = self._tables[key.lockable]
        record.failures += 1
        record.last = now
        if key.lockable and record.failures >= self.policy.lock_after:
            record.blocked_until, record.locked = now + self.policy.lock_s, True
        else:
            wait = self.policy.backoff_s(record.failures)
            record.blocked_until, record.locked = now + wait, False
        table[key] = record
        table.move_to_end(key)
        if len(table) > MAX_RECORDS:
            self._prune(table, now)
        return record.locked

    def _refund(self, key: Key) -> None:
        table = self._tables[key.lockable]
        record = table.get(key)
        if record is None:
            return
        if key.scope != "address":
            del table[key]  # the account's (or this browser's) owner is back
            return
        # One address may hold several accounts: a success on one of them must not wipe
        # the failures on another, so only this attempt's charge is taken back. Any wait
        # on the record was set by this very attempt (it was admitted), so it goes too.
        record.failures = max(0, record.failures - 1)
        record.blocked_until, record.locked = 0.0, False
        if record.failures == 0:
            del table[key]

    def _prune(self, table: OrderedDict[Key, _Record], now: float) -> None:
        for key in [k for k, r in table.items() if self._forgotten(r, now)]:
            del table[key]
        while len(table) > MAX_RECORDS:
            table.popitem(last=False)
