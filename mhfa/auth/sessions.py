"""Server-side sessions: sign-out ends a session everywhere its cookie was copied.

The Flask session cookie holds a random session token beside Flask-Login's user id; the signed-in
user is loaded only while the matching :class:`~mhfa.auth.models.UserSession` row is live.

Every session ends after an idle limit and an absolute limit, set per role (the strictest of the
user's roles applies): staff (coordinator, admin, instructor, board) ``MHFA_STAFF_IDLE_MINUTES`` (30)
and ``MHFA_STAFF_MAX_HOURS`` (12); employer contacts ``MHFA_EMPLOYER_IDLE_MINUTES`` (60) and
``MHFA_EMPLOYER_MAX_HOURS`` (12); trainees ``MHFA_TRAINEE_IDLE_MINUTES`` (2 days) and
``MHFA_TRAINEE_MAX_HOURS`` (30 days).
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, g, session

from mhfa.auth.models import Role, User, UserSession
from mhfa.auth.services import load_user
from mhfa.extensions import db
from mhfa.timeutil import utcnow

SESSION_KEY = "mhfa_sid"
STAFF_ROLES = (Role.COORDINATOR, Role.ADMIN, Role.INSTRUCTOR, Role.BOARD)
#: Which settings limit a role's sessions (idle minutes, absolute hours).
_LIMIT_SETTINGS = {
    **{role: ("MHFA_STAFF_IDLE_MINUTES", "MHFA_STAFF_MAX_HOURS") for role in STAFF_ROLES},
    Role.EMPLOYER: ("MHFA_EMPLOYER_IDLE_MINUTES", "MHFA_EMPLOYER_MAX_HOURS"),
    Role.TRAINEE: ("MHFA_TRAINEE_IDLE_MINUTES", "MHFA_TRAINEE_MAX_HOURS"),
}
_TOUCH_EVERY = timedelta(seconds=60)  # last_seen_at is written at most once a minute per session


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(user: User, user_agent: str | None = None) -> str:
    """A new live session for ``user`` (in the caller's transaction); returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(user_id=user.id, token_hash=_digest(token), user_agent=(user_agent or "")[:200]))
    return token


def sign_in(user: User, user_agent: str | None = None) -> None:
    """Start a server-side session and put its token in this browser's cookie (call with login_user)."""
    session[SESSION_KEY] = start(user, user_agent)


def end_current(reason: str = "signed out") -> None:
    """End this browser's session (every copy of its cookie stops working)."""
    token = session.pop(SESSION_KEY, None)
    if token:
        db.session.execute(sa.update(UserSession).where(
            UserSession.token_hash == _digest(token), UserSession.ended_at.is_(None),
        ).values(ended_at=utcnow(), ended_reason=reason))


def end_all(user: User, reason: str, *, keep_current: bool = False) -> int:
    """End every live session of ``user`` (optionally all but this browser's); returns how many."""
    query = sa.update(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    current = session.get(SESSION_KEY) if keep_current else None
    if current:
        query = query.where(UserSession.token_hash != _digest(current))
    return db.session.execute(query.values(ended_at=utcnow(), ended_reason=reason)).rowcount


def live_sessions(user: User) -> list[UserSession]:
    return list(db.session.scalars(sa.select(UserSession).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None)).order_by(UserSession.last_seen_at.desc())))


def session_limits(user: User) -> tuple[timedelta, timedelta]:
    """How long ``user``'s sessions may sit idle, and last at all: the strictest of their roles' limits
    (an account with no role yet is held to a trainee's)."""
    config = current_app.config
    settings = ([_LIMIT_SETTINGS[role] for role in user.roles if role in _LIMIT_SETTINGS]
                or [_LIMIT_SETTINGS[Role.TRAINEE]])
    return (min(timedelta(minutes=config[idle]) for idle, _ in settings),
            min(timedelta(hours=config[longest]) for _, longest in settings))


def load_signed_in_user(user_id: str) -> User | None:
    """Flask-Login's loader: the user, while the account, its password and this session are all live."""

    user = load_user(user_id)
    token = session.get(SESSION_KEY)
    if user is None or not token:
        return None
    row = db.session.scalar(sa.select(UserSession).where(UserSession.token_hash == _digest(token)))
    if row is None or row.ended_at is not None or row.user_id != user.id:
        return None
    now = utcnow()
    idle, longest = session_limits(user)
    ended = ("idle timeout" if now - row.last_seen_at > idle
             else "time limit" if now - row.created_at > longest else None)
    if ended:
        g.mhfa_session_write = sa.update(UserSession).where(UserSession.id == row.id).values(
            ended_at=now, ended_reason=ended)
        return None
    if now - row.last_seen_at > _TOUCH_EVERY:
        g.mhfa_session_write = sa.update(UserSession).where(UserSession.id == row.id).values(last_seen_at=now)
    return user


def _write_after_request(response):
    """The loader's small write (last seen, idle end), on a connection of its own once the view is done,
    so it never commits the request's work nor waits on the request's own lock."""
    statement = g.pop("mhfa_session_write", None)
    if statement is not None:
        try:
            with db.engine.begin() as connection:
                connection.execute(statement)
        except sa.exc.SQLAlchemyError:  # a missed "last seen" must never fail the page
            pass
    return response


def register(app) -> None:
    app.after_request(_write_after_request)
