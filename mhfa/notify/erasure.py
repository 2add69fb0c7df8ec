"""Forgetting a person's email: the outbox rows and ``.eml`` files addressed to them, and what others were told.

Erasing a person (``mhfa.privacy``) asks for every copy of their mail to go: messages addressed to them
are deleted, sent or not (there is no one to send them to any more), rows and files alike; a message to
someone else that names them (an invitation from them, say) stays, with their name and address replaced
by "erased" in its subject and text. Files are found by their ``To`` header and decoded text, so a file
written before this module kept its name is found too.

Retention deletes the files of the messages it purges (``mhfa.notify.outbox.purge_delivered``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from mhfa.extensions import db
from mhfa.names import normalise_email
from mhfa.notify.models import OutboxMessage
from mhfa.notify.services import _POLICY, outbox_folder
from mhfa.security.files import write_private

ERASED = "erased"


@dataclass
class MailForgotten:
    rows_deleted: int = 0
    rows_redacted: int = 0
    files_deleted: int = 0
    files_redacted: int = 0


def _pattern(needles: list[str]) -> re.Pattern | None:
    needles = sorted({n for n in needles if n}, key=len, reverse=True)
    return re.compile("|".join(re.escape(n) for n in needles), re.IGNORECASE) if needles else None


def _redact_text(text: str, pattern: re.Pattern) -> str:
    return pattern.sub(ERASED, text)


def redact_message(raw: bytes, pattern: re.Pattern) -> bytes | None:
    """The message with every match of ``pattern`` in its subject and text parts replaced, or None if none."""
    message: EmailMessage = message_from_bytes(raw, policy=_POLICY)
    changed = False
    for header in ("Subject", "To", "Cc", "Reply-To"):
        value = message.get(header)
        if value is not None and pattern.search(str(value)):
            del message[header]
            message[header] = _redact_text(str(value), pattern)
            changed = True
    for part in message.walk():
        if part.is_multipart() or part.get_content_maintype() != "text":
            continue
        text = part.get_content()
        if not pattern.search(text):
            continue
        params = {k: v for k, v in part.get_params(header="content-type")[1:] if k != "charset"}
        part.set_content(_redact_text(text, pattern), subtype=part.get_content_subtype(),
                         disposition=part.get_content_disposition(), filename=part.get_filename(),
                         params=params or None)
        changed = True
    return bytes(message) if changed else None


def _mentions(raw: bytes, pattern: re.Pattern) -> bool:
    """Whether the message names them anywhere (headers or decoded text)."""
    message = message_from_bytes(raw, policy=_POLICY)
    if any(pattern.search(str(message.get(h, ""))) for h in ("Subject", "To", "Cc", "Reply-To")):
        return True
    return any(pattern.search(part.get_content()) for part in message.walk()
               if not part.is_multipart() and part.get_content_maintype() == "text")


def _addressed_to(raw: bytes, email: str) -> bool:
    headers = BytesHeaderParser(policy=_POLICY).parsebytes(raw)
    return any(email in str(headers.get(h, "")).lower() for h in ("To", "Cc"))


def forget_mail(email: str | None, needles: list[str], *, person_id: int | None = None) -> MailForgotten:
    """Delete the mail addressed to ``email`` and redact ``needles`` (their address and names) from the rest:
    outbox rows in the caller's transaction, the outbox folder's files once it commits (none if it does not).

    Messages written as what to say and not rendered yet (``queue_later``) hold no text to redact: those about
    the person (their payload's ``person_id``) are deleted whatever address they went to; their renderers also
    refuse an erased person, so nothing about them is sent later either."""
    report = MailForgotten()
    email = normalise_email(email or "")
    table = OutboxMessage.__table__
    if person_id is not None:
        report.rows_deleted += db.session.execute(sa.delete(table).where(
            table.c.raw.is_(None), table.c.payload["person_id"].as_integer() == person_id)).rowcount
    pattern = _pattern([email, *needles])
    if pattern is None:
        return report
    if email:
        report.rows_deleted += db.session.execute(
            sa.delete(table).where(sa.func.lower(table.c.recipient) == email)).rowcount
    report.rows_redacted = _redact_rows(table, pattern, [email, *needles])
    db.session().info.setdefault(_FILES_KEY, []).append((email, pattern, outbox_folder()))
    return report


_FILES_KEY = "mhfa_forget_mail_files"


@event.listens_for(Session, "after_commit")
def _forget_files_after_commit(session: Session) -> None:
    for email, pattern, folder in session.info.pop(_FILES_KEY, []):
        forget_files(email, pattern, folder)


@event.listens_for(Session, "after_soft_rollback")
def _keep_files_after_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_FILES_KEY, None)


def forget_files(email: str, pattern: re.Pattern, folder: Path) -> MailForgotten:
    """The outbox folder's files: those addressed to ``email`` deleted, those naming them redacted."""
    report = MailForgotten()
    if folder.is_dir():
        for path in sorted(folder.glob("*.eml")):
            raw = path.read_bytes()
            if email and _addressed_to(raw, email):
                path.unlink(missing_ok=True)
                report.files_deleted += 1
            elif _mentions(raw, pattern):
                redacted = redact_message(raw, pattern)
                if redacted is not None:
                    aside = path.with_name(path.name + ".redacted")
                    write_private(aside, redacted)
                    aside.replace(path)
                    report.files_redacted += 1
    return report


def _redact_rows(table, pattern: re.Pattern, needles: list[str]) -> int:
    """Outbox rows to others that name them: subject and raw message rewritten (a SQL filter finds them)."""
    matches = []
    for needle in {n for n in needles if n}:
        encoded = needle.encode("utf-8")
        matches.append(sa.func.lower(table.c.subject).contains(needle.lower(), autoescape=True))
        if db.session.get_bind().dialect.name == "postgresql":
            matches.append(sa.func.position(sa.literal(encoded, sa.LargeBinary).op("IN")(table.c.raw)) > 0)
        else:
            matches.append(sa.func.instr(table.c.raw, sa.literal(encoded, sa.LargeBinary)) > 0)
    redacted = 0
    for row in db.session.execute(sa.select(table.c.id, table.c.subject, table.c.raw).where(sa.or_(*matches))):
        raw = redact_message(bytes(row.raw), pattern)
        subject = _redact_text(row.subject, pattern)
        if raw is not None or subject != row.subject:
            db.session.execute(sa.update(table).where(table.c.id == row.id).values(
                subject=subject, raw=raw if raw is not None else row.raw))
            redacted += 1
    return redacted


def files_naming(email: str | None, needles: list[str]) -> list[str]:
    """The outbox folder's files addressed to ``email`` or naming them (for the personal-data export)."""
    email = normalise_email(email or "")
    pattern = _pattern([email, *needles])
    folder = outbox_folder()
    if pattern is None or not folder.is_dir():
        return []
    return [path.name for path in sorted(folder.glob("*.eml"))
            if (email and _addressed_to(path.read_bytes(), email)) or _mentions(path.read_bytes(), pattern)]
