"""Data-protection rights: everything held about a person (JSON and CSV), erasure, and retention.

The export walks the schema rather than a hand-kept list: every table with a column referring to the
person (or to their account) contributes its rows, so a table another area adds is included without
touching this file. Secrets (password and token hashes, link tokens) are never exported.

Erasure anonymises: the person's name, email, date of birth, postcode, equality answers and account
go; their council areas, completions and certificates stay (so reach figures do not change) and
``Person.erased_at`` makes certificate verification answer "record erased" and sets each certificate's bit in
the revocation status list (audited "record erased"), so a verifier holding the credential agrees.
"""
from __future__ import annotations

import csv
import enum
import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from mhfa import names
from mhfa.api.idempotency import IdempotencyKey, purge_older_than
from mhfa.attendance.models import Completion
from mhfa.audit import services as audit
from mhfa.audit.models import AuditEvent
from mhfa.auth.models import User, UserSession
from mhfa.auth.sessions import end_all
from mhfa.bookings.models import Booking
from mhfa.certificates import services as certificates
from mhfa.certificates.models import Certificate, CertificateReissue
from mhfa.courses.models import Course
from mhfa.employers.models import ClosedCourseRequest, Employer, EmployerContact, Order, PlaceVoucher
from mhfa.errors import DomainError
from mhfa.extensions import db
from mhfa.notify.erasure import files_naming, forget_mail
from mhfa.notify.models import OutboxMessage, OutboxStatus
from mhfa.notify.outbox import purge_delivered
from mhfa.outcomes import privacy as outcome_answers
from mhfa.people.models import Person
from mhfa.security.ratelimit import purge_expired
from mhfa.timeutil import utcnow

ERASED_NAME = ("Erased", "record")
_SECRET_WORDS = ("hash", "token", "password", "raw")


def _is_secret(column: sa.Column) -> bool:
    return any(word in column.name for word in _SECRET_WORDS)


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return None
    return value


def _rows(table: sa.Table, condition) -> list[dict]:
    columns = [c for c in table.columns if not _is_secret(c)]
    result = db.session.execute(sa.select(*columns).where(condition).order_by(*table.primary_key.columns))
    return [{key: _plain(value) for key, value in row._mapping.items()} for row in result]


def _referring_columns(target: str) -> list[tuple[sa.Table, sa.Column]]:
    found = []
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if any(fk.column.table.name == target for fk in column.foreign_keys):
                found.append((table, column))
    return found


def personal_data(person: Person) -> dict[str, Any]:
    """Everything held about ``person``, section by section (table name → rows), and the files naming them.

    Rows referring to the person or their account, and the rows referring to the person's (a booking's
    attendance marks, a certificate's reissues); audit entries about them, by them or naming their address; outbox
    messages to them; employer-contact invitations to their address; ``files``: the outbox folder's
    ``.eml`` files addressed to them or naming them.
    """
    person_table = Person.__table__
    data: dict[str, Any] = {"person": _rows(person_table, person_table.c.id == person.id)}
    users = db.session.scalars(sa.select(User).where(User.person_id == person.id)).all()
    user_ids = [u.id for u in users]
    emails = sorted({e.lower() for e in [person.email, *(u.email for u in users)] if e})
    theirs: dict[str, set] = {}
    for target, ids in (("person", [person.id]), ("user_account", user_ids)):
        if not ids:
            continue
        for table, column in _referring_columns(target):
            if table.name == AuditEvent.__tablename__:
                continue
            rows = _rows(table, column.in_(ids))
            data.setdefault(table.name, []).extend(rows)
            if target == "person" and "id" in table.c and table.name != "person":
                theirs.setdefault(table.name, set()).update(row["id"] for row in rows if "id" in row)
    for parent, ids in theirs.items():  # one level further: what their bookings, certificates... hold
        for table, column in _referring_columns(parent):
            if table.name in (AuditEvent.__tablename__, "person", "user_account") or not ids:
                continue
            data.setdefault(table.name, []).extend(_rows(table, column.in_(sorted(ids))))
    contacts, vouchers = EmployerContact.__table__, PlaceVoucher.__table__
    if emails:
        data.setdefault("employer_contact", []).extend(
            _rows(contacts, sa.func.lower(contacts.c.email).in_(emails)))
        data.setdefault("place_voucher", []).extend(_rows(vouchers, sa.func.lower(vouchers.c.given_email).in_(emails)))
    events = AuditEvent.__table__
    text = sa.func.lower(sa.cast(events.c.details, sa.Text))
    about = sa.or_(
        sa.and_(events.c.entity_type == "person", events.c.entity_id == person.id),
        sa.and_(events.c.entity_type == "user_account", events.c.entity_id.in_(user_ids or [-1])),
        events.c.actor_user_id.in_(user_ids or [-1]),
        *(sa.and_(events.c.entity_type == name, events.c.entity_id.in_(sorted(ids))) for name, ids in theirs.items()
          if ids),
        *(text.contains(email, autoescape=True) for email in emails),
    )
    data["audit_event"] = _rows(events, about)
    if emails:
        outbox = OutboxMessage.__table__
        data["outbox_message"] = _rows(outbox, sa.func.lower(outbox.c.recipient).in_(emails))
        names = [f"{person.first_name} {person.last_name}"] if not person.is_erased else []
        files = files_naming(emails[0], [*emails[1:], *names])
        if files:
            data["files"] = [{"folder": "instance/outbox", "file": name} for name in files]
    return {name: _unique(rows) for name, rows in data.items() if rows}


def _unique(rows: list[dict]) -> list[dict]:
    """A row reached through two columns (a booking of theirs, booked by them) once."""
    seen, kept = set(), []
    for row in rows:
        key = repr(sorted(row.items()))
        if key not in seen:
            seen.add(key)
            kept.append(row)
    return kept


def export_json(person: Person, actor: User | None, reason: str | None = None) -> dict[str, Any]:
    """The export as a JSON-ready document; the export itself is audited."""
    document = {"exported_at": utcnow().isoformat(), "person_id": person.id, "data": personal_data(person)}
    audit.record("personal_data.exported", person, actor, format="json", reason=reason,
                 sections=sorted(document["data"]))
    return document


def export_csv(person: Person, actor: User | None, reason: str | None = None) -> str:
    """The export as one CSV: section, row number, field, value (every row of every section)."""
    data = personal_data(person)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "row", "field", "value"])
    for section, rows in data.items():
        for number, row in enumerate(rows, start=1):
            for key, value in row.items():
                writer.writerow([section, number, key, names.spreadsheet_text("" if value is None else str(value))])
    audit.record("personal_data.exported", person, actor, format="csv", reason=reason, sections=sorted(data))
    return out.getvalue()


def erase_person(person: Person, actor: User | None, reason: str) -> Person:
    """Anonymise ``person``: personal data removed everywhere it was copied, reach and certificates kept
    (answering "record erased").

    In one transaction: the person and their accounts; their values in the audit log (who did what, and
    when, stay); the reasons given for reissuing their certificates; their address on employer-contact
    rows and invitations; their API replays; free text elsewhere naming them; the outbox messages to them
    (deleted) and those naming them (redacted). Once it commits, their ``.eml`` files go too.
    """
    if person.is_erased:
        raise DomainError("This record has already been erased.")
    if not reason.strip():
        raise DomainError("Enter the reason for the erasure, such as the request's reference", field="reason")
    if actor is not None and actor.person_id == person.id:
        raise DomainError("You cannot erase your own record. Ask another coordinator.")

    users = list(db.session.scalars(sa.select(User).where(User.person_id == person.id)))
    held = _held_about(person, users)
    copies = _erase_copies(person, users, held)

    erased_fields = ["first_name", "last_name", "email", "date_of_birth", "postcode", "age_band", "sex",
                     "ethnic_group", "disability"]
    person.first_name, person.last_name = ERASED_NAME
    person.email = None
    person.date_of_birth = None
    person.postcode = None
    person.age_band = person.sex = person.ethnic_group = person.disability = None
    person.erased_at = utcnow()
    for user in users:
        end_all(user, "record erased")
        user.email = f"erased-{user.id}@erased.invalid"
        user.password_hash = "!"  # noqa: S105 (matches no password)
        user.api_token_hash = None
        user.active = False
        user.role_rows = []
        erased_fields.append("account")
    copies["outcome_invites_unlinked"] = outcome_answers.forget_person(person)
    db.session.flush()
    audit.record("person.erased", person, actor, reason=reason.strip()[:500], fields=erased_fields, copies=copies)
    certificates.revoke_status_for_erasure(person, actor)
    return person


@dataclass
class _Held:
    """What identifies a person in copies of their data: addresses, names (former ones too), records."""

    emails: list[str]
    names: list[str]
    entities: dict[str, set[int]]

    @property
    def needles(self) -> list[str]:
        fingerprints = [hashlib.sha256(email.encode()).hexdigest()[:16] for email in self.emails]
        return [*self.emails, *self.names, *fingerprints]


def _held_about(person: Person, users: list[User]) -> _Held:
    user_ids = {u.id for u in users}
    emails = sorted({e.strip().lower() for e in [person.email, *(u.email for u in users)] if e})
    certificate_ids = set(db.session.scalars(sa.select(Certificate.id).where(Certificate.person_id == person.id)))
    entities = {
        "person": {person.id},
        "user_account": user_ids,
        "booking": set(db.session.scalars(sa.select(Booking.id).where(Booking.person_id == person.id))),
        "completion": set(db.session.scalars(sa.select(Completion.id).where(Completion.person_id == person.id))),
        "certificate": certificate_ids,
        "place_voucher": set(db.session.scalars(sa.select(PlaceVoucher.id).where(
            PlaceVoucher.assigned_person_id == person.id))),
    }
    names = {f"{person.first_name} {person.last_name}".strip()}
    vouchers = PlaceVoucher.__table__
    typed_for_them = sa.or_(vouchers.c.assigned_person_id == person.id,
                            sa.func.lower(vouchers.c.given_email).in_(emails or [""]))
    for first, last in db.session.execute(
            sa.select(vouchers.c.given_first_name, vouchers.c.given_last_name).where(typed_for_them)):
        names.add(f"{first or ''} {last or ''}".strip())  # what employers typed for them
    events = AuditEvent.__table__
    for details in db.session.scalars(sa.select(events.c.details).where(
            events.c.action == "certificate.reissued", events.c.entity_type == "certificate",
            events.c.entity_id.in_(certificate_ids or [-1]))):
        for version in (details or {}).get("before", {}), (details or {}).get("after", {}):
            if isinstance(version, dict) and version.get("first_name"):
                names.add(f"{version['first_name']} {version.get('last_name', '')}".strip())
    return _Held(emails, sorted(n for n in names if len(n) > 3), entities)


#: Free text written about people (reasons, notes, addresses) that may name one; VAT invoices and credit
#: notes are kept as issued (a legal record), everything else is searched for the erased person.
FREE_TEXT = (
    (Booking, ("cancel_reason",)), (Certificate, ("revoked_reason",)),
    (ClosedCourseRequest, ("preferred_dates", "location", "notes")),
    (Order, ("cancel_reason", "billing_address")), (Employer, ("billing_address",)),
    (Course, ("notes", "cancelled_reason")),
)


def _erase_copies(person: Person, users: list[User], held: _Held) -> dict[str, int]:
    """Every copy of the person's data outside their own row, redacted or deleted; counts by kind."""
    needles = held.needles
    pattern = re.compile("|".join(re.escape(n) for n in sorted(needles, key=len, reverse=True)), re.IGNORECASE)
    counts = {"audit_entries": audit.redact(held.entities, needles)}
    reissues = CertificateReissue.__table__
    counts["reissue_reasons"] = db.session.execute(sa.update(reissues).where(
        reissues.c.certificate_id.in_(held.entities["certificate"] or [-1])).values(reason=audit.REDACTED)).rowcount
    contacts = EmployerContact.__table__
    user_ids = held.entities["user_account"]
    counts["employer_contacts"] = 0
    for contact_id in db.session.scalars(sa.select(contacts.c.id).where(sa.or_(
            contacts.c.user_id.in_(user_ids or [-1]), sa.func.lower(contacts.c.email).in_(held.emails or [""])))):
        counts["employer_contacts"] += db.session.execute(sa.update(contacts).where(contacts.c.id == contact_id).values(
            email=f"erased-contact-{contact_id}@erased.invalid", token_digest=None)).rowcount
    vouchers = PlaceVoucher.__table__
    counts["places_named"] = db.session.execute(sa.update(vouchers).where(sa.or_(
        vouchers.c.assigned_person_id == person.id, sa.func.lower(vouchers.c.given_email).in_(held.emails or [""])))
        .values(given_first_name=audit.REDACTED, given_last_name="", given_email=None)).rowcount
    replays = IdempotencyKey.__table__
    counts["api_replays"] = db.session.execute(sa.delete(replays).where(
        replays.c.user_id.in_(user_ids or [-1]))).rowcount
    counts["free_text"] = _redact_free_text(needles, pattern)
    mail = forget_mail(held.emails[0] if held.emails else None, [*held.emails[1:], *held.names], person_id=person.id)
    counts["emails_deleted"], counts["emails_redacted"] = mail.rows_deleted, mail.rows_redacted
    return counts


def _redact_free_text(needles: list[str], pattern: re.Pattern) -> int:
    changed = 0
    for model, columns in FREE_TEXT:
        table = model.__table__
        for name in columns:
            column = table.c[name]
            naming = sa.or_(*(sa.func.lower(column).contains(n.lower(), autoescape=True) for n in needles))
            for row_id, text in db.session.execute(sa.select(table.c.id, column).where(naming)).all():
                db.session.execute(sa.update(table).where(table.c.id == row_id).values(
                    {name: pattern.sub(audit.REDACTED, text)}))
                changed += 1
    return changed


# --- retention ----------------------------------------------------------------------------------

@dataclass
class RetentionReport:
    people_erased: int = 0
    emails_purged: int = 0
    mail_files_deleted: int = 0
    sessions_purged: int = 0
    idempotency_keys_purged: int = 0
    rate_limit_windows_purged: int = 0
    outcome_answers_unlinked: int = 0
    dry_run: bool = False
    erased_ids: list[int] = field(default_factory=list)

    def lines(self) -> list[str]:
        verb = "would be" if self.dry_run else "were"
        return [
            f"Unclaimed people inactive past the retention period who {verb} erased: {self.people_erased}",
            f"Delivered emails purged: {self.emails_purged}",
            f"Email files deleted from the outbox folder: {self.mail_files_deleted}",
            f"Ended sign-in sessions purged: {self.sessions_purged}",
            f"API idempotency keys purged: {self.idempotency_keys_purged}",
            f"Ended rate-limit windows purged: {self.rate_limit_windows_purged}",
            f"Course evaluation and follow-up answers past the retention period unlinked from their person "
            f"(comments removed, scores kept): {self.outcome_answers_unlinked}",
        ]


def people_past_retention(years: int) -> list[Person]:
    """Unclaimed people (no account) not erased, whose last activity is older than ``years`` years.

    Activity: the record's creation, any booking, and any completion.
    """

    cutoff = utcnow() - timedelta(days=round(365.25 * years))
    has_account = sa.exists().where(User.person_id == Person.id)
    recent_booking = sa.exists().where(Booking.person_id == Person.id, Booking.created_at >= cutoff)
    recent_completion = sa.exists().where(Completion.person_id == Person.id, Completion.completed_on >= cutoff.date())
    return list(db.session.scalars(sa.select(Person).where(
        Person.erased_at.is_(None), Person.created_at < cutoff, ~has_account, ~recent_booking, ~recent_completion,
    ).order_by(Person.id)))


def apply_retention(*, years: int, outbox_days: int, session_days: int, dry_run: bool = False) -> RetentionReport:
    """Apply the retention settings (in the caller's transaction); returns what was (or would be) done."""

    report = RetentionReport(dry_run=dry_run)
    due = people_past_retention(years)
    report.people_erased = len(due)
    report.erased_ids = [p.id for p in due]
    sent_cutoff = utcnow() - timedelta(days=outbox_days)
    session_cutoff = utcnow() - timedelta(days=session_days)
    answers_cutoff = utcnow() - timedelta(days=round(365.25 * years))
    if dry_run:
        report.outcome_answers_unlinked = outcome_answers.answers_to_forget(answers_cutoff)
        report.emails_purged = db.session.scalar(sa.select(sa.func.count(OutboxMessage.id)).where(
            OutboxMessage.status == OutboxStatus.SENT, OutboxMessage.sent_at < sent_cutoff)) or 0
        report.sessions_purged = db.session.scalar(sa.select(sa.func.count(UserSession.id)).where(
            UserSession.ended_at < session_cutoff)) or 0
        return report
    for person in due:
        erase_person(person, None, f"retention: no activity for {years} years")

    report.emails_purged, report.mail_files_deleted = purge_delivered(outbox_days)
    report.sessions_purged = db.session.execute(
        sa.delete(UserSession).where(UserSession.ended_at < session_cutoff)).rowcount
    report.idempotency_keys_purged = purge_older_than(1)
    report.rate_limit_windows_purged = purge_expired(db.session)
    report.outcome_answers_unlinked = outcome_answers.forget_answered_before(answers_cutoff)
    return report
