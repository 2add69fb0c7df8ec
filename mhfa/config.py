"""Settings read from the environment (12-factor), with safe defaults for development."""
from __future__ import annotations

import os
import secrets
from datetime import date
from pathlib import Path


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
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    key_file = Path(instance_path) / "secret_key"
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.touch(mode=0o600)
        key_file.write_text(secrets.token_hex(32))
    return key_file.read_text().strip()


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def from_environment(instance_path: str) -> dict:
    """Every setting the app reads, as a dict for ``app.config``."""
    return {
        "SQLALCHEMY_DATABASE_URI": database_url(os.environ.get("DATABASE_URL"), instance_path),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SECRET_KEY": secret_key(instance_path),
        # Werkzeug's password hash; production keeps scrypt, the test suite configures a cheap one.
        "MHFA_PASSWORD_HASH_METHOD": os.environ.get("MHFA_PASSWORD_HASH_METHOD", "scrypt"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", False),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "WTF_CSRF_TIME_LIMIT": None,
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD", ""),
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS", False),
        "MAIL_DEFAULT_SENDER": os.environ.get("MAIL_DEFAULT_SENDER", "MHFA Reach <no-reply@mhfa-reach.local>"),
        "MAIL_TIMEOUT": int(os.environ.get("MAIL_TIMEOUT", "30")),
        # Deliver a transaction's emails right after it commits, inside the request (development and
        # tests). Production leaves it off and runs `flask mhfa deliver-mail --loop` (or cron).
        "MHFA_DELIVER_AFTER_COMMIT": _bool("MHFA_DELIVER_AFTER_COMMIT", False),
        # Seconds after which a sender's claim on a message is thought dead and the message retried.
        "MHFA_OUTBOX_CLAIM_TIMEOUT": int(os.environ.get("MHFA_OUTBOX_CLAIM_TIMEOUT", "900")),
        "MHFA_BASE_URL": os.environ.get("MHFA_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        "MHFA_TARGET_PEOPLE": int(os.environ.get("MHFA_TARGET_PEOPLE", "500000")),
        "MHFA_TARGET_START": date.fromisoformat(os.environ.get("MHFA_TARGET_START", "2017-01-31")),
        "MHFA_TARGET_END": date.fromisoformat(os.environ.get("MHFA_TARGET_END", "2027-01-31")),
        "MHFA_TIMEZONE": os.environ.get("MHFA_TIMEZONE", "Europe/London"),
        "RATELIMIT_ENABLED": _bool("RATELIMIT_ENABLED", True),
        # Shared by every worker when Redis is configured (REDIS_URL or RATELIMIT_STORAGE_URI).
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI") or os.environ.get("REDIS_URL") or "memory://",
        "RATELIMIT_STORAGE_OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        "RATELIMIT_HEADERS_ENABLED": True,
        "MHFA_AUTH_RATE_LIMIT": os.environ.get("MHFA_AUTH_RATE_LIMIT", "10 per minute; 50 per hour"),
        # Sign-in (OWASP): failed attempts per account, strictly; all attempts per address, loosely, so a
        # training room behind one address can still sign in together.
        "MHFA_LOGIN_ACCOUNT_RATE_LIMIT": os.environ.get("MHFA_LOGIN_ACCOUNT_RATE_LIMIT", "5 per minute; 20 per hour"),
        "MHFA_LOGIN_IP_RATE_LIMIT": os.environ.get("MHFA_LOGIN_IP_RATE_LIMIT", "100 per minute; 1000 per hour"),
        # Largest JSON body the API reads (bytes); larger is a 413.
        "MHFA_API_MAX_BODY": int(os.environ.get("MHFA_API_MAX_BODY", str(64 * 1024))),
        # Staff sessions (coordinator, admin, instructor, board) end after this many idle minutes.
        "MHFA_STAFF_IDLE_MINUTES": int(os.environ.get("MHFA_STAFF_IDLE_MINUTES", "30")),
        # PostgreSQL timeouts for the web app (batch commands lift the statement and idle ones).
        "MHFA_DB_CONNECT_TIMEOUT_S": int(os.environ.get("MHFA_DB_CONNECT_TIMEOUT_S", "5")),
        "MHFA_DB_STATEMENT_TIMEOUT_MS": int(os.environ.get("MHFA_DB_STATEMENT_TIMEOUT_MS", "30000")),
        "MHFA_DB_LOCK_TIMEOUT_MS": int(os.environ.get("MHFA_DB_LOCK_TIMEOUT_MS", "10000")),
        "MHFA_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS": int(
            os.environ.get("MHFA_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS", "60000")),
        # Retention (flask mhfa apply-retention): unclaimed personal data erased this many years after
        # the last activity; delivered emails and ended sessions deleted after these many days.
        "MHFA_RETENTION_YEARS": int(os.environ.get("MHFA_RETENTION_YEARS", "6")),
        "MHFA_OUTBOX_RETENTION_DAYS": int(os.environ.get("MHFA_OUTBOX_RETENTION_DAYS", "30")),
        "MHFA_SESSION_RETENTION_DAYS": int(os.environ.get("MHFA_SESSION_RETENTION_DAYS", "90")),
        "MHFA_TRUSTED_PROXIES": int(os.environ.get("MHFA_TRUSTED_PROXIES", "0")),
        # Whom trainees contact when they can no longer cancel online, and who signs the emails.
        "MHFA_CONTACT_EMAIL": os.environ.get("MHFA_CONTACT_EMAIL", "mhfa-training@mhfa-reach.local"),
        # Days before a certificate expires that its holder is reminded (about three months).
        "MHFA_EXPIRY_REMINDER_DAYS": int(os.environ.get("MHFA_EXPIRY_REMINDER_DAYS", "90")),
        # Certificates: checks by number and surname per address, the issuer's name, the Ed25519 signing key
        # (empty: generated once into instance/signing-key).
        "MHFA_VERIFY_RATE_LIMIT": os.environ.get("MHFA_VERIFY_RATE_LIMIT", "20 per minute; 200 per hour"),
        "MHFA_PROGRAMME_NAME": os.environ.get("MHFA_PROGRAMME_NAME",
                                              "Thrive West Midlands Mental Health First Aid programme"),
        "MHFA_SIGNING_KEY": os.environ.get("MHFA_SIGNING_KEY", ""),
        # Employers' group places and their VAT invoices (see docs/employer.md).
        "MHFA_PLACE_PRICES": place_prices(os.environ.get("MHFA_PLACE_PRICES", "")),
        "MHFA_VAT_RATE_BP": int(os.environ.get("MHFA_VAT_RATE_BP", "2000")),
        "MHFA_INVOICE_DUE_DAYS": int(os.environ.get("MHFA_INVOICE_DUE_DAYS", "30")),
        "MHFA_SUPPLIER_NAME": os.environ.get("MHFA_SUPPLIER_NAME", "West Midlands Combined Authority (MHFA Reach)"),
        "MHFA_SUPPLIER_ADDRESS": os.environ.get("MHFA_SUPPLIER_ADDRESS",
                                                "16 Summer Lane\nBirmingham\nB19 3SD").replace("\\n", "\n"),
        "MHFA_VAT_NUMBER": os.environ.get("MHFA_VAT_NUMBER", "GB 000 0000 00"),
        # Days an emailed invitation to be an employer contact can be used (counted from when it was sent).
        "MHFA_INVITATION_DAYS": int(os.environ.get("MHFA_INVITATION_DAYS", "14")),
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
