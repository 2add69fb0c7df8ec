"""The Thrive at Work Workplace Wellbeing Commitment: an organisation's award, its check, the public list.

An organisation holds at most one award (Foundation, Bronze, Silver or Gold), valid three years from
the date it was awarded unless another expiry is given. A contact may record it; it then waits for the
programme team's check. A coordinator records, changes or verifies it. Every change is written to the
audit log. An award at any level makes the organisation a signatory of the commitment (the older flag
``Employer.wellbeing_commitment_signatory`` is kept true while an award is recorded).

An organisation opts in, through its contact or a coordinator, to appear on the public list of
committed employers; the list shows only verified awards that have not expired.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from mhfa import dates
from mhfa.audit import services as audit
from mhfa.auth.models import User
from mhfa.employers import emails
from mhfa.employers.awards import CommitmentLevel, WellbeingCommitment
from mhfa.employers.models import Employer, EmployerStatus
from mhfa.errors import Conflict, DomainError, NotFound
from mhfa.extensions import db
from mhfa.notify.reminders import claim
from mhfa.timeutil import LONDON, london_today, utcnow

#: An award lasts three years unless the programme says otherwise.
AWARD_YEARS = 3
#: Contacts are reminded this many days before their award expires.
REMINDER_DAYS = 90
#: The longest an award may be recorded for.
LONGEST_AWARD_YEARS = 5
_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 /._-]*$")


@dataclass
class CommitmentDetails:
    level: CommitmentLevel | None
    awarded_on: date | None
    expires_on: date | None = None   # None: three years after the award
    reference: str = ""


def years_after(day: date, years: int) -> date:
    """The same day ``years`` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def default_expiry(awarded_on: date) -> date:
    """The day before the award's third anniversary: valid for three whole years."""
    return years_after(awarded_on, AWARD_YEARS) - timedelta(days=1)


def _checked(details: CommitmentDetails) -> tuple[CommitmentLevel, date, date, str]:
    if not isinstance(details.level, CommitmentLevel):
        raise DomainError("Choose the award level", field="level")
    if details.awarded_on is None:
        raise DomainError("Enter the date the award was made, like 31/03/2025", field="awarded_on")
    awarded = dates.PROGRAMME.up_to_today().check(details.awarded_on, "The award date", field="awarded_on")
    expires = details.expires_on or default_expiry(awarded)
    dates.PROGRAMME.check(expires, "The expiry date", field="expires_on")
    if expires <= awarded:
        raise DomainError("The expiry date must be after the award date", field="expires_on")
    if expires > years_after(awarded, LONGEST_AWARD_YEARS):
        raise DomainError(f"An award lasts at most {LONGEST_AWARD_YEARS} years: check the expiry date",
                          field="expires_on")
    reference = " ".join((details.reference or "").split())
    if len(reference) > 60:
        raise DomainError("The reference must be 60 characters or fewer", field="reference")
    if reference and not _REFERENCE.match(reference):
        raise DomainError("Enter the reference using letters, numbers, spaces, hyphens, dots or slashes only",
                          field="reference")
    return details.level, awarded, expires, reference


def _state(commitment: WellbeingCommitment) -> dict:
    return {"level": commitment.level.value, "awarded_on": commitment.awarded_on.isoformat(),
            "expires_on": commitment.expires_on.isoformat(), "reference": commitment.reference,
            "verified": commitment.is_verified}


def record_commitment(employer: Employer, details: CommitmentDetails, by: User, *,
                      verify: bool) -> WellbeingCommitment:
    """Record or change the organisation's award. ``verify``: a coordinator's entry, verified by them;
    otherwise a contact's, which waits for the programme team's check (again, if it was verified)."""
    level, awarded, expires, reference = _checked(details)
    commitment = employer.commitment
    before = _state(commitment) if commitment is not None else None
    if commitment is None:
        commitment = WellbeingCommitment(employer=employer, level=level, awarded_on=awarded, expires_on=expires)
        db.session.add(commitment)
    unchanged = before is not None and (commitment.level, commitment.awarded_on, commitment.expires_on,
                                        commitment.reference) == (level, awarded, expires, reference)
    if unchanged and (commitment.is_verified or not verify):
        raise Conflict("Nothing has changed: the award is recorded like that already", field="level")
    commitment.level, commitment.awarded_on, commitment.expires_on = level, awarded, expires
    commitment.reference = reference
    if verify:
        commitment.verified_by_user_id, commitment.verified_at = by.id, utcnow()
    else:
        commitment.verified_by_user_id, commitment.verified_at = None, None
    employer.wellbeing_commitment_signatory = True
    db.session.flush()
    audit.record("employer.commitment_recorded", employer, by, before=before, after=_state(commitment))
    return commitment


def verify_commitment(employer: Employer, by: User) -> WellbeingCommitment:
    """The programme team has checked the award a contact recorded."""
    commitment = employer.commitment
    if commitment is None:
        raise NotFound(f"{employer.name} has no award recorded.")
    if commitment.is_verified:
        raise Conflict(f"{employer.name}'s award is verified already.")
    commitment.verified_by_user_id, commitment.verified_at = by.id, utcnow()
    db.session.flush()
    audit.record("employer.commitment_verified", employer, by, **_state(commitment))
    return commitment


def set_listing(employer: Employer, listed: bool, by: User) -> WellbeingCommitment:
    """Opt the organisation in to (or out of) the public list of committed employers."""
    commitment = employer.commitment
    if commitment is None:
        raise DomainError("Record the organisation's award before choosing to be listed", field="listed")
    if commitment.listed_publicly == bool(listed):
        raise Conflict("The organisation is listed like that already" if listed
                       else "The organisation is not on the public list", field="listed")
    commitment.listed_publicly = bool(listed)
    db.session.flush()
    audit.record("employer.commitment_listing", employer, by, listed=bool(listed))
    return commitment


@dataclass
class Standing:
    """What an organisation's award means today, in words for its pages."""

    commitment: WellbeingCommitment | None
    state: str         # none, unverified, current, expiring, expired
    label: str
    days_left: int | None


def standing(employer: Employer, today: date | None = None) -> Standing:
    today = today or london_today()
    commitment = employer.commitment
    if commitment is None:
        return Standing(None, "none", "No award recorded", None)
    days_left = (commitment.expires_on - today).days
    if commitment.expires_on < today:
        return Standing(commitment, "expired", f"{commitment.level.label} award expired", days_left)
    if not commitment.is_verified:
        return Standing(commitment, "unverified", f"{commitment.level.label}: waiting for the programme team's check",
                        days_left)
    if days_left <= REMINDER_DAYS:
        return Standing(commitment, "expiring", f"{commitment.level.label}: expires in {days_left} "
                                                f"day{'s' if days_left != 1 else ''}", days_left)
    return Standing(commitment, "current", commitment.level.label, days_left)


def counting(today: date):
    """The condition on WellbeingCommitment for an award that counts today: verified, not expired."""
    return sa.and_(WellbeingCommitment.verified_at.is_not(None), WellbeingCommitment.awarded_on <= today,
                   WellbeingCommitment.expires_on >= today)


def public_list(today: date | None = None) -> list[WellbeingCommitment]:
    """Approved organisations that opted in with a verified, unexpired award: highest level first, by name."""
    today = today or london_today()
    rows = db.session.scalars(
        sa.select(WellbeingCommitment).join(Employer, Employer.id == WellbeingCommitment.employer_id)
        .where(counting(today), WellbeingCommitment.listed_publicly.is_(True),
               Employer.status == EmployerStatus.APPROVED)
        .options(joinedload(WellbeingCommitment.employer).joinedload(Employer.council_area)))
    return sorted(rows, key=lambda c: (-c.level.rank, c.employer.name.lower()))


def find_commitment(employer: Employer) -> WellbeingCommitment:
    if employer.commitment is None:
        raise NotFound(f"{employer.name} has no award recorded.")
    return employer.commitment


# --- reminders ------------------------------------------------------------------------------------

def _reminder_kind(commitment: WellbeingCommitment) -> str:
    """One reminder per award and expiry date: a renewed award (a new expiry) is reminded about again."""
    return f"commitment-expiry-{commitment.expires_on.isoformat()}"


def due_reminders(today: date) -> list[WellbeingCommitment]:
    """Awards that expire within ``REMINDER_DAYS`` days (and have not yet), of approved organisations."""
    return list(db.session.scalars(
        sa.select(WellbeingCommitment).join(Employer, Employer.id == WellbeingCommitment.employer_id)
        .where(WellbeingCommitment.expires_on >= today,
               WellbeingCommitment.expires_on <= today + timedelta(days=REMINDER_DAYS),
               Employer.status == EmployerStatus.APPROVED)
        .options(joinedload(WellbeingCommitment.employer).selectinload(Employer.contacts))
        .order_by(WellbeingCommitment.expires_on, WellbeingCommitment.id)))


def send_expiry_reminders(now) -> int:
    """Email each organisation's confirmed contacts, once per award, ``REMINDER_DAYS`` days before it
    expires; returns how many organisations were reminded (the caller commits)."""
    sent = 0
    for commitment in due_reminders(now.astimezone(LONDON).date()):
        contacts = [c for c in commitment.employer.contacts if c.is_confirmed]
        if contacts and claim(_reminder_kind(commitment), commitment.id):
            emails.commitment_expiring(commitment, contacts)
            sent += 1
    return sent
