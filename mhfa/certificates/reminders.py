"""Certificate-expiry reminders: ``MHFA_EXPIRY_REMINDER_DAYS`` before a certificate expires, once each,
unless its holder has renewed it since (the same course again, or its refresher)."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import aliased

from mhfa.certificates import emails
from mhfa.certificates.models import Certificate
from mhfa.courses.models import course_type_prerequisite
from mhfa.extensions import db
from mhfa.notify.reminders import claim, not_sent
from mhfa.people.models import Person
from mhfa.timeutil import LONDON

CERTIFICATE_EXPIRY = "certificate-expiry"


def due_expiry_reminders(today: date, days_before: int) -> list[Certificate]:
    """Valid certificates expiring within ``days_before`` days whose holder has not renewed them since."""
    later = aliased(Certificate)
    refresher_of_this = sa.select(course_type_prerequisite.c.course_type_id).where(
        course_type_prerequisite.c.prerequisite_type_id == Certificate.course_type_id
    )
    renewed = sa.exists().where(
        later.person_id == Certificate.person_id,
        later.id != Certificate.id,
        later.revoked_at.is_(None),
        later.issued_on > Certificate.issued_on,
        sa.or_(later.course_type_id == Certificate.course_type_id, later.course_type_id.in_(refresher_of_this)),
    )
    return list(db.session.scalars(
        sa.select(Certificate)
        .join(Person, Person.id == Certificate.person_id)
        .where(
            Certificate.revoked_at.is_(None),
            Certificate.expires_on >= today,
            Certificate.expires_on <= today + timedelta(days=days_before),
            Person.erased_at.is_(None),
            Person.email.is_not(None),
            ~renewed,
            not_sent(CERTIFICATE_EXPIRY, Certificate.id),
        )
        .order_by(Certificate.expires_on, Certificate.id)
    ))


def send_expiry_reminders(now: datetime) -> int:
    """Queue every due expiry reminder not sent before; returns how many (the caller commits)."""
    sent = 0
    days = current_app.config["MHFA_EXPIRY_REMINDER_DAYS"]
    for certificate in due_expiry_reminders(now.astimezone(LONDON).date(), days):
        if claim(CERTIFICATE_EXPIRY, certificate.id):
            emails.certificate_expiring(certificate)
            sent += 1
    return sent
