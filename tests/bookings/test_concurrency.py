"""Capacity is never exceeded, whatever the concurrency.

More than a hundred people book a 16-place course at the same moment through the API, each from
its own thread with its own app context, database session and connection. On PostgreSQL the seat
check waits on the course row lock (``SELECT … FOR UPDATE``); on SQLite on the database write lock.
Exactly 16 get a place and everybody else is on the waiting list, in the order they got the lock.

The PostgreSQL server is shared with other test runs, so the engine for these threads holds at most
``MHFA_CONCURRENCY_CONNECTIONS`` (default 50) connections at once; threads beyond that wait for a
connection, as requests do behind a real pool, and then race for the lock like the rest.
"""
from __future__ import annotations

import functools
import os
import threading

import pytest
import sqlalchemy as sa

from mhfa.auth.services import issue_api_token
from mhfa.bookings import services, vouchers
from mhfa.bookings.models import Booking, BookingStatus
from mhfa.extensions import db
from mhfa.people.models import Person
from tests import factories, races

PEOPLE = 120
PLACES = 16
CONNECTIONS = int(os.environ.get("MHFA_CONCURRENCY_CONNECTIONS", "50"))

pytestmark = pytest.mark.slow


@pytest.fixture()
def crowd_app(app_ctx, smtp):
    """A second app on the same database and mail server, with a pool big enough for the crowd."""
    with races.app_beside(app_ctx, *races.MAIL, "MHFA_DELIVER_AFTER_COMMIT", pool_size=CONNECTIONS,
                          max_overflow=0, pool_timeout=120) as application:
        yield application


def _people_with_tokens(count: int) -> list[tuple[int, str]]:
    """``count`` adults with confirmed accounts and API tokens (without slow password hashing)."""
    users = factories.trainee_accounts(count, "Crowd", "Member")
    tokens = [(user.person_id, issue_api_token(user)) for user in users]
    db.session.commit()
    return tokens


def _fire(application, url: str, tokens: list[str]) -> list[tuple[str, int, dict]]:
    """POST ``url`` once per token, all threads released at the same moment; (token, status, body) each."""
    results: list[tuple[str, int, dict]] = []
    lock = threading.Lock()

    def attempt(token: str) -> None:
        response = application.test_client().post(url, headers={"Authorization": f"Bearer {token}"})
        with lock:
            results.append((token, response.status_code, response.get_json()))

    races.together([functools.partial(attempt, token) for token in tokens], timeout=180, what="a booking thread")
    return results


def test_a_crowd_of_simultaneous_bookings_never_oversells(app_ctx, crowd_app, smtp):
    course = factories.course(capacity=PLACES)
    course_id = course.id
    people = _people_with_tokens(PEOPLE)
    results = _fire(crowd_app, f"/api/v1/courses/{course_id}/bookings", [token for _, token in people])

    statuses = sorted(status for _, status, _ in results)
    assert len(results) == PEOPLE
    assert statuses == [201] * PLACES + [202] * (PEOPLE - PLACES), {s: statuses.count(s) for s in set(statuses)}

    db.session.expire_all()
    bookings = db.session.scalars(sa.select(Booking).where(Booking.course_id == course_id)).all()
    confirmed = [b for b in bookings if b.status is BookingStatus.CONFIRMED]
    waiting = sorted((b for b in bookings if b.status is BookingStatus.WAITLISTED),
                     key=lambda b: (b.waitlisted_at, b.id))
    assert len(confirmed) == PLACES and len(waiting) == PEOPLE - PLACES
    assert len({b.person_id for b in bookings}) == PEOPLE == len(bookings)  # nobody twice, nobody missing

    # Arrival (lock) order: every seat went before anyone was waitlisted, and the waiting list's
    # order (waitlisted_at, id) is the order the rows were written under the lock.
    assert max(b.id for b in confirmed) < min(b.id for b in waiting)
    assert max(b.confirmed_at for b in confirmed) <= min(b.waitlisted_at for b in waiting)
    assert [b.id for b in waiting] == sorted(b.id for b in waiting)
    positions = services.waiting_positions(waiting)
    assert [positions[b.id] for b in waiting] == list(range(1, PEOPLE - PLACES + 1))
    reported = sorted(body["waiting_list_position"] for _, status, body in results if status == 202)
    assert reported == list(range(1, PEOPLE - PLACES + 1))  # each trainee was told a distinct position
    by_id = {body["id"]: body["waiting_list_position"] for _, status, body in results if status == 202}
    assert all(by_id[b.id] == positions[b.id] for b in waiting)

    # One email each, after each commit: 16 confirmations with the calendar, the rest waiting-list notices.
    subjects = smtp.subjects()
    assert len(subjects) == PEOPLE
    assert sum(s.startswith("Booking confirmed") for s in subjects) == PLACES
    assert sum("on the waiting list" in s for s in subjects) == PEOPLE - PLACES


def test_the_same_person_posting_many_times_at_once_gets_one_booking(app_ctx, crowd_app, smtp):
    course = factories.course(capacity=PLACES)
    course_id = course.id
    [(person_id, token)] = _people_with_tokens(1)
    results = _fire(crowd_app, f"/api/v1/courses/{course_id}/bookings", [token] * 12)
    statuses = sorted(status for _, status, _ in results)
    assert statuses == [201] + [409] * 11
    assert {body["error"] for _, status, body in results if status == 409} == {"you are already booked on this course"}
    db.session.expire_all()
    count = db.session.scalar(sa.select(sa.func.count(Booking.id)).where(Booking.person_id == person_id))
    assert count == 1
    assert len(smtp.messages) == 1


def test_vouchers_freed_from_a_closed_waiting_list_by_three_hands_at_once_stay_consistent(app_ctx, crowd_app, smtp):
    """Each holder books another course with the voucher their waiting-list place held, while the
    cron job gives vouchers back and a coordinator cancels those places, all at the same moment.
    No deadlock, no error, and each voucher ends up spent once, by the new booking."""
    from datetime import datetime, timedelta

    from mhfa.employers.models import PlaceVoucher, VoucherStatus
    from mhfa.errors import DomainError

    people = _people_with_tokens(8)
    started = factories.course(capacity=1, start=datetime.now() - timedelta(hours=1))
    target = factories.course(capacity=20)
    employer = factories.employer()
    held = []
    for n, (person_id, token) in enumerate(people):
        person = db.session.get(Person, person_id)
        # Half as held now (ASSIGNED), half as spent at once by the code before the fix (REDEEMED).
        voucher = factories.voucher(employer, assigned_to=person,
                                    status=VoucherStatus.ASSIGNED if n % 2 else VoucherStatus.REDEEMED)
        waiting = factories.booking_on(started, person, status=BookingStatus.WAITLISTED, voucher=voucher)
        held.append((token, voucher.code, voucher.id, waiting.id))
    target_id = target.id
    db.session.commit()

    errors: list[BaseException] = []
    statuses: list[int] = []
    lock = threading.Lock()

    def book(token: str, code: str) -> None:
        response = crowd_app.test_client().post(f"/api/v1/courses/{target_id}/bookings", json={"voucher_code": code},
                               headers={"Authorization": f"Bearer {token}"})
        with lock:
            statuses.append(response.status_code)

    def sweep() -> None:
        with crowd_app.app_context():
            try:
                vouchers.return_vouchers_of_closed_waiting_lists()
                db.session.commit()
            except BaseException as error:
                with lock:
                    errors.append(error)

    def cancel(booking_id: int) -> None:
        with crowd_app.app_context():
            try:
                services.cancel_booking(db.session.get(Booking, booking_id), by=None, reason="Course started",
                                        override_cutoff=True)
                db.session.commit()
            except DomainError:
                db.session.rollback()
            except BaseException as error:
                with lock:
                    errors.append(error)

    jobs = []
    for token, code, _, waiting_id in held:
        jobs += [functools.partial(book, token, code), sweep, functools.partial(cancel, waiting_id)]
    races.together(jobs, timeout=180)
    assert errors == [], "\n\n".join(str(e) for e in errors)
    assert statuses == [201] * len(held)

    db.session.expire_all()
    for _, _, voucher_id, waiting_id in held:
        holders = db.session.scalars(sa.select(Booking).where(Booking.voucher_id == voucher_id)).all()
        assert [(b.course_id, b.status) for b in holders] == [(target_id, BookingStatus.CONFIRMED)]
        assert db.session.get(PlaceVoucher, voucher_id).status is VoucherStatus.REDEEMED
        assert db.session.get(Booking, waiting_id).voucher_id is None
