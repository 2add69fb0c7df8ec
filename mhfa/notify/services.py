"""Email: messages are written to a durable outbox in the same transaction as the change they announce.

``queue(message)`` adds an :class:`~mhfa.notify.models.OutboxMessage` row to the current session, so a
message exists exactly when its change committed: a rolled-back booking has no email, and a worker
killed after the commit loses nothing. ``queue_later(kind, payload, ...)`` writes only what to say (a
registered renderer's name and the ids it needs): the sender renders the email when it first claims the
row (``render``), so a request never spends its time composing mail.
``flask mhfa deliver-mail [--loop]`` (see ``outbox.py``) sends
what is due, with retries and backoff, at most once per message however many senders run.

With ``MHFA_DELIVER_AFTER_COMMIT`` (the development server and the tests) the messages of a
transaction are also delivered right after it commits, by the same outbox code; production leaves it
off, so no request waits for (or is timed by) an SMTP relay. Without ``MAIL_SERVER``, delivery writes
``.eml`` files to ``instance/outbox/`` so a developer can read them.
"""
from __future__ import annotations

import hashlib
import logging
import smtplib
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import formatdate, make_msgid
from pathlib import Path

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from mhfa.extensions import db
from mhfa.notify.models import OutboxMessage
from mhfa.security.files import private_folder, write_private
from mhfa.timeutil import utcnow

log = logging.getLogger(__name__)
QUEUE_KEY = "mhfa_outbox"


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
    """Write ``message`` to the outbox in the current transaction (it goes only if that commits)."""
    session = db.session()
    if not session.in_transaction():
        session.begin()
    email = build(message)
    row = OutboxMessage(recipient=message.to[:254], subject=message.subject[:255], message_id=email["Message-ID"],
                        raw=bytes(email))
    session.add(row)
    session.info.setdefault(QUEUE_KEY, []).append((message, row))


def queued() -> list[Message]:
    """Messages written (already rendered) to the outbox in the current transaction, waiting for it to commit."""
    return [message for message, _ in db.session().info.get(QUEUE_KEY, []) if message is not None]


#: What renders each kind of message written by ``queue_later``: ``renderer(session, payload, to)`` returns
#: the Message, or None when there is nothing to send any more (its subject gone, its person erased).
Renderer = Callable[[Session, dict, str], "Message | None"]
RENDERERS: dict[str, Renderer] = {}


def renderer(kind: str) -> Callable[[Renderer], Renderer]:
    """Register the function that renders messages of ``kind`` (each area registers its own, at import)."""
    def register(function: Renderer) -> Renderer:
        RENDERERS[kind] = function
        return function
    return register


def queue_later(kind: str, payload: dict, *, to: str | None, subject: str) -> OutboxMessage | None:
    """Write to the outbox, in the current transaction, what to say rather than the email itself: the sender
    renders it with the renderer registered for ``kind`` when it first sends it (see ``render``). The row gets
    its Message-ID now, so every attempt sends the same message. Nothing when there is no address."""
    if not to:
        return None
    if kind not in RENDERERS:
        raise LookupError(f"no renderer registered for outbox messages of kind {kind!r}")
    session = db.session()
    if not session.in_transaction():
        session.begin()
    row = OutboxMessage(recipient=to[:254], subject=subject[:255], message_id=make_msgid(domain="mhfa-reach.local"),
                        kind=kind, payload=payload, raw=None)
    session.add(row)
    session.info.setdefault(QUEUE_KEY, []).append((None, row))
    return row


def render(kind: str, payload: dict, *, to: str, message_id: str) -> bytes | None:
    """The bytes of a ``queue_later`` message, under its Message-ID; None when there is nothing to send.

    Reads what it needs in a session of its own (the sender may run right after a request's commit)."""
    with Session(db.engine) as session:
        message = RENDERERS[kind](session, payload, to)
        if message is None:
            return None
        return bytes(build(message, message_id=message_id))


@event.listens_for(Session, "after_soft_rollback")
def _drop_after_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # the whole transaction, not a savepoint
        session.info.pop(QUEUE_KEY, None)


# Fold headers only past SMTP's line limit: Python folds a long Subject right after "Subject:",
# which some readers (Python's own parser among them) then show with a leading space.
_POLICY = policy.default.clone(max_line_length=998)


def build(message: Message, *, message_id: str | None = None) -> EmailMessage:
    email = EmailMessage(policy=_POLICY)
    email["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    email["To"] = message.to
    email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = message_id or make_msgid(domain="mhfa-reach.local")
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
    """Send now, bypassing the outbox (SMTP, or ``.eml`` files without a mail server); raises on failure."""
    send_raw([bytes(build(m)) for m in messages])


def send_raw(emails: list[bytes]) -> None:
    """Hand built messages to the mail server over one connection (or write them as ``.eml`` files)."""
    with mail_transport() as send:
        for raw in emails:
            send(raw)


@contextmanager
def mail_transport() -> Iterator[Callable[[bytes], None]]:
    """A ``send(raw)`` function over one SMTP connection, or writing ``instance/outbox/`` files without
    ``MAIL_SERVER``. Raises ``OSError``/``smtplib.SMTPException`` when the server cannot take a message."""
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        folder = outbox_folder()
        yield lambda raw: _write(raw, folder)
        return
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config.get("MAIL_TIMEOUT", 30)) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        yield lambda raw: smtp.send_message(message_from_bytes(raw, policy=_POLICY))


def outbox_folder() -> Path:
    """Where messages are written as ``.eml`` files when there is no mail server."""
    return Path(current_app.instance_path) / "outbox"


def message_digest(message_id: str) -> str:
    """What names a message's ``.eml`` file: a digest of its Message-ID (so retention finds the file)."""
    return hashlib.sha256(message_id.strip().encode()).hexdigest()[:20]


def _write(raw: bytes, folder: Path) -> Path:
    private_folder(folder)
    message_id = str(BytesHeaderParser(policy=_POLICY).parsebytes(raw).get("Message-ID", "")) or uuid.uuid4().hex
    return write_private(folder / f"{utcnow():%Y%m%dT%H%M%S}-{message_digest(message_id)}.eml", raw)


def delete_mail_files(message_ids: list[str], older_than_days: int) -> int:
    """Delete the ``.eml`` files of these messages, and every one older than ``older_than_days``."""
    folder = outbox_folder()
    if not folder.is_dir():
        return 0
    digests = {message_digest(m) for m in message_ids if m}
    cutoff = time.time() - older_than_days * 86400
    deleted = 0
    for path in folder.glob("*.eml"):
        if path.stem.rpartition("-")[2] in digests or path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            deleted += 1
    return deleted
