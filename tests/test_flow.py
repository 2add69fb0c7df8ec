"""The shared request flow: one commit per request, a rollback and the problem on its field on refusal."""
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.exceptions import NotFound as HTTPNotFound
from wtforms import Form, StringField

from mhfa import flow
from mhfa.errors import Conflict, DomainError, NotFound
from mhfa.extensions import db
from mhfa.people.models import Person
from tests import factories


class NameForm(Form):
    last_name = StringField()


def _rename(person: Person, name: str, *, refuse: DomainError | None = None) -> Person:
    person.last_name = name
    db.session.flush()
    if refuse:
        raise refuse
    return person


def _last_name(person_id: int) -> str:
    db.session.expire_all()
    return db.session.scalar(sa.select(Person.last_name).where(Person.id == person_id))


def test_a_service_that_returns_is_committed(app_ctx):
    person = factories.person(last_name="Before")
    db.session.commit()
    outcome = flow.attempt(_rename, person, "After")
    assert outcome.ok and outcome.value is person
    db.session.rollback()  # nothing left to roll back: the change was committed
    assert _last_name(person.id) == "After"


def test_a_refusal_rolls_back_and_lands_on_its_field_with_its_status(app_ctx):
    person = factories.person(last_name="Before")
    db.session.commit()
    form = NameForm(data={"last_name": "After"})
    outcome = flow.attempt(_rename, person, "After", refuse=Conflict("That name is taken", field="last_name"),
                           form=form)
    assert not outcome.ok
    assert form.last_name.errors == ["That name is taken"]
    assert form.last_name.data == "After"  # what the user typed is kept
    assert flow.status(form) == 409
    assert _last_name(person.id) == "Before"


def test_a_refusal_naming_no_field_goes_above_the_form_and_answers_422(app_ctx):
    person = factories.person(last_name="Before")
    db.session.commit()
    form = NameForm()
    flow.attempt(_rename, person, "After", refuse=DomainError("Not now"), form=form)
    assert form.form_errors == ["Not now"]
    assert flow.status(form) == 422


def test_without_a_form_the_refusal_is_raised_after_the_rollback(app_ctx):
    person = factories.person(last_name="Before")
    db.session.commit()
    with pytest.raises(DomainError):
        flow.attempt(_rename, person, "After", refuse=DomainError("No"))
    assert _last_name(person.id) == "Before"


def test_get_or_404_finds_the_row_and_refuses_missing_and_out_of_range_ids(app_ctx):
    person = factories.person()
    assert flow.get_or_404(Person, person.id) is person
    for missing in (person.id + 1000, 0, -1, 2**63, 99999999999999999999):
        with pytest.raises(HTTPNotFound):
            flow.get_or_404(Person, missing)


def test_found_or_404_turns_a_services_not_found_into_a_404(app_ctx):
    def missing():
        raise NotFound("No such course")

    with pytest.raises(HTTPNotFound):
        flow.found_or_404(missing)
    with pytest.raises(HTTPNotFound):
        flow.found_or_404(lambda: None)
    assert flow.found_or_404(lambda: 7) == 7


def test_status_is_200_for_an_untouched_form_and_422_after_invalid_input():
    form = NameForm()
    assert flow.status(form) == 200
    form.last_name.errors = ["Enter a name"]
    assert flow.status(form) == 422
    assert flow.status(None) == 200


# --- one way to say what a button did ------------------------------------------------------------------

PACKAGE = Path(__file__).resolve().parent.parent / "mhfa"
VIEW_MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.name in ("views.py", "manage.py", "api.py"))
HAND_WRITTEN = re.compile(r"(?<![\w.])flash\(|import[^\n]*\bflash\b|\.flash\(|def _(act|save)\b")


def _hand_written(source: str) -> list[int]:
    return [n for n, line in enumerate(source.splitlines(), 1) if HAND_WRITTEN.search(line.split("#")[0])]


def test_views_say_what_a_button_did_only_through_the_flow():
    """``outcome.done``, ``flow.press`` or ``flow.say``: no view flashes by hand or keeps its own helper."""
    assert len(VIEW_MODULES) > 10
    found = {str(p.relative_to(PACKAGE.parent)): lines for p in VIEW_MODULES
             if (lines := _hand_written(p.read_text(encoding="utf-8")))}
    assert found == {}, f"say what a button did with outcome.done / flow.press / flow.say: {found}"


def test_the_check_finds_a_hand_written_flash():
    assert _hand_written('from flask import Blueprint, flash\nflash("Saved.", "success")\n') == [1, 2]
    assert _hand_written("outcome.flash(lambda v: 'x')\ndef _act(service):\n    pass\n") == [1, 2]
    assert _hand_written('outcome.done("Saved.")\nflow.say("Signed out.")\n') == []


def test_done_says_the_success_on_the_next_page_and_press_says_the_refusal_too(app, app_ctx):
    person = factories.person(last_name="Old")
    db.session.commit()
    with app.test_request_context("/", method="POST"):
        assert flow.attempt(_rename, person, "New").done(lambda renamed: f"{renamed.last_name} saved.")
        form = NameForm()
        assert not flow.attempt(_rename, person, "Other", refuse=DomainError("no", field="last_name"),
                                form=form).done("never said")

        class Pressed(NameForm):
            def validate_on_submit(self):
                return True

        refused = flow.press(Pressed(), _rename, person, "Again", refuse=Conflict("taken"), success="never said")
        pressed = flow.press(Pressed(), _rename, person, "Last", success="Renamed.")
        assert not refused.ok and pressed.ok
        from flask import get_flashed_messages
        assert get_flashed_messages(with_categories=True) == [("success", "New saved."), ("error", "taken"),
                                                              ("success", "Renamed.")]
