"""Writing to the audit log, in the caller's transaction. Nothing in the app updates or deletes an entry, but
erasure, which replaces a person's values by "erased" (``redact``)."""
from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
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


# --- erasure: the one change an entry may undergo ------------------------------------------------------

REDACTED = "erased"


def _redacted(value: Any, matches) -> Any:
    """``value`` with every string ``matches`` picks replaced by "erased" (structure, numbers and keys kept)."""
    if isinstance(value, dict):
        return {key: _redacted(item, matches) for key, item in value.items()}
    if isinstance(value, list):
        return [_redacted(item, matches) for item in value]
    if isinstance(value, str) and matches(value):
        return REDACTED
    return value


def _json_text_variants(needle: str) -> set[str]:
    """How ``needle`` can appear in stored JSON text: as typed, and with JSON's \\u escapes."""
    escaped = json.dumps(needle)[1:-1]
    return {needle.lower(), escaped.lower()}


def redact(entities: dict[str, set[int]], needles: list[str]) -> int:
    """Erase a person's values from the audit log: who did what to what, and when, stay.

    An entry about one of ``entities`` (entity type to ids: the person, their account, bookings,
    certificates...) has every text value in its details replaced by "erased"; any other entry holding
    one of ``needles`` (their address, names, the fingerprint of their address) has those values
    replaced. Written with Core, past the ORM's refusal to change an entry: this is the only change the
    app makes to one. In the caller's transaction; returns how many entries changed.
    """
    table = AuditEvent.__table__
    needles = [n.lower() for n in needles if n]
    about = [sa.and_(table.c.entity_type == kind, table.c.entity_id.in_(ids)) for kind, ids in entities.items() if ids]
    text = sa.func.lower(sa.cast(table.c.details, sa.Text))
    naming = [text.contains(variant, autoescape=True) for needle in needles for variant in _json_text_variants(needle)]
    if not about and not naming:
        return 0
    changed = 0
    rows = db.session.execute(sa.select(table.c.id, table.c.entity_type, table.c.entity_id, table.c.details)
                              .where(sa.or_(*about, *naming)))
    for row in rows:
        whole = row.entity_id in entities.get(row.entity_type, ())
        details = _redacted(row.details or {}, (lambda value: True) if whole else
                            (lambda value: any(needle in value.lower() for needle in needles)))
        if details != row.details:
            db.session.execute(sa.update(table).where(table.c.id == row.id).values(details=details))
            changed += 1
    return changed
