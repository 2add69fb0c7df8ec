"""The emails of the employers' journey: approvals, invitations, invoices and places for staff."""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app

from mhfa.notify.messages import absolute_url, send

if TYPE_CHECKING:
    from mhfa.auth.models import User
    from mhfa.employers.billing import CreditNote, Invoice
    from mhfa.employers.models import Employer, EmployerContact, Order, PlaceVoucher


def _programme_team() -> str:
    return current_app.config["MHFA_CONTACT_EMAIL"]


def registration_received(employer: Employer) -> None:
    send("employer_registration", to=_programme_team(), subject=f"New employer registration: {employer.name}",
         employer=employer, url=absolute_url("employers_manage.manage_organisation", employer_id=employer.id))


def order_received(order: Order) -> None:
    places = "1 place" if order.places == 1 else f"{order.places} places"
    send("employer_order", to=_programme_team(),
         subject=f"New employer order: {order.employer.name}, {places}", order=order,
         url=absolute_url("employers_manage.manage_order", order_id=order.id))


def organisation_approved(contact: EmployerContact) -> None:
    send("employer_approved", to=contact.email, subject=f"{contact.employer.name} is approved on MHFA Reach",
         contact=contact, url=absolute_url("employers.dashboard"))


def organisation_rejected(contact: EmployerContact, reason: str) -> None:
    send("employer_rejected", to=contact.email, subject=f"Your registration of {contact.employer.name}",
         contact=contact, reason=reason)


def contact_added(contact: EmployerContact) -> None:
    send("employer_contact_added", to=contact.email,
         subject=f"You are now a contact for {contact.employer.name} on MHFA Reach",
         contact=contact, url=absolute_url("employers.dashboard"))


def contact_invited(contact: EmployerContact, token: str, by: User | None, *, expires: str) -> None:
    send("employer_invitation", to=contact.email,
         subject=f"Join {contact.employer.name} on MHFA Reach", contact=contact, inviter=by, expires=expires,
         url=absolute_url("employers.accept_invitation", token=token))


def credit_note_issued(order: Order, credit: CreditNote) -> None:
    for contact in order.employer.contacts:
        if contact.is_confirmed:
            send("employer_credit_note", to=contact.email,
                 subject=f"Credit note {credit.number} for invoice {credit.invoice.number} from MHFA Reach",
                 order=order, credit=credit,
                 url=absolute_url("employers.credit_note_pdf", order_id=order.id, credit_note_id=credit.id))


def order_invoiced(order: Order, invoice: Invoice) -> None:
    for contact in order.employer.contacts:
        if contact.is_confirmed:
            send("employer_invoice", to=contact.email, subject=f"Invoice {invoice.number} from MHFA Reach",
                 order=order, invoice=invoice,
                 url=absolute_url("employers.invoice_pdf", order_id=order.id))


def place_offered(voucher: PlaceVoucher) -> None:
    """To the owner of the account a place was given to: accept or decline it (nothing is booked till then)."""
    person = voucher.assigned_person
    send("employer_place_offer", to=person.email if person else None,
         subject=f"{voucher.order.employer.name} offers you a place: {voucher.order.course_type.name}",
         voucher=voucher, person=person, url=absolute_url("places.claim_place", code=voucher.code),
         offers_url=absolute_url("places.place_offers"))


def offer_answered(voucher: PlaceVoucher) -> None:
    """To the organisation's contacts: the person they offered a place to accepted or declined it."""
    answer = "accepted" if voucher.offer.value == "accepted" else "declined"
    for contact in voucher.order.employer.contacts:
        if contact.is_confirmed:
            send("employer_place_answer", to=contact.email,
                 subject=f"{voucher.given_name} {answer} the place on {voucher.order.course_type.name}",
                 voucher=voucher, answer=answer, url=absolute_url("employers.order", order_id=voucher.order_id))


def place_for_staff(voucher: PlaceVoucher) -> None:
    person = voucher.assigned_person
    send("employer_place", to=person.email if person else None,
         subject=f"{voucher.order.employer.name} has a place for you: {voucher.order.course_type.name}",
         voucher=voucher, person=person, url=absolute_url("places.claim_place", code=voucher.code))


def commitment_expiring(commitment, contacts: list[EmployerContact]) -> None:
    for contact in contacts:
        send("employer_commitment_expiring", to=contact.email,
             subject=f"{commitment.employer.name}'s {commitment.level.label} wellbeing award expires on "
                     f"{commitment.expires_on:%-d %B %Y}",
             commitment=commitment, url=absolute_url("commitments.commitment"))
