"""Certificates: issued with the completion in one transaction, revoked and reissued, verified by anyone.

Verifying one (by anyone, from its link or its number) is :mod:`mhfa.certificates.verification`.
The views complete a course through :func:`complete_course_and_issue` (attendance's completion,
then a certificate for each new Completion, in the caller's transaction). Revocation sets
``revoked_at``/``revoked_reason`` on the ORM object, so listeners on the session (reach figures) see it.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from mhfa import names
from mhfa.attendance import services as attendance
from mhfa.attendance.models import AttendanceStatus, Completion
from mhfa.audit import services as audit
from mhfa.auth.models import Role, User
from mhfa.certificates import emails, signals
from mhfa.certificates.models import Certificate, CertificateReissue, unused_status_indexes
from mhfa.courses.models import Course, CourseSession, CourseType
from mhfa.errors import DomainError, Forbidden
from mhfa.extensions import db
from mhfa.locks import lock_certificate, lock_status_indexes
from mhfa.people.models import Person
from mhfa.timeutil import london_today, utcnow

# Crockford's base 32: no I, L, O or U, so a number read aloud or typed from paper is unambiguous.
NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
NUMBER_FORMAT = re.compile(r"^MR(\d{4})-?([0-9A-Z]{4})-?([0-9A-Z]{4})$")


# --- issuing ------------------------------------------------------------------------------------

def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _draw_number(year: int) -> str:
    chars = "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(8))
    return f"MR{year}-{chars[:4]}-{chars[4:]}"


def new_numbers(year: int, count: int) -> list[str]:
    """``count`` fresh human-readable certificate numbers, e.g. ``MR2026-7K3Q-9XHD``, no two alike and none
    held by a certificate: checked together, one query a round (a number taken is drawn again). The unique
    constraint on the number is the final guard."""
    numbers: list[str] = []
    while len(numbers) < count:
        drawn = list(dict.fromkeys(_draw_number(year) for _ in range(count - len(numbers))))
        drawn = [number for number in drawn if number not in numbers]
        taken = set(db.session.scalars(sa.select(Certificate.number).where(Certificate.number.in_(drawn))))
        numbers.extend(number for number in drawn if number not in taken)
    return numbers


def new_number(year: int) -> str:
    """A fresh human-readable certificate number (unique, checked)."""
    return new_numbers(year, 1)[0]


def normalise_number(text: str) -> str:
    """A certificate number as typed: spaces and case ignored, O read as 0 and I or L as 1."""
    compact = re.sub(r"[\s\u2010-\u2015]+", "", (text or "").upper()).replace("—", "-")
    if compact.startswith("MR"):
        head, tail = compact[:2], compact[2:]
        tail = tail.replace("O", "0").replace("I", "1").replace("L", "1")
        compact = head + tail
    match = NUMBER_FORMAT.match(compact)
    return f"MR{match.group(1)}-{match.group(2)}-{match.group(3)}" if match else compact


def _certificate_to_refresh(person_id: int, kind: CourseType, before: date) -> Certificate | None:
    """The latest unrevoked certificate of a course type the refresher refreshes."""
    prerequisite_ids = [t.id for t in kind.prerequisites]
    if not prerequisite_ids:
        return None
    return db.session.scalar(
        sa.select(Certificate)
        .where(Certificate.person_id == person_id, Certificate.course_type_id.in_(prerequisite_ids),
               Certificate.revoked_at.is_(None), Certificate.issued_on <= before)
        .order_by(Certificate.issued_on.desc(), Certificate.id.desc()).limit(1)
    )


def issue_for(completion: Completion, by: User | None = None, today: date | None = None) -> Certificate:
    """The certificate of a completion: number, token, title, issue date, expiry; a refresher renews its chain."""
    return issue_all([completion], by, today)[0]


def issue_all(completions: list[Completion], by: User | None = None, today: date | None = None) -> list[Certificate]:
    """The certificates of these completions, written in one flush."""
    today = today or london_today()
    lock_status_indexes()
    with db.session.no_autoflush:  # the certificates are inserted together, in one flush
        # Numbers and status-list indexes are drawn for the whole register and checked in one query each.
        numbers = new_numbers(today.year, len(completions))
        indexes = unused_status_indexes(db.session, len(completions))
        certificates = [_new_certificate(completion, by, today, number, index)
                        for completion, number, index in zip(completions, numbers, indexes, strict=True)]
    db.session.add_all(certificates)
    db.session.flush()
    for certificate in certificates:
        audit.record("certificate.issued", certificate, by, before=None, after=certificate.number,
                     completion_id=certificate.completion.id, person_id=certificate.person_id)
    return certificates


def _new_certificate(completion: Completion, by: User | None, today: date, number: str,
                     status_index: int) -> Certificate:
    """A completion's certificate, not yet written; a refresher renews the certificate it refreshes."""
    kind = db.session.get(CourseType, completion.course_type_id)
    expires_on = _add_years(completion.completed_on, kind.certificate_valid_years) if kind.certificate_valid_years \
        else None
    certificate = Certificate(
        number=number,
        status_index=status_index,
        verification_token=secrets.token_urlsafe(24),
        completion=completion,
        person_id=completion.person_id,
        course_type_id=kind.id,
        title=kind.certificate_title,
        issued_on=today,
        expires_on=expires_on,
    )
    if kind.requires_prior_certificate:
        refreshed = _certificate_to_refresh(completion.person_id, kind, completion.completed_on)
        if refreshed is not None:
            certificate.refreshes = refreshed
            certificate.refreshed_expiry_was = refreshed.expires_on
            if expires_on is not None and (refreshed.expires_on is None or refreshed.expires_on < expires_on):
                before = refreshed.expires_on
                refreshed.expires_on = expires_on
                audit.record("certificate.renewed", refreshed, by, before=before and before.isoformat(),
                             after=expires_on.isoformat(), by_certificate=certificate.number)
    return certificate


@dataclass
class CompletedCourse:
    result: attendance.CompletionResult
    certificates: list[Certificate]


def complete_course_and_issue(course: Course, by: User, now: datetime | None = None) -> CompletedCourse:
    """Complete the course (attendance's rules) and issue a certificate to each trainee who completed."""
    result = attendance.complete_course(course, by, now)
    certificates = issue_all(result.completions, by)
    for certificate in certificates:
        emails.certificate_issued(certificate)  # queued: sent only if the completion commits
    signals.course_completed.send(course, completions=result.completions, certificates=certificates)
    return CompletedCourse(result, certificates)


def certificate_of(completion: Completion) -> Certificate | None:
    """The completion's current certificate (the latest unrevoked one, else the latest)."""
    return db.session.scalar(
        sa.select(Certificate).where(Certificate.completion_id == completion.id)
        .order_by(Certificate.revoked_at.is_not(None), Certificate.id.desc()).limit(1)
    )


def correct_mark(session: CourseSession, booking_id: int, status: AttendanceStatus, by: User, reason: str,
                 now: datetime | None = None) -> attendance.Correction:
    """Change a completed course's mark (coordinator, reason); issue or revoke the certificate to match."""
    correction = attendance.correct_mark(session, booking_id, status, by, reason, now)
    completion = correction.completion
    if completion is None:
        return correction
    current = certificate_of(completion)
    if correction.no_longer_completed and current is not None and current.revoked_at is None:
        revoke(current, f"Register corrected: {reason.strip()}", by, now)
    elif correction.now_completed and (current is None or current.revoked_at is not None):
        certificate = issue_for(completion, by)
        signals.course_completed.send(session.course, completions=[completion], certificates=[certificate])
    return correction


# --- revoking and reissuing ----------------------------------------------------------------------

def _require_coordinator(user: User) -> None:
    if not user.has_role(Role.COORDINATOR):
        raise Forbidden("Only the programme team can do that")


def revoke(certificate: Certificate, reason: str, by: User, now: datetime | None = None) -> Certificate:
    """Revoke a certificate with a reason: verification and the status list say revoked from now on."""
    _require_coordinator(by)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Enter the reason for revoking the certificate", field="reason")
    lock_certificate(certificate)
    if certificate.revoked_at is not None:
        raise DomainError("This certificate has already been revoked", field="reason")
    certificate.revoked_at = now or utcnow()
    certificate.revoked_reason = reason
    db.session.flush()
    audit.record("certificate.revoked", certificate, by, before="valid", after="revoked", reason=reason)
    if certificate.refreshes is not None:
        _renew_from_refreshers(certificate.refreshes, by, because=certificate)
    return certificate


def _renew_from_refreshers(refreshed: Certificate, by: User | None, because: Certificate) -> None:
    """Set a refreshed certificate's expiry from the refreshers still standing (a revoked one renews nothing).

    Its expiry is its own (the first refresher's ``refreshed_expiry_was``) or the latest of its unrevoked
    refreshers', whichever is later.
    """
    refreshers = list(db.session.scalars(
        sa.select(Certificate).where(Certificate.refreshes_id == refreshed.id).order_by(Certificate.id)))
    own = refreshers[0].refreshed_expiry_was if refreshers else refreshed.expires_on
    standing = [c.expires_on for c in refreshers if c.revoked_at is None and c.expires_on is not None]
    known = [day for day in (own, *standing) if day is not None]
    expiry = max(known) if known else None
    if expiry != refreshed.expires_on:
        before = refreshed.expires_on
        refreshed.expires_on = expiry
        db.session.flush()
        audit.record("certificate.renewal_undone", refreshed, by, before=before and before.isoformat(),
                     after=expiry and expiry.isoformat(), by_certificate=because.number)


def reissue(certificate: Certificate, first_name: str, last_name: str, reason: str, by: User,
            now: datetime | None = None) -> Certificate:
    """Reissue a certificate (same number and link, next revision), correcting the holder's name."""
    _require_coordinator(by)
    reason = (reason or "").strip()
    first_name, last_name = (first_name or "").strip(), (last_name or "").strip()
    if not first_name:
        raise DomainError("Enter the first name as it should appear on the certificate", field="first_name")
    if not last_name:
        raise DomainError("Enter the last name as it should appear on the certificate", field="last_name")
    first_name = names.check(first_name, "First name", field="first_name")
    last_name = names.check(last_name, "Last name", field="last_name")
    if not reason:
        raise DomainError("Enter the reason for reissuing the certificate", field="reason")
    lock_certificate(certificate)
    if certificate.revoked_at is not None:
        raise DomainError("A revoked certificate cannot be reissued")
    person = certificate.person
    if holder_erased(person):
        raise DomainError("This record has been erased, so the certificate cannot be reissued")
    db.session.refresh(person)  # the name as it is now, after any reissue that held the lock before us
    before = {"first_name": person.first_name, "last_name": person.last_name, "revision": certificate.revision}
    person.first_name, person.last_name = first_name, last_name
    certificate.revision += 1
    certificate.reissues.append(CertificateReissue(
        revision=certificate.revision, reason=reason, reissued_at=now or utcnow(),
        reissued_by_user_id=getattr(by, "id", None)))
    db.session.flush()
    audit.record("certificate.reissued", certificate, by, reason=reason, before=before,
                 after={"first_name": first_name, "last_name": last_name, "revision": certificate.revision})
    return certificate


ERASED_REASON = "record erased"


def revoke_status_for_erasure(person: Person, by: User | None) -> list[Certificate]:
    """On erasing ``person``: their certificates' bits in the status list are set from now on (the list sets
    the bit of every certificate whose holder is erased), each recorded in the audit with "record erased".

    ``revoked_at`` stays as it was, so reach figures (which count unrevoked certificates) do not move;
    the verification page and any verifier holding the credential both answer that it no longer stands.
    """
    certificates = list(db.session.scalars(
        sa.select(Certificate).where(Certificate.person_id == person.id).order_by(Certificate.id)))
    for certificate in certificates:
        if certificate.revoked_at is None:
            audit.record("certificate.status_revoked", certificate, by, before="valid", after="revoked",
                         reason=ERASED_REASON, status_index=certificate.status_index)
    return certificates


# --- who may download a certificate -----------------------------------------------------------------

def can_download(certificate: Certificate, user) -> bool:
    """The holder, or a coordinator: nobody else."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.has_role(Role.COORDINATOR):
        return True
    return user.person_id is not None and user.person_id == certificate.person_id


def download_refusal(certificate: Certificate, user) -> signals.DownloadRefusal | None:
    """Why ``user`` cannot download the certificate yet (an area above asks first, e.g. an evaluation), or None."""
    return next((r for r in signals.certificate_download.send(certificate, user=user) if r is not None), None)


# --- the holder ---------------------------------------------------------------------------------------

def holder_erased(person: Person) -> bool:
    """Whether the holder's record was erased on a data-protection request (``Person.erased_at`` is set)."""
    return person.erased_at is not None


def certificates_of_course(course: Course) -> list[Certificate]:
    return list(db.session.scalars(
        sa.select(Certificate).join(Completion, Completion.id == Certificate.completion_id)
        .where(Completion.course_id == course.id).options(joinedload(Certificate.person))
        .order_by(Certificate.id)
    ))
