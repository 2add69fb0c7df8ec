"""Accounts: signing in, creating users, roles and personal API tokens."""
from __future__ import annotations

import hashlib
import secrets
from datetime import date

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from mhfa.audit import services as audit
from mhfa.auth.models import Role, User
from mhfa.errors import DomainError
from mhfa.extensions import db
from mhfa.people.models import Person, PersonSource
from mhfa.timeutil import utcnow

_DUMMY_HASH = generate_password_hash("not a real password")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None


def user_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None (taking the same time either way)."""
    user = user_by_email(email)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    user.last_login_at = utcnow()
    return user


def create_user(
    email: str,
    roles: list[Role],
    *,
    first_name: str,
    last_name: str,
    password: str | None = None,
    date_of_birth: date | None = None,
    actor: User | None = None,
) -> tuple[User, str]:
    """A new account and its person (reusing a known person with that email).

    Returns the user and the password: the one given, or a new random one to pass on.
    """
    email = normalise_email(email)
    if user_by_email(email) is not None:
        raise DomainError(f"An account for {email} already exists.", field="email")
    person = db.session.scalar(sa.select(Person).where(Person.email == email))
    if person is None:
        person = Person(
            first_name=first_name, last_name=last_name, email=email,
            date_of_birth=date_of_birth, source=PersonSource.COORDINATOR,
        )
        db.session.add(person)
    elif date_of_birth and person.date_of_birth is None:
        person.date_of_birth = date_of_birth
    password = password or secrets.token_urlsafe(12)
    user = User(email=email, person=person, email_confirmed_at=utcnow())
    user.set_password(password)
    for role in roles:
        user.grant(role)
    db.session.add(user)
    db.session.flush()
    audit.record("user.created", user, actor, roles=sorted(r.value for r in roles))
    return user, password


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_api_token(user: User) -> str:
    """A new personal API token for ``user`` (replacing any old one); only its hash is kept."""
    token = "mhfa_" + secrets.token_urlsafe(32)
    user.api_token_hash = _token_digest(token)
    return token


def user_for_api_token(token: str) -> User | None:
    if not token:
        return None
    user = db.session.scalar(sa.select(User).where(User.api_token_hash == _token_digest(token)))
    return user if user is not None and user.active else None
