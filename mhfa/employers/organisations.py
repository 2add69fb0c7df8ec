"""Organisations and the contacts who speak for them.

A contact registers the organisation; a coordinator approves it, and only then can it buy places.
An organisation has several contacts: added by the programme team, or invited by a contact by email
(the link carries an unguessable token, stored only as a digest) and confirmed by the invitee signed
in with that address. An invitation can be used for ``MHFA_INVITATION_DAYS`` (14) days from when it
was sent (its row's ``created_at``); an expired one is sent again as a new invitation (a new row, a
new token) by the invitee from the expired link, by a contact or by the programme team. Which
organisation a contact speaks for is this relation, never the employer a person picks on their own
profile. Granting or removing the employer contact role is audited.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from mhfa.areas.models import CouncilArea
from mhfa.audit import services as audit
from mhfa.auth.models import Role, User
from mhfa.auth.services import user_by_email
from mhfa.employers import emails, lookup
from mhfa.employers.models import Employer, EmployerContact, EmployerStatus, Sector, SizeBand
from mhfa.errors import Conflict, DomainError, Forbidden, Gone, NotFound
from mhfa.extensions import db
from mhfa.names import normalise_email
from mhfa.timeutil import format_london, utcnow


def council_areas() -> list[CouncilArea]:
    """The council areas an organisation can be in, by name (the organisation form's choices)."""
    return list(db.session.scalars(sa.select(CouncilArea).order_by(CouncilArea.name)))

#: Bands by staff headcount (ONS): the band a headcount falls in.
_BAND_LIMITS = ((SizeBand.MICRO, 0, 9), (SizeBand.SMALL, 10, 49), (SizeBand.MEDIUM, 50, 249),
                (SizeBand.LARGE, 250, None))


@dataclass
class OrganisationDetails:
    name: str
    sector: Sector | None
    size_band: SizeBand | None
    headcount: int | None
    council_area_id: int | None
    wellbeing_commitment_signatory: bool = False
    billing_address: str = ""
    requires_purchase_order: bool = False


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check(details: OrganisationDetails, employer: Employer | None = None) -> str:
    name = " ".join((details.name or "").split())
    if not name:
        raise DomainError("Enter the organisation's name", field="name")
    if len(name) > 200:
        raise DomainError("Organisation name must be 200 characters or fewer", field="name")
    clash = db.session.scalar(sa.select(Employer).where(sa.func.lower(Employer.name) == name.lower()))
    if clash is not None and clash is not employer:
        raise Conflict(f"{name} is already registered: ask one of its contacts to invite you", field="name")
    if details.sector is None:
        raise DomainError("Choose the organisation's sector", field="sector")
    if details.size_band is None:
        raise DomainError("Choose the organisation's size", field="size_band")
    if details.headcount is None or details.headcount < 1:
        raise DomainError("Enter the number of staff, like 120", field="headcount")
    if details.headcount > 2_000_000:
        raise DomainError("Number of staff must be 2,000,000 or fewer", field="headcount")
    for band, low, high in _BAND_LIMITS:
        if band is details.size_band and (details.headcount < low or (high is not None and details.headcount > high)):
            raise DomainError(f"{details.headcount:,} staff is not {band.label.lower()}: check the size or the number",
                              field="headcount")
    if details.council_area_id is None or lookup.row(CouncilArea, details.council_area_id) is None:
        raise DomainError("Choose the council area the organisation is in", field="council_area")
    if len(details.billing_address or "") > 1000:
        raise DomainError("Billing address must be 1,000 characters or fewer", field="billing_address")
    return name


def _apply(employer: Employer, details: OrganisationDetails, name: str) -> None:
    employer.name = name
    employer.sector = details.sector
    employer.size_band = details.size_band
    employer.headcount = details.headcount
    employer.council_area_id = details.council_area_id
    # An award at any level means a signatory: the flag cannot be cleared while one is recorded.
    employer.wellbeing_commitment_signatory = bool(details.wellbeing_commitment_signatory) or (
        employer.id is not None and employer.commitment is not None)
    employer.billing_address = (details.billing_address or "").strip()
    employer.requires_purchase_order = bool(details.requires_purchase_order)


# --- who speaks for which organisation ---------------------------------------------------------

def contact_row(user) -> EmployerContact | None:
    """The user's confirmed contact row (any status of organisation), or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(sa.select(EmployerContact).where(
        EmployerContact.user_id == user.id, EmployerContact.confirmed_at.is_not(None)))


def organisation_of(user) -> Employer | None:
    """The approved organisation an employer contact speaks for, or None."""
    if not getattr(user, "is_authenticated", False) or not user.has_role(Role.EMPLOYER):
        return None
    row = contact_row(user)
    if row is None or not row.employer.is_approved:
        return None
    return row.employer


def require_organisation(user) -> Employer:
    employer = organisation_of(user)
    if employer is None:
        raise NotFound("Your account does not speak for an approved organisation.")
    return employer


# --- registering and approving -------------------------------------------------------------------

def register_organisation(user: User, details: OrganisationDetails) -> Employer:
    """A signed-in person registers their organisation; it waits for a coordinator's approval."""
    if user.email_confirmed_at is None:
        raise DomainError("Confirm your email address before you register an organisation", field="name")
    if contact_row(user) is not None:
        raise Conflict(f"You already speak for {contact_row(user).employer.name}", field="name")
    name = _check(details)
    employer = Employer(status=EmployerStatus.PENDING)
    _apply(employer, details, name)
    db.session.add(employer)
    db.session.flush()
    db.session.add(EmployerContact(employer=employer, user=user, email=user.email, confirmed_at=utcnow()))
    db.session.flush()
    audit.record("employer.registered", employer, user, name=name)
    emails.registration_received(employer)
    return employer


def update_organisation(employer: Employer, details: OrganisationDetails, *, by: User) -> Employer:
    name = _check(details, employer)
    before = {"name": employer.name, "requires_purchase_order": employer.requires_purchase_order}
    _apply(employer, details, name)
    db.session.flush()
    audit.record("employer.updated", employer, by, before=before, name=name,
                 requires_purchase_order=employer.requires_purchase_order)
    return employer


def _grant_contact_role(user: User, by: User | None, employer: Employer) -> None:
    if not user.has_role(Role.EMPLOYER):
        user.grant(Role.EMPLOYER)
        audit.record("user.role_granted", user, by, role=Role.EMPLOYER.value, employer_id=employer.id)


def approve_organisation(employer: Employer, *, by: User) -> Employer:
    """Approve a registration: its confirmed contacts become employer contacts and are told."""
    if employer.status is EmployerStatus.APPROVED:
        raise Conflict(f"{employer.name} is already approved")
    employer.status = EmployerStatus.APPROVED
    employer.approved_at = utcnow()
    for contact in employer.contacts:
        if contact.is_confirmed:
            _grant_contact_role(contact.user, by, employer)
            emails.organisation_approved(contact)
    db.session.flush()
    audit.record("employer.approved", employer, by)
    return employer


def reject_organisation(employer: Employer, *, by: User, reason: str) -> Employer:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Enter the reason, to tell the contact", field="reason")
    if employer.status is not EmployerStatus.PENDING:
        raise Conflict(f"{employer.name} is not waiting for approval")
    employer.status = EmployerStatus.REJECTED
    for contact in employer.contacts:
        if contact.is_confirmed:
            emails.organisation_rejected(contact, reason[:500])
    db.session.flush()
    audit.record("employer.rejected", employer, by, reason=reason[:500])
    return employer


def organisations(status: EmployerStatus | None = None) -> list[Employer]:
    query = sa.select(Employer).order_by(Employer.status != EmployerStatus.PENDING, Employer.name)
    if status is not None:
        query = query.where(Employer.status == status)
    return list(db.session.scalars(query))


def pending_count() -> int:
    query = sa.select(sa.func.count(Employer.id)).where(Employer.status == EmployerStatus.PENDING)
    return db.session.scalar(query) or 0


# --- contacts -------------------------------------------------------------------------------------

def _check_email(email: str) -> str:
    email = normalise_email(email or "")
    if not email or "@" not in email or len(email) > 254:
        raise DomainError("Enter an email address in the correct format, like name@example.org", field="email")
    return email


def add_contact(employer: Employer, email: str, *, by: User) -> EmployerContact:
    """The programme team adds a contact: at once if the address has an account, else by invitation."""
    email = _check_email(email)
    user = user_by_email(email)
    if user is None:
        return invite_contact(employer, email, by=by)
    expired = _open_invitation(employer, email)
    if expired is not None and invitation_expired(expired):  # the account exists now: add them at once instead
        db.session.delete(expired)
        db.session.flush()
    _refuse_duplicate(employer, email, user)
    contact = EmployerContact(employer=employer, user=user, email=email, invited_by_user_id=by.id,
                              confirmed_at=utcnow())
    db.session.add(contact)
    if employer.is_approved:
        _grant_contact_role(user, by, employer)
    db.session.flush()
    audit.record("employer.contact_added", employer, by, contact_user_id=user.id, email=email)
    emails.contact_added(contact)
    return contact


def _open_invitation(employer: Employer, email: str) -> EmployerContact | None:
    return db.session.scalar(sa.select(EmployerContact).where(
        EmployerContact.employer_id == employer.id, EmployerContact.email == email))


def _refuse_duplicate(employer: Employer, email: str, user: User | None) -> None:
    existing = _open_invitation(employer, email)
    if existing is not None:
        raise Conflict(f"{email} is already a contact of {employer.name}" if existing.is_confirmed
                       else f"{email} has already been invited: they can use the link we emailed, "
                            f"until {format_london(invitation_expires_at(existing), '%-d %B %Y')}", field="email")
    if user is not None:
        elsewhere = contact_row(user)
        if elsewhere is not None:
            raise Conflict(f"{email} already speaks for {elsewhere.employer.name}", field="email")


def invitation_expires_at(contact: EmployerContact) -> datetime:
    """When an invitation's link stops working: ``MHFA_INVITATION_DAYS`` after it was sent."""
    sent = contact.created_at if contact.created_at.tzinfo else contact.created_at.replace(tzinfo=UTC)
    return sent + timedelta(days=current_app.config["MHFA_INVITATION_DAYS"])


def invitation_expired(contact: EmployerContact, now: datetime | None = None) -> bool:
    return not contact.is_confirmed and (now or utcnow()) >= invitation_expires_at(contact)


def _send_invitation(employer: Employer, email: str, *, inviter_id: int | None, by: User) -> EmployerContact:
    token = secrets.token_urlsafe(32)
    contact = EmployerContact(employer=employer, email=email, token_digest=_digest(token),
                              invited_by_user_id=inviter_id)
    db.session.add(contact)
    db.session.flush()
    emails.contact_invited(contact, token, by,
                           expires=format_london(invitation_expires_at(contact), "%-d %B %Y"))
    return contact


def invite_contact(employer: Employer, email: str, *, by: User) -> EmployerContact:
    """Email an invitation with a link; the invitee confirms it signed in with that address.

    Inviting an address whose invitation has expired sends it again."""
    email = _check_email(email)
    existing = _open_invitation(employer, email)
    if existing is not None and invitation_expired(existing):
        return renew_invitation(existing, by=by)
    _refuse_duplicate(employer, email, user_by_email(email))
    contact = _send_invitation(employer, email, inviter_id=by.id, by=by)
    audit.record("employer.contact_invited", employer, by, email=email)
    return contact


#: How soon an invitation can be sent again (so a button cannot make the service email an address without end).
RESEND_AFTER = timedelta(minutes=15)


def renew_invitation(contact: EmployerContact, *, by: User | None = None, now: datetime | None = None
                     ) -> EmployerContact:
    """Send an invitation not yet accepted again: a new invitation (new link, a new expiry), the old
    link no longer works. ``by`` is None when the invitee asks from their expired link."""
    if contact.is_confirmed:
        raise Conflict(f"{contact.email} has already accepted the invitation", field="email")
    sent = contact.created_at if contact.created_at.tzinfo else contact.created_at.replace(tzinfo=UTC)
    if (now or utcnow()) < sent + RESEND_AFTER:
        raise Conflict(f"An invitation was emailed to {contact.email} at {format_london(sent, '%H:%M')}: it can be "
                       f"sent again from {format_london(sent + RESEND_AFTER, '%H:%M')}", field="email")
    employer, email, inviter_id = contact.employer, contact.email, contact.invited_by_user_id
    inviter = by or (db.session.get(User, inviter_id) if inviter_id else None)
    db.session.delete(contact)
    db.session.flush()  # the old row goes before the new one takes its (organisation, email)
    db.session.expire(employer, ["contacts"])
    renewed = _send_invitation(employer, email, inviter_id=by.id if by else inviter_id, by=inviter)
    audit.record("employer.contact_invitation_renewed", employer, by, email=email)
    return renewed


def invitation(token: str) -> EmployerContact:
    """The open invitation a link names (expired or not), or NotFound (a used or unknown link names none)."""
    contact = db.session.scalar(sa.select(EmployerContact).where(
        EmployerContact.token_digest == _digest(token or ""), EmployerContact.confirmed_at.is_(None)))
    if contact is None:
        raise NotFound("This invitation link is not valid, has already been used, or was replaced by a newer one: "
                       "use the link in the latest invitation email, or ask the person who invited you.")
    return contact


def invitation_of(employer: Employer, contact_id: int) -> EmployerContact | None:
    """One of the organisation's invitations not yet accepted (another organisation's is not revealed)."""
    contact = lookup.row(EmployerContact, contact_id)
    if contact is None or contact.employer_id != employer.id or contact.is_confirmed:
        return None
    return contact


def expired_message(contact: EmployerContact) -> str:
    return (f"This invitation expired on {format_london(invitation_expires_at(contact), '%-d %B %Y')}. "
            f"We can email a new link to {contact.email}")


def accept_invitation(token: str, user: User) -> EmployerContact:
    contact = invitation(token)
    if invitation_expired(contact):
        raise Gone(expired_message(contact), field="token")
    if normalise_email(user.email) != contact.email:
        raise Forbidden(f"This invitation is for {contact.email}: sign in with that address to accept it",
                        field="token")
    if user.email_confirmed_at is None:
        raise DomainError("Confirm your email address first: use the link we emailed you", field="token")
    elsewhere = contact_row(user)
    if elsewhere is not None:
        raise Conflict(f"You already speak for {elsewhere.employer.name}", field="token")
    contact.user = user
    contact.confirmed_at = utcnow()
    contact.token_digest = None  # the link works once
    if contact.employer.is_approved:
        _grant_contact_role(user, None, contact.employer)
    db.session.flush()
    audit.record("employer.contact_confirmed", contact.employer, user, email=contact.email)
    return contact


def renew_expired_invitation(token: str) -> EmployerContact:
    """The invitee, from an expired link, asks for a new one: it goes to the invited address only."""
    contact = invitation(token)
    if not invitation_expired(contact):
        raise Conflict("This invitation has not expired: you can still accept it", field="token")
    return renew_invitation(contact)


def remove_contact(contact: EmployerContact, *, by: User) -> None:
    employer = contact.employer
    user = contact.user
    db.session.delete(contact)
    if user is not None and user.has_role(Role.EMPLOYER):
        user.revoke(Role.EMPLOYER)
        audit.record("user.role_revoked", user, by, role=Role.EMPLOYER.value, employer_id=employer.id)
    db.session.flush()
    audit.record("employer.contact_removed", employer, by, email=contact.email)
