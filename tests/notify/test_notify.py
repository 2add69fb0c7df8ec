"""Email goes out after the transaction commits, and never for a rolled-back one."""
import email

import pytest

from mhfa.extensions import db
from mhfa.notify import services as notify


@pytest.fixture()
def outbox(app_ctx, tmp_path, monkeypatch):
    monkeypatch.setattr(app_ctx, "instance_path", str(tmp_path))
    return tmp_path / "outbox"


def _message(subject="Your booking"):
    return notify.Message(
        to="trainee@example.org",
        subject=subject,
        text="You are booked.",
        attachments=[notify.Attachment("course.ics", "text/calendar", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
                                       {"method": "PUBLISH"})],
    )


def test_message_is_written_to_the_outbox_only_after_commit(outbox):
    notify.queue(_message())
    assert not outbox.exists()
    db.session.commit()
    files = list(outbox.glob("*.eml"))
    assert len(files) == 1
    parsed = email.message_from_bytes(files[0].read_bytes())
    assert parsed["Subject"] == "Your booking" and parsed["To"] == "trainee@example.org"
    parts = {p.get_content_type(): p for p in parsed.walk()}
    assert parts["text/calendar"].get_filename() == "course.ics"


def test_message_of_a_rolled_back_transaction_is_never_sent(outbox):
    notify.queue(_message())
    db.session.rollback()
    db.session.commit()
    assert not outbox.exists() or not list(outbox.glob("*.eml"))


def test_unreachable_mail_server_keeps_the_message(outbox, app_ctx, monkeypatch):
    from mhfa.notify.models import OutboxMessage, OutboxStatus

    monkeypatch.setitem(app_ctx.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app_ctx.config, "MAIL_PORT", 1)
    notify.queue(_message("Kept"))
    db.session.commit()
    [kept] = db.session.scalars(db.select(OutboxMessage)).all()  # kept in the durable outbox, to retry
    assert kept.status is OutboxStatus.PENDING and kept.attempts == 1 and kept.last_error
    assert b"Subject: Kept" in kept.raw
