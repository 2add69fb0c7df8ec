"""Migrating a database with bookings in it: 2026_12_07_05 fills each course's kept seats taken from its bookings and
from then on the database keeps it; its downgrade takes the column and the triggers away. Both backends."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from mhfa.bookings.models import BookingStatus
from mhfa.extensions import db
from mhfa.timeutil import utcnow
from tests import factories
from tests.test_migrations_status_index import fresh_database_url, migrating_app  # noqa: F401 (a fixture)

SEATS = sa.text("SELECT id, seats_taken FROM course ORDER BY id")


def test_the_seats_taken_are_counted_when_migrating_and_kept_afterwards(fresh_database_url, tmp_path):  # noqa: F811
    with migrating_app(fresh_database_url, tmp_path):
        upgrade()
        factories.load_reference()
        busy, quiet = factories.course(capacity=4), factories.course(capacity=4)
        for status in (BookingStatus.CONFIRMED, BookingStatus.CONFIRMED, BookingStatus.WAITLISTED):
            factories.booking_on(busy, status=status)
        factories.booking_on(busy, status=BookingStatus.WAITLISTED, offer_expires_at=utcnow() + timedelta(days=1))
        factories.booking_on(quiet, status=BookingStatus.CANCELLED)
        db.session.commit()
        ids = (busy.id, quiet.id)
        db.session.remove()

        downgrade(revision="2026_12_07_04")
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("course")}
        assert "seats_taken" not in columns
        db.session.execute(sa.text("UPDATE booking SET status = 'confirmed' WHERE course_id = :id"), {"id": ids[1]})
        db.session.commit()  # written with no triggers: the upgrade counts it
        db.session.remove()

        upgrade()
        assert db.session.execute(SEATS).all() == [(ids[0], 3), (ids[1], 1)]
        db.session.execute(sa.text("UPDATE booking SET status = 'cancelled' WHERE course_id = :id"), {"id": ids[0]})
        assert db.session.execute(SEATS).all() == [(ids[0], 0), (ids[1], 1)]
        db.session.rollback()
