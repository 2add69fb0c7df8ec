"""Writing to the audit log, in the caller's transaction. Nothing in the app updates or deletes an entry."""
from __future__ import annotations

from typing import Any

from sqlalchemy import event as sa_event

from mhfa.audit.models import AuditEvent
from mhfa.extensions import db


def record(action: str, entity, actor=None, **details: Any) -> AuditEvent:
    """Add an audit event for ``entity`` (a model instance) done by ``actor`` (a user or None)."""
    entity = getattr(entity, "_get_current_object", lambda: entity)()  # current_user is a proxy
    event = AuditEvent(
        action=action,
        entity_type=type(entity).__tablename__,
        entity_id=entity.id,
        actor_user_id=getattr(actor, "id", None),
        details=details,
    )
    db.session.add(event)
    return event


def record_about(action: str, entity_type: str, entity_id: int | None, actor=None, **details: Any) -> AuditEvent:
    """An audit event about something that may have no row (e.g. a sign-in attempt for an unknown address)."""
    event = AuditEvent(action=action, entity_type=entity_type, entity_id=entity_id,
                       actor_user_id=getattr(actor, "id", None), details=details)
    db.session.add(event)
    return event


def _refuse_changes(mapper, connection, target):
    raise RuntimeError("audit entries cannot be changed or deleted")


sa_event.listen(AuditEvent, "before_update", _refuse_changes)
sa_event.listen(AuditEvent, "before_delete", _refuse_changes)
