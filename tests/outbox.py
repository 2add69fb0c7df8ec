"""Test helpers: deliver the email outbox now (as `flask mhfa deliver-mail` would), or render what waits in it."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mhfa.extensions import db
from mhfa.notify.models import OutboxMessage, OutboxStatus
from mhfa.notify.outbox import DeliveryReport, deliver_due
from mhfa.notify.services import RENDERERS, Message


def deliver_outbox(limit: int = 1000) -> DeliveryReport:
    """Send every message that is due; returns what happened."""
    return deliver_due(limit=limit)


def rendered_outbox(kind: str | None = None) -> list[tuple[OutboxMessage, Message | None]]:
    """Each pending message written as what to say (of ``kind``, or every kind), by id, with the Message its
    renderer makes of it now (None: nothing to send any more), as the sender would render it; nothing is sent
    or changed. Only committed rows are seen (the renderer reads in a session of its own, as the sender does)."""
    db.session.expire_all()
    query = sa.select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.PENDING,
                                           OutboxMessage.raw.is_(None)).order_by(OutboxMessage.id)
    if kind is not None:
        query = query.where(OutboxMessage.kind == kind)
    rows = db.session.scalars(query).all()
    with Session(db.engine) as session:
        return [(row, RENDERERS[row.kind](session, row.payload or {}, row.recipient)) for row in rows]
