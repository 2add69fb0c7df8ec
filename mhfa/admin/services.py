"""User administration: finding accounts and changing their roles, with an audit trail."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager

from mhfa.audit import services as audit
from mhfa.auth.models import Role, User, UserRole
from mhfa.auth.sessions import end_all
from mhfa.errors import DomainError
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
