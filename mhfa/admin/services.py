"""User administration: finding accounts and changing their roles, with an audit trail."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager

from mhfa.audit import services as audit
from mhfa.auth import services as auth
from mhfa.auth.models import Role, User, UserRole
from mhfa.auth.services import check_password_policy
from mhfa.auth.sessions import end_all
from mhfa.courses import instructors
from mhfa.db_types import MAX_ID
from mhfa.employers import organisations
from mhfa.employers.models import Employer, EmployerStatus
from mhfa.errors import DomainError
from mhfa.extensions import db
from mhfa.pagination import Page, paginate
from mhfa.people.models import Person

PAGE_SIZE = 50


def search_users(text: str = "", role: Role | None = None, page: int = 1) -> Page:
    """Accounts matching ``text`` (email or name) and holding ``role``, a page at a time."""
    query = (
        sa.select(User)
        .outerjoin(Person, Person.id == User.person_id)
        .options(contains_eager(User.person))
        .order_by(User.email)
    )
    if text.strip():
        like = f"%{text.strip().lower()}%"
        query = query.where(sa.or_(
            sa.func.lower(User.email).like(like),
            sa.func.lower(Person.first_name + " " + Person.last_name).like(like),
        ))
    if role is not None:
        query = query.where(sa.exists().where(UserRole.user_id == User.id, UserRole.role == role))
    return paginate(query, page, PAGE_SIZE)


def update_account(user: User, roles: set[Role], active: bool, actor: User) -> bool:
    """Give ``user`` exactly ``roles`` and the ``active`` flag; returns whether anything changed."""
    if user.id == actor.id and Role.ADMIN not in roles:
        raise DomainError("You cannot remove your own administrator role. Ask another administrator.", field="roles")
    if user.id == actor.id and not active:
        raise DomainError("You cannot deactivate your own account.", field="active")
    before = user.roles
    changed = before != roles or user.active != active
    if not changed:
        return False
    for role in before - roles:
        user.revoke(role)
    for role in roles - before:
        user.grant(role)
    audit.record(
        "user.roles_changed", user, actor,
        added=sorted(r.value for r in roles - before), removed=sorted(r.value for r in before - roles),
        active={"from": user.active, "to": active},
    )
    if user.active and not active:  # deactivating ends every session; reactivating never revives one

        end_all(user, "account deactivated")
    user.active = active
    return True


# --- making accounts, and the records their roles need ---------------------------------------------------

@dataclass
class RoleDetails:
    """What a role needs besides the role itself: an instructor's licence, an employer contact's organisation."""

    licence_number: str = ""
    licence_expires_on: date | None = None
    employer_id: int | None = None


@dataclass
class NewAccount:
    email: str
    first_name: str
    last_name: str
    roles: set[Role] = field(default_factory=set)
    invite: bool = True        # email a link to set the password; else ``password`` is set now
    password: str = ""


def approved_organisations() -> list[Employer]:
    return list(db.session.scalars(sa.select(Employer).where(Employer.status == EmployerStatus.APPROVED)
                                   .order_by(Employer.name)))


def records_missing(user: User | None, roles: set[Role]) -> set[Role]:
    """Which of ``roles`` still need their record for ``user`` (all of them for a new account)."""
    missing = set()
    if Role.INSTRUCTOR in roles and (user is None or instructors.instructor_for(user) is None):
        missing.add(Role.INSTRUCTOR)
    if Role.EMPLOYER in roles:
        row = organisations.contact_row(user) if user is not None else None
        if row is None or not row.employer.is_approved:
            missing.add(Role.EMPLOYER)
    return missing


def _check_details(missing: set[Role], details: RoleDetails) -> Employer | None:
    """Refuse, on the field at fault, a role given without the record it needs; every problem at once."""
    problems = []
    if Role.INSTRUCTOR in missing:
        if not (details.licence_number or "").strip():
            problems.append(("licence_number", "Enter the instructor's MHFA England licence number: the instructor "
                                               "role needs it"))
        if details.licence_expires_on is None:
            problems.append(("licence_expires_on", "Enter the date the instructor's licence runs to"))
    employer = None
    if Role.EMPLOYER in missing:
        employer = lookup_row(Employer, details.employer_id)
        if employer is None or employer.status is not EmployerStatus.APPROVED:
            problems.append(("employer", "Choose the organisation this employer contact speaks for"))
    if problems:
        error = DomainError(problems[0][1], field=problems[0][0])
        error.problems = problems
        raise error
    return employer


def _make_records(user: User, missing: set[Role], details: RoleDetails, employer: Employer | None,
                  actor: User) -> None:
    if Role.INSTRUCTOR in missing:
        person = user.person
        instructors.create_instructor(instructors.InstructorDetails(
            first_name=person.first_name if person else user.email, last_name=person.last_name if person else "",
            email=user.email, licence_number=details.licence_number,
            licence_expires_on=details.licence_expires_on), actor)
    if Role.EMPLOYER in missing and employer is not None:
        organisations.add_contact(employer, user.email, by=actor)


def create_account(account: NewAccount, details: RoleDetails, actor: User) -> User:
    """An administrator makes an account with its roles and the records they need, in one step: invited to
    set their own password (emailed a link), or given one now."""
    if not account.roles:
        raise DomainError("Choose at least one role", field="roles")
    if not account.invite:
        if not account.password:
            raise DomainError("Enter a password, or choose to send an invitation", field="password")
        check_password_policy(account.password, account.email)
    employer = _check_details(records_missing(None, account.roles), details)
    user, _ = auth.create_user(account.email, sorted(account.roles, key=lambda r: r.value),
                               first_name=account.first_name, last_name=account.last_name,
                               password=account.password or None, actor=actor)
    if account.invite:
        user.email_confirmed_at = None  # confirmed when they open the link and set their password
    _make_records(user, records_missing(user, account.roles), details, employer, actor)
    if account.invite:
        auth.invite(user, actor)
    return user


def update_account_and_records(user: User, roles: set[Role], active: bool, details: RoleDetails,
                               actor: User) -> bool:
    """:func:`update_account`, asking in the same step for the records newly given roles need."""
    missing = records_missing(user, roles)
    employer = _check_details(missing, details)
    changed = update_account(user, roles, active, actor)
    _make_records(user, missing, details, employer, actor)
    return changed or bool(missing)


def invite_again(user: User, actor: User) -> str:
    """Send a new invitation link (the old one stops working when the password is set)."""
    if user.last_login_at is not None:
        raise DomainError(f"{user.email} has signed in already: they can reset their own password", field="email")
    return auth.invite(user, actor)


def lookup_row(model, row_id):
    """The row with this id, or None (an id no row can have is None, not a database error)."""
    if not isinstance(row_id, int) or not 0 < row_id <= MAX_ID:
        return None
    return db.session.get(model, row_id)
