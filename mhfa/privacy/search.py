"""The coordinators' searches: people by name, email or record number, and the audit log by action, record,
actor and dates (newest first)."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa

from mhfa.audit.models import AuditEvent
from mhfa.extensions import db
from mhfa.people.models import Person


def find_people(query: str, limit: int = 50) -> list[Person]:
    text = query.strip()
    if not text:
        return []
    if text.isascii() and text.isdigit() and len(text) < 10:
        return [p for p in [db.session.get(Person, int(text))] if p is not None]
    pattern = "%" + text.lower().replace("\\", "").replace("%", "").replace("_", "") + "%"
    full_name = sa.func.lower(Person.first_name + " " + Person.last_name)
    return list(db.session.scalars(sa.select(Person).where(
        sa.or_(full_name.like(pattern), sa.func.lower(Person.email).like(pattern))
    ).order_by(Person.last_name, Person.first_name, Person.id).limit(limit)))


def audit_query(*, action: str = "", entity_type: str = "", entity_id: int | None = None,
                actor_id: int | None = None, since: date | None = None, until: date | None = None) -> sa.Select:
    """Audit events matching the filters, newest first (for pagination)."""
    query = sa.select(AuditEvent)
    if action:
        query = query.where(AuditEvent.action.like(action.replace("%", "") + "%"))
    if entity_type:
        query = query.where(AuditEvent.entity_type == entity_type)
    if entity_id is not None:
        query = query.where(AuditEvent.entity_id == entity_id)
    if actor_id is not None:
        query = query.where(AuditEvent.actor_user_id == actor_id)
    if since is not None:
        query = query.where(AuditEvent.occurred_at >= datetime.combine(since, datetime.min.time()).astimezone())
    if until is not None:
        query = query.where(AuditEvent.occurred_at < datetime.combine(until + timedelta(days=1),
                                                                       datetime.min.time()).astimezone())
    return query.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
