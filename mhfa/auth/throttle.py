"""Sign-in throttling that slows a password guesser and never locks the account's owner out.

Attempts are counted per account *and source address* (``MHFA_LOGIN_ACCOUNT_RATE_LIMIT``, 5 a
minute and 20 an hour by default), before the password is checked and atomically in the shared store,
so simultaneous attempts on several workers are counted once each; a right password forgives that
address's count. Past the limit, that address is refused for that account (429 with
``Retry-After``), and nobody else is. Failures are also counted per account from every address
(``MHFA_LOGIN_ACCOUNT_TOTAL_RATE_LIMIT``, 50 an hour): past that, an address that has failed for the
account recently is refused, while an address with no recent failure still gets its attempt, so the
owner's right password from their usual device goes through and a guesser spread over many addresses
gets one guess per address. When an account's failures reach a limit its owner is emailed, at most
once per ``MHFA_LOGIN_ALERT_RATE_LIMIT`` (1 a day), so the alert cannot itself be used to flood them.

Counts live in the rate limiter's store (the database by default, or Redis; see
``mhfa.security.ratelimit``), shared by every worker; if that store fails, this process's memory
carries on and signing in never fails because of it.
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from flask import current_app
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter

from mhfa.auth import emails
from mhfa.auth.models import User
from mhfa.extensions import limiter
from mhfa.people.services import normalise_email

log = logging.getLogger(__name__)
_fallback = FixedWindowRateLimiter(MemoryStorage())


@dataclass
class Refusal:
    """A sign-in attempt that is not even checked: wait ``retry_after`` seconds."""

    retry_after: int


def _account(email: str) -> str:
    return normalise_email(email or "")[:254]


def _items(setting: str) -> list[RateLimitItem]:
    return list(parse_many(current_app.config[setting]))


def _run(operation: str, item: RateLimitItem, *keys: str):
    """``operation`` (hit, test, get_window_stats) on the shared store, or on this process's memory if it fails."""
    try:
        return getattr(limiter.limiter, operation)(item, *keys)
    except Exception:  # noqa: BLE001 (a broken store must never stop anyone signing in)
        log.warning("rate-limit store unavailable: counting sign-in attempts in memory")
        return getattr(_fallback, operation)(item, *keys)


def _retry_after(item: RateLimitItem, *keys: str) -> int:
    reset, _remaining = _run("get_window_stats", item, *keys)
    return max(1, math.ceil(reset - time.time()))


def _exhausted(setting: str, *keys: str) -> list[RateLimitItem]:
    return [item for item in _items(setting) if not _run("test", item, *keys)]


def check(email: str, address: str | None) -> Refusal | None:
    """Take one attempt for ``email`` from ``address`` off its allowance, or say to wait (None: go ahead).

    The attempt is counted here, atomically in the shared store, before the password is checked, so
    attempts arriving at once on several workers can never all slip under the limit; a right password
    gives it back (``record_success``).
    """
    if not limiter.enabled:
        return None
    account, address = _account(email), address or "-"
    if not account:
        return None
    everywhere = _exhausted("MHFA_LOGIN_ACCOUNT_TOTAL_RATE_LIMIT", "login-failed-total", account)
    if everywhere and _failed_here_recently(account, address):
        return Refusal(max(_retry_after(item, "login-failed-total", account) for item in everywhere))
    here = [item for item in _items("MHFA_LOGIN_ACCOUNT_RATE_LIMIT")
            if not _run("hit", item, "login-failed", account, address)]
    if here:
        return Refusal(max(_retry_after(item, "login-failed", account, address) for item in here))
    return None


def _failed_here_recently(account: str, address: str) -> bool:
    """Any failure for the account from this address within the longest per-address window."""
    longest = max(_items("MHFA_LOGIN_ACCOUNT_RATE_LIMIT"), key=lambda item: item.get_expiry())
    _reset, remaining = _run("get_window_stats", longest, "login-failed", account, address)
    return remaining < longest.amount


def record_success(email: str, address: str | None) -> None:
    """The right password: the attempts counted from this address for the account are forgiven."""
    if not limiter.enabled:
        return
    account, address = _account(email), address or "-"
    for item in _items("MHFA_LOGIN_ACCOUNT_RATE_LIMIT"):
        _run("clear", item, "login-failed", account, address)


def record_failure(email: str, address: str | None, user: User | None) -> None:
    """A wrong password (or an unknown address): counted for the account from every address, and its owner
    alerted when a limit is reached. Call it outside the request's write transaction."""
    if not limiter.enabled:
        return
    account, address = _account(email), address or "-"
    if not account:
        return
    reached = any(not _run("test", item, "login-failed", account, address)
                  for item in _items("MHFA_LOGIN_ACCOUNT_RATE_LIMIT"))
    for item in _items("MHFA_LOGIN_ACCOUNT_TOTAL_RATE_LIMIT"):
        counted = _run("hit", item, "login-failed-total", account)
        reached |= not counted or not _run("test", item, "login-failed-total", account)
    if reached and user is not None and user.active:
        _alert_owner(user)


def _alert_owner(user: User) -> None:
    """Email the owner about the failed attempts, at most once per ``MHFA_LOGIN_ALERT_RATE_LIMIT``."""
    if all(_run("hit", item, "login-alert", str(user.id)) for item in _items("MHFA_LOGIN_ALERT_RATE_LIMIT")):
        emails.failed_sign_ins(user)
