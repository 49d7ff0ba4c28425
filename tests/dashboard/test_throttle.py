"""The sign-in throttle on its own: what the dashboard tests cannot easily reach (parallel
attempts, forgetting, memory bounds)."""

from __future__ import annotations

import pytest

from base.settings import load_settings
from dashboard import throttle
from dashboard.throttle import Attempt, Policy, Refusal, SignInThrottle, address_key
from tests.dashboard.test_signin_limits import FakeClock


def _throttle() -> tuple[SignInThrottle, FakeClock]:
    clock = FakeClock()
    return SignInThrottle(Policy(), clock=clock), clock


def _fail(t: SignInThrottle, *, address: str = "10.0.0.1", account: str = "mod") -> None:
    attempt = t.admit(address=address, account=account)
    assert isinstance(attempt, Attempt), attempt
    t.finish(attempt, ok=False)


def test_settings_make_the_policy() -> None:
    policy = Policy.from_settings(load_settings(signin_lock_s=60, signin_free_failures=3))
    assert (policy.free_failures, policy.lock_after, policy.lock_s) == (3, 10, 60)
    assert [policy.backoff_s(n) for n in (2, 3, 4, 5, 40)] == [0, 1, 2, 4, 60]


def test_parallel_attempts_cannot_all_slip_past_the_count(monkeypatch: pytest.MonkeyPatch) -> None:
    # Admitted attempts are charged before their password is checked.
    monkeypatch.setattr(throttle, "VERIFY_SLOTS", 100)
    t, _ = _throttle()
    answers = [t.admit(address="10.0.0.1", account="mod") for _ in range(20)]
    admitted = [a for a in answers if isinstance(a, Attempt)]
    assert len(admitted) == 5
    assert all(isinstance(a, Refusal) and a.reason == "backoff" for a in answers[5:])


def test_verifications_at_once_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(throttle, "VERIFY_SLOTS", 2)
    t, _ = _throttle()
    first, second = (t.admit(address=f"10.0.0.{n}", account=f"a{n}") for n in (1, 2))
    busy = t.admit(address="10.0.0.3", account="a3")
    assert isinstance(busy, Refusal) and busy.reason == "busy" and busy.retry_after == 1
    assert isinstance(first, Attempt) and isinstance(second, Attempt)
    t.finish(first, ok=True)
    assert isinstance(t.admit(address="10.0.0.3", account="a3"), Attempt)
    assert t.stats.refused["busy"] == 1


def test_an_account_is_slowed_but_never_locked() -> None:
    t, clock = _throttle()
    for n in range(30):  # from thirty addresses, each waiting out the backoff
        clock.advance(61)
        _fail(t, address=f"10.0.1.{n}")
    assert t.locked_now() == 0
    assert t.stats.locks == 0
    refusal = t.admit(address="10.0.2.1", account="MOD ")  # the store's folding
    assert isinstance(refusal, Refusal) and refusal.scope == "account"


def test_a_success_on_one_account_does_not_wipe_an_addresses_failures() -> None:
    # Someone with an account of their own cannot reset their guessing at another's.
    t, _ = _throttle()
    for _ in range(4):
        _fail(t, account="admin")
    own = t.admit(address="10.0.0.1", account="me")
    assert isinstance(own, Attempt)
    t.finish(own, ok=True)
    _fail(t, account="admin")
    refusal = t.admit(address="10.0.0.1", account="someone")
    assert isinstance(refusal, Refusal) and refusal.scope == "address"


def test_failures_are_forgotten_after_a_quiet_lock_period() -> None:
    t, clock = _throttle()
    for _ in range(10):
        _fail(t)
        clock.advance(20)
    assert t.locked_now() == 1
    clock.advance(900)
    # Right after the lock a failure locks again at once...
    _fail(t)
    assert isinstance(t.admit(address="10.0.0.1", account="x"), Refusal)
    # ...but after a quiet lock period after it, the address starts afresh.
    clock.advance(1801)
    assert t.locked_now() == 0
    assert isinstance(t.admit(address="10.0.0.1", account="y"), Attempt)


def test_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(throttle, "MAX_RECORDS", 100)
    t, _ = _throttle()
    for n in range(1000):
        _fail(t, address=f"10.1.{n // 250}.{n % 250}", account=f"name{n}")
    assert all(len(table) <= 100 for table in t._tables.values())


def test_address_keys() -> None:
    assert address_key("203.0.113.7") == "203.0.113.7"
    assert address_key("2001:db8:1:2::1") == address_key("2001:db8:1:2:ffff::9")
    assert address_key("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert address_key("::ffff:203.0.113.7") == "203.0.113.7"
    assert address_key("testclient") == "testclient"
