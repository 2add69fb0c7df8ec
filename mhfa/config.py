"""Settings read from the environment (12-factor), with safe defaults for development.

Every command reads the same settings: the environment, then ``instance/mhfa.env`` (``NAME=value``
lines) for what the environment does not set, so a cron job, a worker and the web app agree on the
database, the base URL of links and the mail server without each being given them.
"""
from __future__ import annotations

import os
import secrets
from collections import ChainMap
from collections.abc import Mapping
from datetime import date
from pathlib import Path

from mhfa import dates

#: The settings file in the instance folder, read by every command (the environment wins over it).
SETTINGS_FILE = "mhfa.env"

_env: Mapping[str, str] = os.environ


def settings_file(instance_path: str) -> dict[str, str]:
    """The ``NAME=value`` lines of ``instance/mhfa.env`` (blank lines and ``#`` comments skipped; a value may
    be quoted). A missing file is no settings."""
    path = Path(instance_path) / SETTINGS_FILE
    if not path.is_file():
        return {}
    found = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, equals, value = line.removeprefix("export ").partition("=")
        name = name.strip()
        if not equals or not name.replace("_", "").isalnum():
            raise ValueError(f"{path}, line {number}: expected NAME=value, not {line[:40]!r}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        found[name] = value
    return found


def database_url(raw: str | None, instance_path: str) -> str:
    """The SQLAlchemy URL for ``DATABASE_URL``; SQLite in ``instance/`` when unset."""
    if not raw:
        return "sqlite:///" + str(Path(instance_path) / "mhfa.db")
    if raw.startswith("postgres://"):
        raw = "postgresql://" + raw[len("postgres://"):]
    if raw.startswith("postgresql://"):
        raw = "postgresql+psycopg://" + raw[len("postgresql://"):]
    return raw


def secret_key(instance_path: str) -> str:
    """``SECRET_KEY`` from the environment, else one generated once into ``instance/``."""
    if _env.get("SECRET_KEY"):
        return _env["SECRET_KEY"]
    key_file = Path(instance_path) / "secret_key"
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.touch(mode=0o600)
        key_file.write_text(secrets.token_hex(32))
    return key_file.read_text().strip()


def programme_date(name: str, default: str) -> date:
    """A programme date from the environment (YYYY-MM-DD, within the programme range), else the app stops."""
    raw = _env.get(name, default).strip()
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"{name} must be a date as YYYY-MM-DD, not {raw[:40]!r}") from None
    problem = dates.PROGRAMME.problem(day, name)
    if problem:
        raise ValueError(problem)
    return day


def _bool(name: str, default: bool) -> bool:
    value = _env.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def from_environment(instance_path: str) -> dict:
    """Every setting the app reads, as a dict for ``app.config``: the environment's, else instance/mhfa.env's."""
    global _env
    _env = ChainMap(os.environ, settings_file(instance_path))
    try:
        return _settings(instance_path)
    finally:
        _env = os.environ


def _settings(instance_path: str) -> dict:
    return {
        "SQLALCHEMY_DATABASE_URI": database_url(_env.get("DATABASE_URL"), instance_path),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SECRET_KEY": secret_key(instance_path),
        # Werkzeug's password hash; production keeps scrypt, the test suite configures a cheap one.
        "MHFA_PASSWORD_HASH_METHOD": _env.get("MHFA_PASSWORD_HASH_METHOD", "scrypt"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", False),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "WTF_CSRF_TIME_LIMIT": None,
        "MAIL_SERVER": _env.get("MAIL_SERVER", ""),
        "MAIL_PORT": int(_env.get("MAIL_PORT", "25")),
        "MAIL_USERNAME": _env.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": _env.get("MAIL_PASSWORD", ""),
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS", False),
        "MAIL_DEFAULT_SENDER": _env.get("MAIL_DEFAULT_SENDER", "MHFA Reach <no-reply@mhfa-reach.local>"),
        "MAIL_TIMEOUT": int(_env.get("MAIL_TIMEOUT", "30")),
        # Deliver a transaction's emails right after it commits, inside the request (development and
        # tests). Production leaves it off and runs `flask mhfa deliver-mail --loop` (or cron).
        "MHFA_DELIVER_AFTER_COMMIT": _bool("MHFA_DELIVER_AFTER_COMMIT", False),
        # Seconds after which a sender's claim on a message is thought dead and the message retried.
        "MHFA_OUTBOX_CLAIM_TIMEOUT": int(_env.get("MHFA_OUTBOX_CLAIM_TIMEOUT", "900")),
        "MHFA_BASE_URL": _env.get("MHFA_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        "MHFA_TARGET_PEOPLE": int(_env.get("MHFA_TARGET_PEOPLE", "500000")),
        "MHFA_TARGET_START": programme_date("MHFA_TARGET_START", "2017-01-31"),
        "MHFA_TARGET_END": programme_date("MHFA_TARGET_END", "2027-01-31"),
        "MHFA_TIMEZONE": _env.get("MHFA_TIMEZONE", "Europe/London"),
        "RATELIMIT_ENABLED": _bool("RATELIMIT_ENABLED", True),
        # Shared by every worker: the app's database by default, or Redis (RATELIMIT_STORAGE_URI or REDIS_URL).
        # memory:// (one process's own counts) is refused when several processes serve the app.
        "RATELIMIT_STORAGE_URI": _env.get("RATELIMIT_STORAGE_URI") or _env.get("REDIS_URL") or "database://",
        "RATELIMIT_STORAGE_OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        "RATELIMIT_HEADERS_ENABLED": True,
        "MHFA_AUTH_RATE_LIMIT": _env.get("MHFA_AUTH_RATE_LIMIT", "10 per minute; 50 per hour"),
        # Sign-in (OWASP, mhfa.auth.throttle): failed attempts per account and address, strictly; per account from
        # every address, more loosely (past it only addresses that have not failed recently may try, so the owner
        # is never locked out); the owner is emailed about them at most this often. All attempts per address,
        # loosely, so a training room behind one address can still sign in together.
        "MHFA_LOGIN_ACCOUNT_RATE_LIMIT": _env.get("MHFA_LOGIN_ACCOUNT_RATE_LIMIT", "5 per minute; 20 per hour"),
        "MHFA_LOGIN_ACCOUNT_TOTAL_RATE_LIMIT": _env.get("MHFA_LOGIN_ACCOUNT_TOTAL_RATE_LIMIT", "50 per hour"),
        "MHFA_LOGIN_ALERT_RATE_LIMIT": _env.get("MHFA_LOGIN_ALERT_RATE_LIMIT", "1 per day"),
        "MHFA_LOGIN_IP_RATE_LIMIT": _env.get("MHFA_LOGIN_IP_RATE_LIMIT", "100 per minute; 1000 per hour"),
        # Largest body any request may send (bytes): a little above the largest upload (the 64 MB completions
        # import); routes that take no upload read at most MHFA_FORM_MAX_BODY. Larger is a 413.
        "MAX_CONTENT_LENGTH": int(_env.get("MHFA_MAX_UPLOAD_BYTES", str(65 * 1024 * 1024))),
        "MHFA_FORM_MAX_BODY": int(_env.get("MHFA_FORM_MAX_BODY", str(256 * 1024))),
        # Largest JSON body the API reads (bytes); larger is a 413.
        "MHFA_API_MAX_BODY": int(_env.get("MHFA_API_MAX_BODY", str(64 * 1024))),
        # Sessions end after this many idle minutes, and this many hours in all, by role (the strictest of a
        # user's roles): staff (coordinator, admin, instructor, board), employer contacts, trainees.
        "MHFA_STAFF_IDLE_MINUTES": int(_env.get("MHFA_STAFF_IDLE_MINUTES", "30")),
        "MHFA_STAFF_MAX_HOURS": int(_env.get("MHFA_STAFF_MAX_HOURS", "12")),
        "MHFA_EMPLOYER_IDLE_MINUTES": int(_env.get("MHFA_EMPLOYER_IDLE_MINUTES", "60")),
        "MHFA_EMPLOYER_MAX_HOURS": int(_env.get("MHFA_EMPLOYER_MAX_HOURS", "12")),
        "MHFA_TRAINEE_IDLE_MINUTES": int(_env.get("MHFA_TRAINEE_IDLE_MINUTES", str(2 * 24 * 60))),
        "MHFA_TRAINEE_MAX_HOURS": int(_env.get("MHFA_TRAINEE_MAX_HOURS", str(30 * 24))),
        # PostgreSQL timeouts for the web app (batch commands lift the statement and idle ones).
        "MHFA_DB_CONNECT_TIMEOUT_S": int(_env.get("MHFA_DB_CONNECT_TIMEOUT_S", "5")),
        "MHFA_DB_STATEMENT_TIMEOUT_MS": int(_env.get("MHFA_DB_STATEMENT_TIMEOUT_MS", "30000")),
        "MHFA_DB_LOCK_TIMEOUT_MS": int(_env.get("MHFA_DB_LOCK_TIMEOUT_MS", "10000")),
        "MHFA_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS": int(
            _env.get("MHFA_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS", "60000")),
        # Retention (flask mhfa apply-retention): unclaimed personal data erased this many years after
        # the last activity; delivered emails and ended sessions deleted after these many days.
        "MHFA_RETENTION_YEARS": int(_env.get("MHFA_RETENTION_YEARS", "6")),
        "MHFA_OUTBOX_RETENTION_DAYS": int(_env.get("MHFA_OUTBOX_RETENTION_DAYS", "30")),
        "MHFA_SESSION_RETENTION_DAYS": int(_env.get("MHFA_SESSION_RETENTION_DAYS", "90")),
        "MHFA_TRUSTED_PROXIES": int(_env.get("MHFA_TRUSTED_PROXIES", "0")),
        # Whom trainees contact when they can no longer cancel online, and who signs the emails.
        "MHFA_CONTACT_EMAIL": _env.get("MHFA_CONTACT_EMAIL", "mhfa-training@mhfa-reach.local"),
        # Days before a certificate expires that its holder is reminded (about three months).
        "MHFA_EXPIRY_REMINDER_DAYS": int(_env.get("MHFA_EXPIRY_REMINDER_DAYS", "90")),
        # Certificates: checks by number and surname per address, the issuer's name, the Ed25519 signing key
        # (empty: generated once into instance/signing-key).
        "MHFA_VERIFY_RATE_LIMIT": _env.get("MHFA_VERIFY_RATE_LIMIT", "20 per minute; 200 per hour"),
        "MHFA_PROGRAMME_NAME": _env.get("MHFA_PROGRAMME_NAME",
                                              "Thrive West Midlands Mental Health First Aid programme"),
        "MHFA_SIGNING_KEY": _env.get("MHFA_SIGNING_KEY", ""),
        # Employers' group places and their VAT invoices (see docs/employer.md).
        "MHFA_PLACE_PRICES": place_prices(_env.get("MHFA_PLACE_PRICES", "")),
        "MHFA_VAT_RATE_BP": int(_env.get("MHFA_VAT_RATE_BP", "2000")),
        "MHFA_INVOICE_DUE_DAYS": int(_env.get("MHFA_INVOICE_DUE_DAYS", "30")),
        "MHFA_SUPPLIER_NAME": _env.get("MHFA_SUPPLIER_NAME", "West Midlands Combined Authority (MHFA Reach)"),
        "MHFA_SUPPLIER_ADDRESS": _env.get("MHFA_SUPPLIER_ADDRESS",
                                                "16 Summer Lane\nBirmingham\nB19 3SD").replace("\\n", "\n"),
        "MHFA_VAT_NUMBER": _env.get("MHFA_VAT_NUMBER", "GB 000 0000 00"),
        # Days an emailed invitation to be an employer contact can be used (counted from when it was sent).
        "MHFA_INVITATION_DAYS": int(_env.get("MHFA_INVITATION_DAYS", "14")),
    }


#: The price of one employer place (pence, before VAT) by course type code, unless a course sets its own.
DEFAULT_PLACE_PRICES = {"ADULT_2DAY": 30000, "ADULT_CHAMPION": 18000, "AWARE": 9500, "YOUTH_2DAY": 30000,
                        "YOUTH_CHAMPION": 18000, "REFRESHER": 11000}


def place_prices(raw: str) -> dict[str, int]:
    """``MHFA_PLACE_PRICES="AWARE=95.00,REFRESHER=110"`` over the defaults; pounds, before VAT."""
    prices = dict(DEFAULT_PLACE_PRICES)
    for item in filter(None, (part.strip() for part in raw.split(","))):
        code, _, pounds = item.partition("=")
        prices[code.strip().upper()] = round(float(pounds) * 100)
    return prices
