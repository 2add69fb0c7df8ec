"""Verifying a certificate, by anyone: from the link printed on it (its token) or by its number and the
holder's last name; what it says (valid, expired, revoked, or its holder's record erased), which
certificate it refreshes and which refresh it, and who taught the course on which dates."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from mhfa.attendance.models import Completion
from mhfa.certificates.models import Certificate
from mhfa.certificates.services import NUMBER_FORMAT, holder_erased, normalise_number
from mhfa.courses.models import Course
from mhfa.errors import DomainError, NotFound
from mhfa.extensions import db
from mhfa.timeutil import london_today, to_london

PROGRAMME = "Thrive West Midlands Mental Health First Aid programme"


def programme_name() -> str:
    """The issuing programme, as certificates and credentials name it (``MHFA_PROGRAMME_NAME``)."""
    from flask import current_app

    return current_app.config.get("MHFA_PROGRAMME_NAME", PROGRAMME)


VALID, EXPIRED, REVOKED, ERASED = "valid", "expired", "revoked", "erased"


@dataclass
class Verification:
    certificate: Certificate
    status: str
    refreshes: Certificate | None
    refreshed_by: list[Certificate]

    @property
    def is_valid(self) -> bool:
        return self.status == VALID


def status_of(certificate: Certificate, today: date | None = None) -> str:
    today = today or london_today()
    if holder_erased(certificate.person):
        return ERASED
    if certificate.revoked_at is not None:
        return REVOKED
    if certificate.expires_on is not None and certificate.expires_on < today:
        return EXPIRED
    return VALID


def verification(certificate: Certificate, today: date | None = None) -> Verification:
    refreshed_by = list(db.session.scalars(
        sa.select(Certificate).where(Certificate.refreshes_id == certificate.id).order_by(Certificate.issued_on)
    ))
    return Verification(certificate, status_of(certificate, today), certificate.refreshes, refreshed_by)


# A verification token is URL-safe base64 (``secrets.token_urlsafe``): anything else names no certificate
# and never reaches the database (PostgreSQL refuses a NUL byte in text with an error, not an empty result).
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")


#: What the verification page shows of a certificate, read with it: its holder, course type, the certificate it
#: refreshes and its completion's course (one statement), then the course's sessions (a second).
_AS_SHOWN = (joinedload(Certificate.person), joinedload(Certificate.course_type), joinedload(Certificate.refreshes),
             joinedload(Certificate.completion).joinedload(Completion.course).selectinload(Course.sessions))


def by_token(token: str) -> Certificate:
    certificate = db.session.scalar(
        sa.select(Certificate).where(Certificate.verification_token == token).options(*_AS_SHOWN)
    ) if token and _TOKEN.fullmatch(token) else None
    if certificate is None:
        raise NotFound("There is no certificate at this address: check the link")
    return certificate


# Phones type typographic apostrophes and dashes (O’Neill, Smith–Jones): read them as the plain ones.
_NAME_PUNCTUATION = str.maketrans({"\u2018": "'", "\u2019": "'", "\u02bc": "'", "`": "'", "\u00b4": "'",
                                   "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-"})


def comparable_name(name: str | None) -> str:
    """A name as compared by the checker: Unicode-normalised, case, spacing and apostrophe style ignored."""
    text = unicodedata.normalize("NFKC", name or "").translate(_NAME_PUNCTUATION)
    return " ".join(text.split()).casefold()


def find_by_number_and_surname(number: str, surname: str) -> Certificate:
    """The certificate with this number whose holder has this surname (case and spacing ignored)."""
    wanted = normalise_number(number)
    if not NUMBER_FORMAT.match(wanted) and not re.match(r"^MR\d{4}-\d{7}$", wanted):
        raise DomainError("Enter the certificate number as it is printed, like MR2026-7K3Q-9XHD", field="number")
    surname = comparable_name(surname)
    if not surname:
        raise DomainError("Enter the certificate holder's last name", field="surname")
    certificate = db.session.scalar(
        sa.select(Certificate).where(Certificate.number == wanted).options(*_AS_SHOWN)
    )
    # One answer for a wrong number and for a wrong surname, so the form reveals nothing about either.
    if certificate is None or (not holder_erased(certificate.person)
                               and comparable_name(certificate.person.last_name) != surname):
        raise NotFound("No certificate matches that number and last name: check both and try again",
                       field="number")
    return certificate


def find_by_number(number: str) -> Certificate | None:
    """For coordinators: the certificate with this number, if any."""
    return db.session.scalar(sa.select(Certificate).where(Certificate.number == normalise_number(number)))


def instructors_of(certificate: Certificate) -> list[str]:
    course = certificate.completion.course
    return [i.person.full_name for i in course.instructors] if course else []


def course_dates(certificate: Certificate) -> list[date]:
    course = certificate.completion.course
    if course is None:
        return [certificate.completion.completed_on]
    return [to_london(s.starts_at).date() for s in course.sessions]
