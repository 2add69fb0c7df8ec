"""Who may use each route. Every view declares it with exactly one of these decorators."""
from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import abort
from flask_login import current_user

from mhfa.auth.models import Role
from mhfa.extensions import login_manager

ACCESS_ATTRIBUTE = "access"


def _declare(view, access):
    setattr(view, ACCESS_ATTRIBUTE, access)
    return view


def public(view):
    """Anyone, signed in or not."""
    return _declare(view, "public")


def login_required(view):
    """Any signed-in user, whatever their roles."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return view(*args, **kwargs)

    return _declare(wrapped, "login")


def role_required(*roles: Role):
    """Signed-in users holding at least one of ``roles``; others get 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return _declare(wrapped, frozenset(roles))

    return decorator


def token_or_public(view):
    """Public routes whose object is reached by an unguessable token in the URL."""
    return _declare(view, "token")


def undeclared_endpoints(app) -> list[str]:
    """Endpoints whose view does not say who may use it (the app refuses to start with any)."""
    missing = []
    for endpoint, view in app.view_functions.items():
        if endpoint == "static" or endpoint.endswith(".static"):
            continue
        if not hasattr(view, ACCESS_ATTRIBUTE):
            missing.append(endpoint)
    return sorted(missing)


def is_safe_redirect(target: str | None) -> bool:
    """Only a path on this site may be used as a ``next`` redirect.

    Browsers and URL parsers drop tabs and newlines and read ``\\`` as ``/``, so any of those, or
    anything that parses with a scheme or a host, is refused rather than cleaned.
    """
    if not target or any(ch.isspace() or ord(ch) < 32 or ch == "\\" for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//")
