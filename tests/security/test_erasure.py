"""Erasure leaves no copy: someone who used every feature is erased, then the whole database (every table,
every text, JSON and binary column) and the instance folder are searched for them, and nothing is found."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import sqlalchemy as sa

from mhfa.attendance.models import Completion
from mhfa.audit.models import AuditEvent
from mhfa.auth import services as accounts
from mhfa.auth.models import Role, User
from mhfa.bookings import services as bookings
from mhfa.certificates import services as certificates
from mhfa.certificates.models import Certificate, CertificateReissue
from mhfa.employers import organisations, vouchers
from mhfa.employers.models import EmployerContact
from mhfa.employers.requests import PhoneBooking, book_on_behalf
from mhfa.extensions import db
from mhfa.notify.models import OutboxMessage
from mhfa.people.models import Person
from mhfa.privacy import services as privacy
from mhfa.timeutil import utcnow
from tests import factories
from tests.conftest import Auth

FIRST, LAST, EMAIL = "Zephyrine", "Quillfeather", "zephyrine.quillfeather@example.org"
OLD_LAST = "Quilfeather"  # the misspelling the certificate was first issued with
DOB, POSTCODE = date(1987, 3, 14), "B15 2TT"
COLLEAGUE = "colleague.of.zq@example.org"


def _needles() -> list[str]:
    return [FIRST, LAST, OLD_LAST, EMAIL, EMAIL.split("@")[0], "1987-03-14", "14/03/1987", "14 March 1987",
            "14 Mar 1987", "19870314", POSTCODE, POSTCODE.replace(" ", "")]


def _text_of(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes | memoryview):
        raw = bytes(value)
        try:  # a stored email: search its decoded text too (quoted-printable, base64, encoded headers)
            message = message_from_bytes(raw, policy=policy.default)
            parts = [str(message.get(h, "")) for h in ("To", "Subject", "From", "Cc")]
            parts += [part.get_content() for part in message.walk()
                      if not part.is_multipart() and part.get_content_maintype() == "text"]
            return raw.decode("utf-8", "replace") + "\n".join(parts)
        except Exception:  # noqa: BLE001 (not an email: the bytes as text will do)
            return raw.decode("utf-8", "replace")
    return str(value)


def _found_in_database() -> list[str]:
    found = []
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, sa.String | sa.Text | sa.JSON | sa.LargeBinary)
                   or c.type.__class__.__name__ in ("JSON", "UTCDateTime") or c.name.endswith("_on")]
        if not columns:
            continue
        for row in db.session.execute(sa.select(*columns)):
            for column, value in zip(columns, row, strict=True):
                text = _text_of(value).lower()
                found += [f"{table.name}.{column.name}: {needle}" for needle in _needles() if needle.lower() in text]
        # dates of birth are dates, not text
        for column in table.columns:
            if isinstance(column.type, sa.Date) and db.session.scalar(
                    sa.select(sa.func.count()).select_from(table).where(column == DOB)):
                found.append(f"{table.name}.{column.name}: {DOB}")
    return found


def _found_in_folder(folder: Path) -> list[str]:
    found = []
    for path in folder.rglob("*"):
        if path.is_file() and path.suffix not in (".db", ".db-journal", ".db-wal", ".db-shm"):
            text = _text_of(path.read_bytes()).lower()
            found += [f"{path.name}: {needle}" for needle in _needles() if needle.lower() in text]
    return found


def _token_in(message: OutboxMessage, path: str) -> str:
    text = message_from_bytes(message.raw, policy=policy.default).get_body(("plain",)).get_content()
    return re.search(rf"{path}/([A-Za-z0-9_\-.]+)", text).group(1)


def test_erasing_someone_who_used_every_feature_leaves_no_copy_anywhere(app_ctx, client, post_form):
    coordinator = factories.user(Role.COORDINATOR)
    acme = factories.employer("Acme Ltd")
    other_employer = factories.employer("Other Org")
    other_contact = factories.contact(other_employer)
    db.session.commit()

    # Failed sign-ins before the account existed (audited as a fingerprint), then registration by the form.
    Auth(client).client.post("/login", data={"email": EMAIL, "password": "not yet registered",
                                             "csrf_token": _csrf(client, "/login")})
    assert post_form("/register", {"first_name": FIRST, "last_name": OLD_LAST, "email": EMAIL,
                                   "password": "a long enough passphrase",
                                   "password_confirm": "a long enough passphrase"}).status_code == 200
    user = db.session.scalar(sa.select(User).where(User.email == EMAIL))
    assert client.get(f"/confirm-email/{accounts.email_confirmation_token(user)}").status_code == 302
    Auth(client).login(user, "a long enough passphrase")
    # Profile: date of birth, postcode and equality answers (audited before and after).
    assert post_form("/profile", {"first_name": FIRST, "last_name": OLD_LAST, "date_of_birth-day": "14",
                                  "date_of_birth-month": "3", "date_of_birth-year": "1987", "postcode": POSTCODE,
                                  "home_council_area": str(factories.area("Birmingham").id), "work_council_area": "",
                                  "employer": "", "sex": "female", "ethnic_group": "white"}).status_code == 302
    assert post_form("/profile", {"first_name": FIRST, "last_name": OLD_LAST, "date_of_birth-day": "14",
                                  "date_of_birth-month": "3", "date_of_birth-year": "1987", "postcode": POSTCODE,
                                  "home_council_area": str(factories.area("Birmingham").id), "work_council_area": "",
                                  "employer": "", "sex": "prefer-not-to-say", "ethnic_group": "mixed"}
                     ).status_code == 302
    post_form("/account", {"issue": "Create"})
    client.get("/account/my-data.json")
    person = db.session.get(Person, user.person_id)

    # Booked online, booked by phone, completed a course, certificate reissued with the corrected name.
    bookings.book_for_user(user, factories.course("AWARE"))
    later = datetime.combine(date.today() + timedelta(days=40), datetime.min.time()).replace(hour=9)
    book_on_behalf(factories.course("ADULT_CHAMPION", start=later), PhoneBooking(FIRST, OLD_LAST, EMAIL, DOB),
                   by=coordinator)
    run, teacher, _ = factories.taught_course("AWARE", trainees=1)
    factories.booking_on(run, person)
    factories.mark_everyone(run)
    db.session.commit()
    certificates.complete_course_and_issue(run, teacher)
    certificate = db.session.scalar(sa.select(Certificate).where(Certificate.person_id == person.id))
    certificates.reissue(certificate, FIRST, LAST, f"Surname misspelt as {FIRST} {OLD_LAST}", coordinator)
    certificates.revoke(factories.certificate(person, "ADULT_2DAY"), f"Issued to {FIRST} {LAST} in error",
                        coordinator)
    db.session.commit()

    # A contact of Acme (added by the programme team), who invites a colleague (whose email names them);
    # invited by another organisation too; given a place by it; asked for a password reset.
    organisations.invite_contact(other_employer, EMAIL, by=other_contact)
    organisations.add_contact(acme, EMAIL, by=coordinator)
    db.session.commit()
    organisations.invite_contact(acme, COLLEAGUE, by=db.session.get(User, user.id))
    order = factories.order(other_employer, places=1, by=other_contact)
    vouchers.allocate_one(other_employer, order, FIRST, LAST, EMAIL, by=other_contact)
    accounts.request_password_reset(EMAIL)
    db.session.commit()

    mails = db.session.scalars(sa.select(OutboxMessage)).all()
    assert {m.recipient for m in mails} >= {EMAIL, COLLEAGUE}
    instance = Path(app_ctx.instance_path)
    assert _found_in_database() and _found_in_folder(instance)  # the probe finds them before

    Auth(client).logout()
    Auth(client).login(coordinator)
    exported = client.get(f"/manage/people/{person.id}/data.json").json["data"]
    assert {"person", "user_account", "booking", "certificate", "certificate_reissue", "audit_event",
            "outbox_message", "employer_contact", "files"} <= set(exported)
    assert post_form(f"/manage/people/{person.id}/erase", {"reason": "Request ref DP-77",
                                                             "confirm": "ERASE"}).status_code == 302

    assert _found_in_database() == []
    assert _found_in_folder(instance) == []
    # What stays: who did what and when, the reach count, the certificates (answering "record erased").
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Completion.id)).where(Completion.person_id == person.id)) == 2
    reissued = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "certificate.reissued"))
    assert reissued.actor_user_id == coordinator.id and reissued.details["before"]["first_name"] == "erased"
    assert reissued.details["before"]["revision"] == 1
    assert db.session.scalar(sa.select(CertificateReissue.reason)) == "erased"
    invited = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "employer.contact_invited",
                                                            AuditEvent.actor_user_id == other_contact.id))
    assert invited.details == {"email": "erased"}
    assert all(c.email.endswith("@erased.invalid") for c in db.session.scalars(
        sa.select(EmployerContact).where(EmployerContact.employer_id == other_employer.id,
                                         EmployerContact.user_id.is_(None))))
    colleague_mail = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.recipient == COLLEAGUE))
    assert colleague_mail is not None and b"erased has invited you" in colleague_mail.raw
    erased = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "person.erased"))
    assert erased.details["copies"]["emails_deleted"] >= 4 and erased.details["copies"]["audit_entries"] >= 5


def _csrf(client, page):
    from tests.conftest import csrf_token

    return csrf_token(client, page)


def test_retention_deletes_the_mail_files_with_the_rows(app_ctx, runner):
    factories.user(Role.TRAINEE)
    person = factories.person("Rhoda", "Retained", email="rhoda.retained@example.org")
    from mhfa.notify.messages import send

    send("password_changed", to=person.email, subject="Your MHFA Reach password has been changed",
         user=type("U", (), {"display_name": "Rhoda Retained", "email": person.email})())
    db.session.commit()
    folder = Path(app_ctx.instance_path) / "outbox"
    mine = [p for p in folder.glob("*.eml") if b"rhoda.retained@example.org" in p.read_bytes()]
    assert len(mine) == 1
    db.session.execute(sa.update(OutboxMessage).where(OutboxMessage.recipient == person.email)
                       .values(sent_at=utcnow() - timedelta(days=31)))
    db.session.commit()
    result = runner.invoke(args=["mhfa", "apply-retention"])
    assert result.exit_code == 0, result.output
    assert "Delivered emails purged: 1" in result.output
    assert not mine[0].exists()


def test_the_export_names_every_table_and_file_that_holds_someone(client, auth):
    holder = factories.user(Role.TRAINEE)
    certificate = factories.certificate(holder.person)
    coordinator = factories.user(Role.COORDINATOR)
    db.session.commit()
    certificates.reissue(certificate, holder.person.first_name, "Renamed", "Name changed by deed poll", coordinator)
    bookings.book_for_user(holder, factories.course())
    db.session.commit()
    auth.login(holder)
    data = client.get("/account/my-data.json").json["data"]
    assert data["certificate_reissue"][0]["reason"] == "Name changed by deed poll"
    assert data["files"] and all(f["folder"] == "instance/outbox" for f in data["files"])
    assert any(row["action"] == "certificate.reissued" for row in data["audit_event"])


def test_an_erasure_that_fails_keeps_every_file(app_ctx, monkeypatch):
    """Files go only once the erasure has committed: a rolled-back erasure deletes none."""
    user = factories.user(Role.TRAINEE, email="kept.files@example.org")
    bookings.book_for_user(user, factories.course())
    db.session.commit()
    folder = Path(app_ctx.instance_path) / "outbox"
    before = sorted(p.name for p in folder.glob("*.eml") if b"kept.files@example.org" in p.read_bytes())
    assert before
    privacy.erase_person(user.person, None, "test")
    db.session.rollback()
    assert sorted(p.name for p in folder.glob("*.eml") if b"kept.files@example.org" in p.read_bytes()) == before
