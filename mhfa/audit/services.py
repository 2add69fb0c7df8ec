"""Writing to the audit log, in the caller's transaction."""
from __future__ import annotations

from typing import Any

from mhfa.audit.models import AuditEvent
from mhfa.extensions import db


def record(action: str, entity, actor=None, **details: Any) -> AuditEvent:
    """Add an audit event for ``entity`` (a model instance) done by ``actor`` (a user or None)."""
    event = AuditEvent(
        action=action,
        entity_type=type(entity).__tablename__,
        entity_id=entity.id,
        actor_user_id=getattr(actor, "id", None),
        details=details,
    )
    db.session.add(event)
    return event
