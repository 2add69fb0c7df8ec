"""Extension objects, created once and bound to the app in ``create_app``."""
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
# Counts live in RATELIMIT_STORAGE_URI (Redis when configured, shared by every worker); if that storage
# cannot be reached, limits carry on in this process's memory and no request fails because of it.
limiter = Limiter(key_func=get_remote_address, in_memory_fallback_enabled=True, swallow_errors=True)


def auth_rate_limit() -> str:
    """How often one address may try to sign in, register or ask for a link (``MHFA_AUTH_RATE_LIMIT``)."""
    from flask import current_app

    return current_app.config["MHFA_AUTH_RATE_LIMIT"]


def rate_limit_storage_state() -> str:
    """For /healthz: "memory", "redis", or "memory (redis unreachable)" while falling back."""
    from flask import current_app

    uri = current_app.config.get("RATELIMIT_STORAGE_URI") or "memory://"
    kind = uri.split(":", 1)[0]
    if kind == "memory" or not limiter.enabled:
        return "memory" if limiter.enabled else "off"
    try:
        healthy = limiter.storage.check()
    except Exception:  # noqa: BLE001 (any failure of the storage means "unreachable")
        healthy = False
    return kind if healthy else f"memory ({kind} unreachable)"
