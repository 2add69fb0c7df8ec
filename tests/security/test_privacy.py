"""Privacy rights: download everything held, erasure by a coordinator, retention; the audit trail; backups."""
from __future__ import annotations

import csv
import io
import sqlite3
from datetime import timedelta

import pytest
import sqlalchemy as sa

from mhfa.audit.models import AuditEvent
from mhfa.auth.models import Role, User
from mhfa.bookings import services as bookings
from mhfa.extensions import db
from mhfa.people.models import Disability, EthnicGroup, Person
from mhfa.privacy import services
from mhfa.timeutil import utcnow
from tests import factories


def _actions() -> list[str]:
    return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


@pytest.fixture()
def trainee():
    user = factories.user(Role.TRAINEE, ethnic_group=EthnicGroup.ASIAN, postcode="B1 1AA")
    bookings.book_for_user(user, factories.course())
    db.session.commit()
    return user


def test_a_person_downloads_everything_held_about_them_as_json_and_csv(client, auth, trainee):
    auth.login(trainee)
    assert "Download your data as JSON" in client.get("/account/my-data").get_data(as_text=True)
    response = client.get("/account/my-data.json")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    data = response.json["data"]
    assert data["person"][0]["email"] == trainee.email and data["person"][0]["ethnic_group"] == "asian"
    assert data["user_account"][0]["email"] == trainee.email
    assert len(data["booking"]) == 1
    assert data["outbox_message"][0]["subject"].startswith("Booking confirmed")
    assert "password_hash" not in data["user_account"][0] and "token_hash" not in data.get("user_session", [{}])[0]
    rows = list(csv.reader(io.StringIO(client.get("/account/my-data.csv").get_data(as_text=True))))
    assert rows[0] == ["section", "row", "field", "value"]
    assert ["person", "1", "email", trainee.email] in rows
    assert _actions().count("personal_data.exported") == 2


def test_only_coordinators_produce_someone_elses_data_and_it_is_audited(client, auth, trainee):
    coordinator = factories.user(Role.COORDINATOR)
    db.session.commit()
    auth.login(coordinator)
    found = client.get(f"/manage/people?q={trainee.email}").get_data(as_text=True)
    assert f"Record {trainee.person_id}" in found
    response = client.get(f"/manage/people/{trainee.person_id}/data.json?reason=letter+of+3+Dec")
    assert response.json["data"]["person"][0]["id"] == trainee.person_id
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "personal_data.exported"))
    assert event.actor_user_id == coordinator.id and event.details["reason"] == "letter of 3 Dec"


def test_erasure_removes_personal_data_keeps_areas_and_completions_and_is_audited(client, auth, post_form,
                                                                                 trainee):
    from mhfa.attendance.models import Completion, CompletionSource

    person = trainee.person
    email = trainee.email
    area_id = person.home_council_area_id
    db.session.add(Completion(person_id=person.id, course_type_id=factories.course_type().id,
                              completed_on=utcnow().date(), source=list(CompletionSource)[0]))
    person.disability = Disability.NO
    db.session.commit()
    coordinator = factories.user(Role.COORDINATOR)
    db.session.commit()
    auth.login(coordinator)
    refused = post_form(f"/manage/people/{person.id}/erase", {"reason": "request", "confirm": "erase"})
    assert refused.status_code == 422 and "Type ERASE" in refused.get_data(as_text=True)
    done = post_form(f"/manage/people/{person.id}/erase", {"reason": "Letter ref 42", "confirm": "ERASE"})
    assert done.status_code == 302
    db.session.expire_all()
    person = db.session.get(Person, person.id)
    assert person.is_erased and person.email is None and person.date_of_birth is None and person.postcode is None
    assert (person.first_name, person.last_name) == services.ERASED_NAME
    assert person.ethnic_group is None and person.disability is None
    assert person.home_council_area_id == area_id
    assert db.session.scalar(sa.select(sa.func.count(Completion.id)).where(Completion.person_id == person.id)) == 1
    account = db.session.get(User, trainee.id)
    assert not account.active and account.roles == set() and email not in account.email
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "person.erased"))
    assert event.actor_user_id == coordinator.id and event.details["reason"] == "Letter ref 42"
    assert email not in str(event.details)
    again = post_form(f"/manage/people/{person.id}/erase", {"reason": "again", "confirm": "ERASE"})
    assert again.status_code == 422


def test_retention_erases_unclaimed_people_inactive_past_the_period_and_reports_it(runner):
    old = factories.person("Olive", created_at=utcnow() - timedelta(days=365 * 7))
    recent = factories.person("Rita")
    claimed = factories.user(Role.TRAINEE, created_at=utcnow() - timedelta(days=365 * 7)).person
    db.session.commit()
    dry = runner.invoke(args=["mhfa", "apply-retention", "--dry-run"])
    assert "who would be erased: 1" in dry.output
    db.session.expire_all()
    assert not db.session.get(Person, old.id).is_erased
    result = runner.invoke(args=["mhfa", "apply-retention"])
    assert result.exit_code == 0, result.output
    assert "who were erased: 1" in result.output and "Delivered emails purged: 0" in result.output
    db.session.expire_all()
    assert db.session.get(Person, old.id).is_erased
    assert not db.session.get(Person, recent.id).is_erased and not db.session.get(Person, claimed.id).is_erased


def test_delivered_emails_are_purged_after_the_retention_days(runner, trainee):
    from mhfa.notify.models import OutboxMessage

    db.session.execute(sa.update(OutboxMessage).values(sent_at=utcnow() - timedelta(days=31)))
    db.session.commit()
    result = runner.invoke(args=["mhfa", "apply-retention"])
    assert "Delivered emails purged: 1" in result.output
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0


def test_sign_ins_failures_password_token_and_equality_changes_are_audited(client, auth, post_form, trainee):
    client.post("/login", data={"email": trainee.email, "password": "wrong one",
                                "csrf_token": __import__("tests.conftest").conftest.csrf_token(client, "/login")})
    client.post("/login", data={"email": "nobody@example.org", "password": "wrong one",
                                "csrf_token": __import__("tests.conftest").conftest.csrf_token(client, "/login")})
    auth.login(trainee)
    post_form("/account", {"issue": "Create"})
    post_form("/profile", {"first_name": "Asha", "last_name": "K", "ethnic_group": "white"})
    post_form("/account/password", {"current_password": "correct-horse-battery-staple",
                                    "password": "a different long phrase", "password_confirm":
                                    "a different long phrase"})
    actions = _actions()
    assert actions.count("auth.sign_in_failed") == 2 and "auth.signed_in" in actions
    assert "user.api_token_issued" in actions and "user.password_changed" in actions
    equality = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "person.equality_edited"))
    assert equality.details == {"before": {"ethnic_group": "asian"}, "after": {"ethnic_group": "white"}}
    unknown = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "auth.sign_in_failed",
                                                            AuditEvent.entity_id.is_(None)))
    assert "nobody@example.org" not in str(unknown.details)


def test_coordinators_search_the_audit_log_and_nothing_changes_it(client, auth, trainee):
    coordinator = factories.user(Role.COORDINATOR)
    db.session.commit()
    auth.login(coordinator)
    page = client.get("/manage/audit?action=auth.").get_data(as_text=True)
    assert "auth.signed_in" in page and "booking" not in page.split("entr")[0][-5:]
    event = db.session.scalars(sa.select(AuditEvent)).first()
    event.action = "tampered"
    with pytest.raises(RuntimeError, match="cannot be changed"):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.scalars(sa.select(AuditEvent)).first())
    with pytest.raises(RuntimeError, match="cannot be changed"):
        db.session.flush()
    db.session.rollback()


def test_a_backup_restores_the_same_data(app_ctx, runner, tmp_path, trainee):
    if db.engine.dialect.name != "sqlite":
        result = runner.invoke(args=["mhfa", "backup", str(tmp_path)])
        assert result.exit_code == 0 and list(tmp_path.glob("mhfa-*.dump")), result.output  # see test_backup.py
        return
    result = runner.invoke(args=["mhfa", "backup", str(tmp_path / "backups")])
    assert result.exit_code == 0, result.output
    [copy] = (tmp_path / "backups").glob("mhfa-*.db")
    restored = sqlite3.connect(copy)
    try:
        emails = {row[0] for row in restored.execute("SELECT email FROM user_account")}
        bookings_count = restored.execute("SELECT count(*) FROM booking").fetchone()[0]
    finally:
        restored.close()
    assert emails == set(db.session.scalars(sa.select(User.email)))
    assert bookings_count == 1
    # The copy is a working database: the app opens it and finds the same person.
    from mhfa import create_app

    app = create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{copy}"})
    with app.app_context():
        assert db.session.scalar(sa.select(Person.email).where(Person.id == trainee.person_id)) == trainee.email
