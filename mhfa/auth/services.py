"""Accounts: signing in, creating users, roles and personal API tokens."""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import date
from functools import cache
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from mhfa import dates, names
from mhfa.audit import services as audit
from mhfa.auth import emails
from mhfa.auth.models import Role, User
from mhfa.errors import DomainError
from mhfa.extensions import db
from mhfa.people.models import Person, PersonSource
from mhfa.people.services import claim_person, normalise_email, person_with_email
from mhfa.timeutil import utcnow

_DUMMY_HASHES: dict[str, str] = {}


def _equal_work(password: str) -> None:
    """Check a password against a dummy hash of the configured method, so refusals take as long."""
    method = current_app.config["MHFA_PASSWORD_HASH_METHOD"]
    if method not in _DUMMY_HASHES:
        _DUMMY_HASHES[method] = generate_password_hash("not a real password", method=method)
    check_password_hash(_DUMMY_HASHES[method], password)


def check_email_address(email: str) -> str:
    """The normalised address if it is one the web forms accept (WTForms' Email rule), else DomainError."""
    from email_validator import EmailNotValidError, validate_email

    address = normalise_email(email)
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError as error:
        raise DomainError("Enter an email address in the right format, like name@example.com",
                          field="email") from error
    if len(address) > 254:
        raise DomainError("Email address must be 254 characters or fewer", field="email")
    return address


def load_user(session_id: str) -> User | None:
    """The signed-in user, while the account is active and its password unchanged since signing in."""
    user_id, _, fingerprint = session_id.partition(":")
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or not hmac.compare_digest(fingerprint, user.password_fingerprint()):
        return None
    return user


def user_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None (taking the same time either way)."""
    user = user_by_email(email)
    if user is None:
        _equal_work(password)
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
    if date_of_birth is not None:
        dates.BIRTH.check(date_of_birth, "Date of birth", field="date_of_birth")
    first_name = names.check(first_name, "First name", field="first_name")
    last_name = names.check(last_name, "Last name", field="last_name") if (last_name or "").strip() else ""
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


def revoke_api_token(user: User, actor: User | None = None) -> None:
    user.api_token_hash = None
    if user.id is not None:
        audit.record("user.api_token_revoked", user, actor)


def issue_api_token(user: User, actor: User | None = None) -> str:
    """A new personal API token for ``user`` (replacing any old one); only its hash is kept."""
    token = "mhfa_" + secrets.token_urlsafe(32)
    replaced = user.api_token_hash is not None
    user.api_token_hash = _token_digest(token)
    if user.id is not None:
        audit.record("user.api_token_issued", user, actor, replaced=replaced)
    return token


def record_sign_in(typed_email: str, user: User | None, address: str | None) -> None:
    """Audit a sign-in: who (or, for an unknown address, a fingerprint of what was typed), from where."""
    if user is not None:
        audit.record("auth.signed_in", user, user, ip=address)
        return
    known = user_by_email(typed_email)
    if known is not None:
        audit.record("auth.sign_in_failed", known, None, ip=address, reason="wrong password or inactive")
    else:
        fingerprint = hashlib.sha256(normalise_email(typed_email).encode()).hexdigest()[:16]
        audit.record_about("auth.sign_in_failed", "user_account", None, None, ip=address,
                           reason="no such account", email_fingerprint=fingerprint)


def user_for_api_token(token: str) -> User | None:
    if not token:
        return None
    user = db.session.scalars(_user_by_token_hash(), {"token_hash": _token_digest(token)}).unique().one_or_none()
    return user if user is not None and user.active else None


@cache
def _user_by_token_hash() -> sa.Select:
    """The user holding a token (its digest the ``token_hash`` parameter), with their roles in the same query.
    Made once, as every API request asks it: a statement kept is neither built nor given its cache key again."""
    return (sa.select(User).where(User.api_token_hash == sa.bindparam("token_hash", type_=sa.String))
            .options(joinedload(User.role_rows)))


# --- password policy --------------------------------------------------------------------------

PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 256
COMMON_PASSWORDS = Path(__file__).parent / "data" / "common_passwords.txt"


@cache
def _common_passwords() -> frozenset[str]:
    with COMMON_PASSWORDS.open(encoding="utf-8") as handle:
        return frozenset(line.strip() for line in handle if line.strip())


def password_problem(password: str, email: str | None = None) -> str | None:
    """Why ``password`` is refused (short, too long, common, or the email address), or None if it will do."""
    if len(password) < PASSWORD_MIN_LENGTH:
        return f"Password must be {PASSWORD_MIN_LENGTH} characters or more"
    if len(password) > PASSWORD_MAX_LENGTH:
        return f"Password must be {PASSWORD_MAX_LENGTH} characters or fewer"
    lowered = password.strip().lower()
    common = _common_passwords()
    stem = re.sub(r"[\d\W_]+$", "", lowered)
    if lowered in common or stem in common or len(set(lowered)) <= 2:
        return "That password is too common and easy to guess: choose a different one, such as three random words"
    if email and lowered in {email.lower(), email.lower().split("@")[0]}:
        return "Your password must not be your email address"
    return None


def check_password_policy(password: str, email: str | None = None) -> None:
    problem = password_problem(password, email)
    if problem:
        raise DomainError(problem, field="password")


# --- registration and email confirmation ------------------------------------------------------

CONFIRM_SALT = "mhfa-confirm-email"
RESET_SALT = "mhfa-reset-password"
CONFIRM_MAX_AGE = 3 * 24 * 3600  # seconds: the confirmation link works for 3 days
RESET_MAX_AGE = 3600  # the password-reset link works for 1 hour


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _load(token: str, salt: str, max_age: int) -> dict:
    try:
        data = _serializer(salt).loads(token, max_age=max_age)
    except SignatureExpired as error:
        raise DomainError("This link has expired.", field="token") from error
    except BadSignature as error:
        raise DomainError("This link is not valid. Check you copied the whole link from the email.",
                          field="token") from error
    if not isinstance(data, dict):
        raise DomainError("This link is not valid. Check you copied the whole link from the email.", field="token")
    return data


def email_confirmation_token(user: User) -> str:
    """A signed link token proving that whoever holds it can read ``user.email`` (no other personal data)."""
    return _serializer(CONFIRM_SALT).dumps({"u": user.id, "e": user.email})


def register(email: str, password: str, *, first_name: str, last_name: str) -> User | None:
    """Start an account: the person confirms their email before it is theirs to use for booking.

    Never tells the caller whether the address was already registered: an existing account holder
    gets an email instead (with a password-reset link), and None is returned. A person already known
    from an import or an employer (same email, no account) is linked only once the email is confirmed.
    """
    email = normalise_email(email)
    first_name = names.check(first_name, "First name", field="first_name")
    last_name = names.check(last_name, "Last name", field="last_name")
    check_password_policy(password, email)
    existing = user_by_email(email)
    if existing is not None:
        _equal_work(password)
        if existing.active:
            emails.already_registered(existing, password_reset_token(existing))
        return None
    known = person_with_email(email)
    user = User(email=email)
    user.set_password(password)
    user.grant(Role.TRAINEE)
    if known is None:
        user.person = Person(first_name=first_name, last_name=last_name, email=email,
                             source=PersonSource.REGISTRATION)
    db.session.add(user)
    db.session.flush()
    emails.confirm_email(user, email_confirmation_token(user))
    return user


def send_confirmation_again(email: str) -> None:
    """Send a new confirmation link to an unconfirmed account; silent for any other address."""
    user = user_by_email(email)
    if user is not None and user.active and user.email_confirmed_at is None:
        emails.confirm_email(user, email_confirmation_token(user))


def _finish_confirmation(user: User) -> None:
    """Mark the address confirmed and, if the account has no person yet, claim or create one."""
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
    if user.person is None:
        claim_person(user)


def confirm_email(token: str) -> User:
    """The account whose address the link confirms (idempotent: a used link still answers)."""
    data = _load(token, CONFIRM_SALT, CONFIRM_MAX_AGE)
    user = db.session.get(User, data.get("u")) if isinstance(data.get("u"), int) else None
    if user is None or user.email != data.get("e") or not user.active:
        raise DomainError("This link is not valid. Check you copied the whole link from the email.", field="token")
    _finish_confirmation(user)
    db.session.flush()
    return user


# --- password reset and change -----------------------------------------------------------------

def _password_fingerprint(user: User) -> str:
    """Changes whenever the password does, so a reset link works once."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:20]


def password_reset_token(user: User) -> str:
    return _serializer(RESET_SALT).dumps({"u": user.id, "p": _password_fingerprint(user)})


def request_password_reset(email: str) -> None:
    """Email a reset link if an active account has this address; otherwise do nothing (and say nothing)."""
    user = user_by_email(email)
    if user is not None and user.active:
        emails.reset_password(user, password_reset_token(user))


def user_for_reset_token(token: str) -> User:
    data = _load(token, RESET_SALT, RESET_MAX_AGE)
    user = db.session.get(User, data.get("u")) if isinstance(data.get("u"), int) else None
    if user is None or not user.active or data.get("p") != _password_fingerprint(user):
        raise DomainError("This link has already been used or is no longer valid.", field="token")
    return user


def reset_password(token: str, new_password: str) -> User:
    """Set a new password from a reset link. Reading the email also confirms the address; the personal API
    token is revoked (every session ends with the old password)."""
    user = user_for_reset_token(token)
    check_password_policy(new_password, user.email)
    user.set_password(new_password)
    _finish_confirmation(user)
    token_revoked = user.api_token_hash is not None
    if token_revoked:  # whoever reset the password may not be whoever made the token: it goes too
        revoke_api_token(user, user)
    db.session.flush()
    audit.record("user.password_reset", user, user, api_token_revoked=token_revoked)
    emails.password_changed(user, api_token_revoked=token_revoked)
    return user


# --- invitations: an account an administrator made, whose owner sets the password ---------------------

INVITATION_SALT = "mhfa-account-invitation"


def invitation_days() -> int:
    """How long an invitation link works: ``MHFA_INVITATION_DAYS``, as for an organisation's contacts."""
    return current_app.config["MHFA_INVITATION_DAYS"]


def invite(user: User, by: User | None) -> str:
    """Email ``user`` a link to set their password (it works once, for ``invitation_days()``); returns the token."""
    if not user.active:
        raise DomainError("This account is inactive: make it active before inviting its owner", field="active")
    token = _serializer(INVITATION_SALT).dumps({"u": user.id, "p": _password_fingerprint(user)})
    emails.account_invitation(user, token, by, days=invitation_days())
    audit.record("user.invited", user, by, days=invitation_days())
    return token


def user_for_invitation(token: str) -> User:
    """The account an invitation link is for (reads only); refused with a reason its reader can act on."""
    try:
        data = _load(token, INVITATION_SALT, invitation_days() * 24 * 3600)
    except DomainError as error:
        if error.message == "This link has expired.":
            raise DomainError(f"This invitation has expired: invitations work for {invitation_days()} days. Ask "
                              "the administrator who invited you to send a new one.", field="token") from error
        raise
    user = db.session.get(User, data.get("u")) if isinstance(data.get("u"), int) else None
    if user is None or not user.active or data.get("p") != _password_fingerprint(user):
        raise DomainError("This invitation has already been used, or a newer one was sent. Sign in, or use "
                          "\u201cForgotten your password?\u201d on the sign-in page.", field="token")
    return user


def accept_invitation(token: str, new_password: str) -> User:
    """Set the password from an invitation link; reading the email confirms the address."""
    user = user_for_invitation(token)
    check_password_policy(new_password, user.email)
    user.set_password(new_password)
    _finish_confirmation(user)
    db.session.flush()
    audit.record("user.invitation_accepted", user, user)
    return user


def change_password(user: User, current_password: str, new_password: str) -> None:
    if not user.check_password(current_password):
        raise DomainError("Your current password is not right", field="current_password")
    check_password_policy(new_password, user.email)
    user.set_password(new_password)
    audit.record("user.password_changed", user, user)
    emails.password_changed(user)
