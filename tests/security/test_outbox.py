"""The durable email outbox: written with the change, delivered once with retries, by one sender only."""
from __future__ import annotations

import email
import email.policy
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from mhfa.auth.models import Role
from mhfa.bookings import services as bookings
from mhfa.extensions import db
from mhfa.notify import services as notify
from mhfa.notify.models import OutboxMessage, OutboxStatus
from mhfa.notify.outbox import MAX_ATTEMPTS, deliver_due
from mhfa.timeutil import utcnow
from tests import factories
from tests.outbox import deliver_outbox


@pytest.fixture()
def later(app_ctx, monkeypatch):
    """Production mode: nothing is sent in the request; the outbox is delivered by the command."""
    monkeypatch.setitem(app_ctx.config, "MHFA_DELIVER_AFTER_COMMIT", False)


def _rows():
    db.session.expire_all()
    return db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()


def _booking():
    """A trainee booked on a course, not yet committed: (the trainee, the booking)."""
    user = factories.user(Role.TRAINEE)
    course = factories.course()
    db.session.commit()
    return user, bookings.book_for_user(user, course)


def test_a_booking_and_its_email_commit_together_and_the_request_sends_nothing(later, smtp):
    user, _ = _booking()
    db.session.commit()
    assert smtp.messages == []  # nothing sent in the request
    [row] = _rows()
    assert row.status is OutboxStatus.PENDING and row.recipient == user.email
    report = deliver_outbox()
    assert report.sent == 1
    [message] = smtp.to(user.email)
    assert message["Message-ID"] == _rows()[0].message_id
    assert _rows()[0].status is OutboxStatus.SENT
    assert deliver_outbox().sent == 0  # once only
    assert len(smtp.messages) == 1


def test_a_rolled_back_change_leaves_no_email(later, smtp):
    notify.queue(notify.Message(to="a@example.org", subject="S", text="T"))
    db.session.rollback()
    assert _rows() == []


def test_a_failed_send_is_retried_with_backoff_then_given_up(later, smtp, app_ctx, monkeypatch):
    notify.queue(notify.Message(to="a@example.org", subject="Retry me", text="T"))
    db.session.commit()
    monkeypatch.setitem(app_ctx.config, "MAIL_PORT", 1)  # the relay is down
    assert deliver_outbox().retrying == 1
    [row] = _rows()
    assert row.status is OutboxStatus.PENDING and row.attempts == 1 and row.next_attempt_at > utcnow()
    assert deliver_outbox().retrying == 0  # not due yet: backoff
    for _ in range(MAX_ATTEMPTS - 1):
        db.session.execute(sa.update(OutboxMessage).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        deliver_outbox()
    [row] = _rows()
    assert row.status is OutboxStatus.FAILED and row.attempts == MAX_ATTEMPTS
    monkeypatch.undo()


def test_the_relay_coming_back_delivers_what_waited(later, smtp, app_ctx, monkeypatch):
    notify.queue(notify.Message(to="a@example.org", subject="Waited", text="T"))
    db.session.commit()
    port = app_ctx.config["MAIL_PORT"]
    monkeypatch.setitem(app_ctx.config, "MAIL_PORT", 1)
    deliver_outbox()
    monkeypatch.setitem(app_ctx.config, "MAIL_PORT", port)
    db.session.execute(sa.update(OutboxMessage).values(next_attempt_at=utcnow()))
    db.session.commit()
    assert deliver_outbox().sent == 1
    assert smtp.subjects() == ["Waited"]


def test_a_stale_claim_is_released_for_another_attempt(later, smtp, app_ctx):
    notify.queue(notify.Message(to="a@example.org", subject="Stale", text="T"))
    db.session.commit()
    db.session.execute(sa.update(OutboxMessage).values(status=OutboxStatus.SENDING, claimed_by="dead:1",
                                                       claimed_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    report = deliver_outbox()
    assert report.released == 1 and report.sent == 1


def test_two_senders_at_once_send_each_message_exactly_once(later, smtp, app_ctx):
    for n in range(40):
        notify.queue(notify.Message(to=f"p{n}@example.org", subject=f"Message {n}", text="T"))
    db.session.commit()
    start = threading.Barrier(2)
    reports = []

    def sender():
        with app_ctx.app_context():
            start.wait()
            reports.append(deliver_due(limit=5))
            while (report := deliver_due(limit=5)).sent:
                reports.append(report)
            db.session.remove()

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(smtp.subjects()) == sorted(f"Message {n}" for n in range(40))
    assert sum(r.sent for r in reports) == 40
    assert {row.status for row in _rows()} == {OutboxStatus.SENT}
    assert len({row.claimed_by for row in _rows()}) >= 1


def test_the_deliver_mail_command_reports_what_it_sent(later, smtp, runner):
    notify.queue(notify.Message(to="a@example.org", subject="By command", text="T"))
    db.session.commit()
    result = runner.invoke(args=["mhfa", "deliver-mail"])
    assert result.exit_code == 0, result.output
    assert "Emails sent: 1" in result.output
    assert smtp.subjects() == ["By command"]


def test_without_a_mail_server_delivery_writes_eml_files(later, app_ctx, tmp_path, monkeypatch):
    monkeypatch.setattr(app_ctx, "instance_path", str(tmp_path))
    notify.queue(notify.Message(to="a@example.org", subject="File", text="T"))
    db.session.commit()
    assert not (tmp_path / "outbox").exists()
    deliver_outbox()
    [path] = (tmp_path / "outbox").glob("*.eml")
    assert b"Subject: File" in path.read_bytes()


def test_forgot_password_sends_nothing_in_the_request(later, smtp, client, post_form):
    user = factories.user(Role.TRAINEE)
    db.session.commit()
    for address in (user.email, "nobody@example.org"):
        assert post_form("/forgot-password", {"email": address}).status_code == 200
    assert smtp.messages == []
    assert deliver_outbox().sent == 1
    assert smtp.subjects(user.email)


def test_a_booking_writes_what_to_say_and_the_sender_renders_it_once(later, smtp, app_ctx, monkeypatch):
    user, booking = _booking()
    db.session.commit()
    [row] = _rows()
    assert row.raw is None and row.kind == "booking_confirmed" and row.payload["booking_id"] == booking.id
    port = app_ctx.config["MAIL_PORT"]
    monkeypatch.setitem(app_ctx.config, "MAIL_PORT", 1)  # the relay is down: rendered, kept, not sent
    assert deliver_outbox().retrying == 1
    [row] = _rows()
    first = bytes(row.raw)
    rendered = email.message_from_bytes(first, policy=email.policy.default)
    assert rendered["Message-ID"] == row.message_id
    assert [part.get_content_type() for part in rendered.iter_attachments()] == ["text/calendar"]
    monkeypatch.setitem(app_ctx.config, "MAIL_PORT", port)
    db.session.execute(sa.update(OutboxMessage).values(next_attempt_at=utcnow()))
    db.session.commit()
    assert deliver_outbox().sent == 1
    [message] = smtp.to(user.email)
    assert message["Message-ID"] == row.message_id
    assert bytes(_rows()[0].raw) == first  # the retry sent the bytes rendered the first time


def test_a_cancellation_and_the_promotion_it_makes_are_written_as_what_to_say_and_rendered_when_sent(later, smtp):
    holder, waiting = factories.user(Role.TRAINEE), factories.user(Role.TRAINEE)
    course = factories.course(capacity=1)
    db.session.commit()
    seat = bookings.book_for_user(holder, course)
    bookings.book_for_user(waiting, course)
    db.session.commit()
    written = len(_rows())
    bookings.cancel_booking(seat, by=holder)
    db.session.commit()
    new_rows = _rows()[written:]
    assert [(row.kind, row.raw) for row in new_rows] == [("booking_cancelled", None), ("booking_promoted", None)]
    assert deliver_outbox().sent == written + 2
    [cancelled] = [m for m in smtp.to(holder.email) if m["Subject"].startswith("Booking cancelled")]
    [promoted] = [m for m in smtp.to(waiting.email) if m["Subject"].startswith("A place has come up")]
    for message, method in ((cancelled, "CANCEL"), (promoted, "PUBLISH")):
        [calendar] = list(message.iter_attachments())
        assert calendar.get_content_type() == "text/calendar" and f"METHOD:{method}" in calendar.get_content()


def test_a_booking_rolled_back_leaves_nothing_to_render(later, smtp):
    user, _ = _booking()
    db.session.rollback()
    assert _rows() == []
    assert deliver_outbox().sent == 0 and smtp.messages == []


def test_a_confirmation_not_yet_sent_goes_nowhere_once_its_person_is_erased(later, smtp, app_ctx):
    from mhfa.privacy.services import erase_person

    user = factories.user(Role.TRAINEE)
    course = factories.course()
    coordinator = factories.user(Role.COORDINATOR)
    db.session.commit()
    booking = bookings.book_for_user(user, course)
    db.session.commit()
    # Their address changed after booking, so the row's recipient no longer names them: rendering still refuses.
    db.session.execute(sa.update(OutboxMessage).values(recipient="old-address@example.org"))
    db.session.commit()
    erase_person(booking.person, coordinator, "asked to be forgotten")
    db.session.commit()
    assert _rows() == []  # the erasure deleted the row about them, whatever address it was for
    assert deliver_outbox().sent == 0 and smtp.messages == []


def test_a_message_whose_person_is_erased_before_rendering_is_dropped_not_sent(later, smtp, app_ctx):
    user, booking = _booking()
    db.session.commit()
    booking.person.erased_at = utcnow()  # erased by a path that left the row (the renderer is the last guard)
    db.session.commit()
    report = deliver_outbox()
    assert report.sent == 0 and report.dropped == 1
    assert smtp.messages == [] and _rows() == []
