"""The ``flask mhfa send-reminders`` job (cron): every area's due reminders, each sent once.

The reminders live beside their area; this module only runs them together, so it sits with the
application shell (like ``mhfa.cli``) and may call any area.
"""
from __future__ import annotations

from datetime import datetime

from mhfa.bookings.offers import expire_due_offers
from mhfa.bookings.reminders import send_course_reminders
from mhfa.certificates.reminders import send_expiry_reminders
from mhfa.courses.standing import send_licence_reminders
from mhfa.employers.commitments import send_expiry_reminders as send_commitment_reminders
from mhfa.outcomes.followups import send_follow_ups
from mhfa.timeutil import utcnow


def send_due_reminders(now: datetime | None = None) -> dict[str, int]:
    """Queue every due reminder not sent before; the caller commits (and the emails then go)."""
    now = now or utcnow()
    return {"offers_expired": expire_due_offers(now), "course": send_course_reminders(now),
            "certificate": send_expiry_reminders(now), "follow_up": send_follow_ups(now),
            "commitment": send_commitment_reminders(now), "instructor_licence": send_licence_reminders(now)}
