"""Completing a course writes its emails (certificate issued, evaluation invitation) to the outbox as what to say:
the sender renders them, with the same recipient, subject and text as when the request built them."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from mhfa.auth.models import Role
from mhfa.certificates import services as certificates
from mhfa.courses.models import DeliveryMode
from mhfa.extensions import db
from mhfa.notify.messages import compose
from mhfa.notify.models import OutboxMessage
from mhfa.outcomes import evaluations
from mhfa.outcomes.models import EVALUATION, OutcomeInvite
from mhfa.timeutil import utcnow
from tests import factories
from tests.outbox import deliver_outbox, rendered_outbox
from tests.outcomes.helpers import GOOD


@pytest.fixture()
def later(app_ctx, monkeypatch):
    """Production mode: nothing is sent in the request; the outbox is delivered by the command."""
    monkeypatch.setitem(app_ctx.config, "MHFA_DELIVER_AFTER_COMMIT", False)


def _completed(code: str = "ADULT_2DAY", trainees: int = 2, **fields):
    course, teacher, _ = factories.taught_course(code, trainees=trainees, **fields)
    factories.mark_everyone(course)
    done = certificates.complete_course_and_issue(course, teacher)
    db.session.commit()
    return course, done


def _invitation(completion_id: int) -> OutcomeInvite:
    return db.session.scalar(sa.select(OutcomeInvite).where(OutcomeInvite.completion_id == completion_id,
                                                            OutcomeInvite.kind == EVALUATION))


def _as_built_in_the_request(kind: str, row: OutboxMessage):
    """The Message the completing request composed before these emails were rendered by the sender."""
    if kind == "certificate_issued":
        certificate = db.session.get(certificates.Certificate, row.payload["certificate_id"])
        return compose("certificate_issued", to=certificate.person.email,
                       subject=f"Your certificate: {certificate.title}", certificate=certificate)
    invitation = _invitation(row.payload["completion_id"])
    return compose("outcomes_evaluation", to=invitation.person.email,
                   subject=f"How was your {invitation.course_type.name} course?", person=invitation.person,
                   course_type=invitation.course_type, token=invitation.token, expires_at=invitation.expires_at)


@pytest.mark.parametrize("code, mode", [("ADULT_2DAY", DeliveryMode.IN_PERSON), ("AWARE", DeliveryMode.ONLINE)])
def test_the_rendered_emails_are_those_the_request_built(later, smtp, code, mode):
    online = mode is DeliveryMode.ONLINE
    _, done = _completed(code, mode=mode)
    assert smtp.messages == []  # nothing rendered or sent in the request
    rows = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert sorted(row.kind for row in rows) == ["certificate_issued"] * 2 + ["evaluation_invite"] * 2
    assert all(row.raw is None for row in rows)
    assert all(set(row.payload) <= {"certificate_id", "completion_id", "person_id"} for row in rows)  # no token
    rendered = rendered_outbox()
    assert len(rendered) == 4
    for row, message in rendered:
        before = _as_built_in_the_request(row.kind, row)
        assert message is not None
        assert (message.to, message.subject, message.text) == (before.to, before.subject, before.text)
        assert (message.html, message.attachments) == (before.html, before.attachments) == (None, [])
        assert (row.recipient, row.subject) == (before.to, before.subject)
    assert deliver_outbox().sent == 4
    for row, message in rendered:
        [sent] = [m for m in smtp.to(message.to) if m["Subject"] == message.subject]
        assert smtp.text(sent).replace("\r\n", "\n") == message.text and sent["Message-ID"] == row.message_id
    for certificate in done.certificates:
        text = smtp.text(next(m for m in smtp.to(certificate.person.email) if m["Subject"].startswith("Your cert")))
        assert certificate.number in text and f"/verify/{certificate.verification_token}" in text
        assert ("online" in text) == online
        invitation = _invitation(certificate.completion_id)
        text = smtp.text(next(m for m in smtp.to(certificate.person.email) if m["Subject"].startswith("How was")))
        assert f"/evaluation/{invitation.token}" in text


def test_a_completion_rolled_back_leaves_nothing_to_render(later, smtp):
    course, teacher, _ = factories.taught_course(trainees=2)
    factories.mark_everyone(course)
    db.session.commit()
    certificates.complete_course_and_issue(course, teacher)
    db.session.rollback()
    assert db.session.scalars(sa.select(OutboxMessage)).all() == []
    assert deliver_outbox().sent == 0 and smtp.messages == []


def test_nothing_goes_to_a_person_erased_before_the_sender_renders(later, smtp):
    _, done = _completed(trainees=2)
    erased, kept = done.certificates
    erased.person.erased_at = utcnow()  # by a path that left the rows (the renderers are the last guard)
    db.session.commit()
    report = deliver_outbox()
    assert report.sent == 2 and report.dropped == 2
    assert smtp.to(erased.person.email) == []
    assert sorted(smtp.subjects(kept.person.email))[0].startswith("How was your")
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id)).where(
        OutboxMessage.recipient == erased.person.email)) == 0


def test_erasing_the_person_deletes_their_completion_emails_not_yet_rendered(later, smtp):
    from mhfa.privacy.services import erase_person

    _, done = _completed(trainees=2)
    erased, kept = done.certificates
    coordinator = factories.user(Role.COORDINATOR)
    db.session.commit()
    # Their address changed since, so the rows' recipient no longer names them: their payload does.
    db.session.execute(sa.update(OutboxMessage).where(OutboxMessage.recipient == erased.person.email)
                       .values(recipient="old-address@example.org"))
    db.session.commit()
    erase_person(erased.person, coordinator, "asked to be forgotten")
    db.session.commit()
    assert {row.recipient for row, _ in rendered_outbox()} == {kept.person.email}
    assert deliver_outbox().sent == 2 and smtp.to("old-address@example.org") == []


def test_a_certificate_revoked_or_an_evaluation_answered_before_sending_is_not_announced(later, smtp):
    _, done = _completed(trainees=2)
    revoked, answered = done.certificates
    coordinator = factories.user(Role.COORDINATOR)
    certificates.revoke(revoked, "Register corrected at once", coordinator)
    evaluations.answer(_invitation(answered.completion_id), dict(GOOD), None)
    db.session.commit()
    outcome = {(row.recipient, row.kind): message is not None for row, message in rendered_outbox()}
    assert outcome == {(revoked.person.email, "certificate_issued"): False,
                       (revoked.person.email, "evaluation_invite"): True,
                       (answered.person.email, "certificate_issued"): True,
                       (answered.person.email, "evaluation_invite"): False}
    report = deliver_outbox()
    assert report.sent == 2 and report.dropped == 2
    assert smtp.subjects(revoked.person.email)[0].startswith("How was your")
    assert smtp.subjects(answered.person.email)[0].startswith("Your certificate: ")


def test_a_certificate_gone_before_sending_is_not_announced(later, smtp):
    _, done = _completed(trainees=1)
    [certificate] = done.certificates
    row = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.kind == "certificate_issued"))
    row.payload = {**row.payload, "certificate_id": certificate.id + 1000}  # as if deleted
    db.session.commit()
    [(_, message)] = rendered_outbox("certificate_issued")
    assert message is None
    report = deliver_outbox()
    assert report.sent == 1 and report.dropped == 1
    assert smtp.subjects(certificate.person.email)[0].startswith("How was your")


def test_a_trainee_without_an_address_gets_no_outbox_row(later, smtp):
    course, teacher, bookings = factories.taught_course(trainees=2)
    bookings[0].person.email = None
    factories.mark_everyone(course)
    certificates.complete_course_and_issue(course, teacher)
    db.session.commit()
    assert {row.recipient for row, _ in rendered_outbox()} == {bookings[1].person.email}
