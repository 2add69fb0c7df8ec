"""Email: messages are queued in the database session and sent only after it commits.

A message queued during a transaction that rolls back is never sent, so no email announces a
booking that did not happen. With ``MAIL_SERVER`` set, messages go over SMTP; without it they are
written as ``.eml`` files to ``instance/outbox/`` so a developer can read them. A message that
cannot be sent after the commit is kept in ``instance/outbox/failed/`` and logged, never lost.
"""
from __future__ import annotations

import logging
import smtplib
import uuid
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from mhfa.extensions import db
from mhfa.timeutil import utcnow

log = logging.getLogger(__name__)
_QUEUE_KEY = "mhfa_outbox"


@dataclass
class Attachment:
    filename: str
    content_type: str  # e.g. "text/calendar"
    data: bytes
    params: dict[str, str] = field(default_factory=dict)  # e.g. {"method": "REQUEST"}


@dataclass
class Message:
    to: str
    subject: str
    text: str
    html: str | None = None
    attachments: list[Attachment] = field(default_factory=list)


def queue(message: Message) -> None:
    """Send ``message`` once the current transaction commits (dropped if it rolls back)."""
    session = db.session()
    if not session.in_transaction():
        session.begin()
    session.info.setdefault(_QUEUE_KEY, []).append(message)


def queued() -> list[Message]:
    """Messages waiting for the current transaction to commit."""
    return list(db.session().info.get(_QUEUE_KEY, []))


@event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    messages = session.info.pop(_QUEUE_KEY, [])
    if messages and has_app_context():
        deliver(messages)


@event.listens_for(Session, "after_soft_rollback")
def _drop_after_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # the whole transaction, not a savepoint
        session.info.pop(_QUEUE_KEY, None)


# Fold headers only past SMTP's line limit: Python folds a long Subject right after "Subject:",
# which some readers (Python's own parser among them) then show with a leading space.
_POLICY = policy.default.clone(max_line_length=998)


def build(message: Message) -> EmailMessage:
    email = EmailMessage(policy=_POLICY)
    email["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    email["To"] = message.to
    email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = make_msgid(domain="mhfa-reach.local")
    email.set_content(message.text)
    if message.html:
        email.add_alternative(message.html, subtype="html")
    for attachment in message.attachments:
        maintype, subtype = attachment.content_type.split("/", 1)
        email.add_attachment(
            attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename,
            params=attachment.params or None,
        )
    return email


def deliver(messages: list[Message]) -> None:
    """Send now (SMTP), or write to the outbox when no mail server is configured."""
    config = current_app.config
    built = [build(m) for m in messages]
    if not config.get("MAIL_SERVER"):
        for email in built:
            _write(email, _outbox())
        return
    try:
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            for email in built:
                smtp.send_message(email)
    except (OSError, smtplib.SMTPException):
        log.exception("could not send %d message(s); kept in the failed outbox", len(built))
        for email in built:
            _write(email, _outbox() / "failed")


def _outbox() -> Path:
    return Path(current_app.instance_path) / "outbox"


def _write(email: EmailMessage, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}.eml"
    path.write_bytes(bytes(email))
    return path
