"""The programme's settings: target people, start and end dates, target region, course-type counting.

Seeded from ``MHFA_TARGET_PEOPLE``, ``MHFA_TARGET_START`` and ``MHFA_TARGET_END`` the first time
they are needed; then kept in the database and edited by a coordinator or admin (audited), so
another region can run its own programme. The target region is the set of council areas flagged
``in_target_region`` (the seven WMCA constituent councils by default).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import current_app

from mhfa import dates
from mhfa.areas.models import CouncilArea
from mhfa.audit.models import AuditEvent
from mhfa.courses.models import CourseType
from mhfa.errors import DomainError
from mhfa.extensions import db
from mhfa.reach.models import ProgrammeSettings

MAX_TARGET = 100_000_000


def current_settings(*, persist: bool = False) -> ProgrammeSettings:
    """The programme's settings; until saved, the configuration's (added to the session when ``persist``)."""
    found = db.session.scalar(sa.select(ProgrammeSettings).order_by(ProgrammeSettings.id).limit(1))
    if found is None:
        found = settings_from_config()
        if persist:
            db.session.add(found)
            db.session.flush()
    return found


def settings_from_config() -> ProgrammeSettings:
    cfg = current_app.config
    return ProgrammeSettings(target_people=cfg["MHFA_TARGET_PEOPLE"], start_on=cfg["MHFA_TARGET_START"],
                             end_on=cfg["MHFA_TARGET_END"], note="", bank_account_name="", bank_sort_code="",
                             bank_account_number="", payment_terms_days=None, offer_window_days=7, offer_hours=24,
                             no_show_spends_place=True)


def region_area_ids() -> set[int]:
    return set(db.session.scalars(sa.select(CouncilArea.id).where(CouncilArea.in_target_region.is_(True))))


@dataclass
class SettingsChanges:
    target_people: int
    start_on: date
    end_on: date
    region_area_ids: set[int]
    counting_type_ids: set[int]
    awareness_type_ids: set[int]
    payment: PaymentDetails | None = None
    bookings: BookingRules | None = None


@dataclass
class BookingRules:
    """When a freed seat is offered rather than given, for how long, and what a no-show on an employer's place
    costs it (``mhfa.bookings.offers``, ``mhfa.attendance``)."""

    offer_window_days: int = 7
    offer_hours: int = 24
    no_show_spends_place: bool = True


def _checked_rules(rules: BookingRules) -> BookingRules:
    if not 0 <= rules.offer_window_days <= 60:
        raise DomainError("The offer window must be between 0 and 60 days", field="offer_window_days")
    if not 1 <= rules.offer_hours <= 168:
        raise DomainError("An offer must last between 1 and 168 hours", field="offer_hours")
    return rules


@dataclass
class PaymentDetails:
    """How employers pay their invoices: printed on each one, with its number as the reference."""

    bank_account_name: str = ""
    bank_sort_code: str = ""
    bank_account_number: str = ""
    payment_terms_days: int | None = None


def _checked_payment(details: PaymentDetails) -> PaymentDetails:
    name = " ".join((details.bank_account_name or "").split())
    sort_code = "".join(ch for ch in (details.bank_sort_code or "") if ch not in " -")
    account = "".join(ch for ch in (details.bank_account_number or "") if ch != " ")
    if len(name) > 120:
        raise DomainError("The account name must be 120 characters or fewer", field="bank_account_name")
    if sort_code and not (len(sort_code) == 6 and sort_code.isascii() and sort_code.isdigit()):
        raise DomainError("Enter the sort code as 6 digits, like 20-00-00", field="bank_sort_code")
    if account and not (len(account) == 8 and account.isascii() and account.isdigit()):
        raise DomainError("Enter the account number as 8 digits", field="bank_account_number")
    if bool(sort_code) != bool(account) or (name and not account):
        raise DomainError("Enter the account name, sort code and account number together, or none of them",
                          field="bank_account_name")
    terms = details.payment_terms_days
    if terms is not None and not 0 <= terms <= 120:
        raise DomainError("Payment terms must be between 0 and 120 days", field="payment_terms_days")
    if sort_code:
        sort_code = f"{sort_code[:2]}-{sort_code[2:4]}-{sort_code[4:]}"
    return PaymentDetails(name, sort_code, account, terms)


def update_settings(changes: SettingsChanges, by=None) -> ProgrammeSettings:
    """Save the programme's settings (refused with a reason on the field at fault); audited."""
    if not 0 < changes.target_people <= MAX_TARGET:
        raise DomainError(f"Target people must be between 1 and {MAX_TARGET:,}", field="target_people")
    dates.PROGRAMME.check(changes.start_on, "Start date", field="start_on")
    dates.PROGRAMME.check(changes.end_on, "End date", field="end_on")
    if changes.end_on <= changes.start_on:
        raise DomainError("End date must be after the start date", field="end_on")
    areas = db.session.scalars(sa.select(CouncilArea)).all()
    known = {a.id for a in areas}
    if not changes.region_area_ids or not changes.region_area_ids <= known:
        raise DomainError("Choose at least one council area for the target region", field="region")
    types = db.session.scalars(sa.select(CourseType)).all()
    payment = _checked_payment(changes.payment) if changes.payment is not None else None
    rules = _checked_rules(changes.bookings) if changes.bookings is not None else None
    settings = current_settings(persist=True)
    before = _snapshot(settings, areas, types)
    if payment is not None:
        settings.bank_account_name, settings.bank_sort_code = payment.bank_account_name, payment.bank_sort_code
        settings.bank_account_number = payment.bank_account_number
        settings.payment_terms_days = payment.payment_terms_days
    if rules is not None:
        settings.offer_window_days, settings.offer_hours = rules.offer_window_days, rules.offer_hours
        settings.no_show_spends_place = rules.no_show_spends_place
    settings.target_people = changes.target_people
    settings.start_on, settings.end_on = changes.start_on, changes.end_on
    for area in areas:
        area.in_target_region = area.id in changes.region_area_ids
    for kind in types:
        kind.counts_toward_target = kind.id in changes.counting_type_ids
        kind.is_awareness = kind.id in changes.awareness_type_ids
    after = _snapshot(settings, areas, types)
    if after != before:
        settings.note = "" if after["target_people"] != before["target_people"] else settings.note
        db.session.add(AuditEvent(action="programme.settings_changed", entity_type="programme_settings",
                                  entity_id=settings.id, actor_user_id=getattr(by, "id", None),
                                  details={"before": before, "after": after}))
    db.session.flush()
    return settings


def _snapshot(settings: ProgrammeSettings, areas, types) -> dict:
    return {
        "target_people": settings.target_people,
        "start_on": settings.start_on.isoformat(),
        "end_on": settings.end_on.isoformat(),
        "region": sorted(a.gss_code for a in areas if a.in_target_region),
        "counting": sorted(t.code for t in types if t.counts_toward_target),
        "awareness": sorted(t.code for t in types if t.is_awareness),
        "payment": [settings.bank_account_name or "", settings.bank_sort_code or "", settings.bank_account_number or "",
                    settings.payment_terms_days],
        "bookings": [settings.offer_window_days, settings.offer_hours, settings.no_show_spends_place],
    }


def record_scaled_target(target_people: int, note: str) -> ProgrammeSettings:
    """Set a target scaled to a demo history, with the note the dashboard shows beside it."""
    settings = current_settings(persist=True)
    settings.target_people = max(1, target_people)
    settings.note = note
    db.session.flush()
    return settings
