"""Privacy: your own data to download; for coordinators, a person's data, erasure, and the audit log."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from mhfa import flow
from mhfa.auth.access import login_required, role_required
from mhfa.auth.models import Role
from mhfa.pagination import page_url, paginate
from mhfa.people.models import Person
from mhfa.privacy import search, services
from mhfa.privacy.forms import AuditSearchForm, EraseForm, PeopleSearchForm

bp = Blueprint("privacy", __name__)
AUDIT_PAGE_SIZE = 50


def _download(person: Person, fmt: str, reason: str | None = None):
    stem = f"mhfa-reach-personal-data-{person.id}"
    if fmt == "json":
        document = services.export_json(person, current_user, reason)
        flow.commit()
        response = jsonify(document)
    else:
        text = services.export_csv(person, current_user, reason)
        flow.commit()
        response = Response(text, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{stem}.{fmt}"'
    return response


@bp.route("/account/my-data")
@login_required
def my_data():
    """What we hold about you, to download."""
    return render_template("privacy/my_data.html", person=current_user.person)


@bp.route("/account/my-data.json", defaults={"fmt": "json"})
@bp.route("/account/my-data.csv", defaults={"fmt": "csv"})
@login_required
def download_my_data(fmt: str):
    """Everything held about you, as JSON or CSV."""
    person = flow.found_or_404(lambda: current_user.person)
    return _download(person, fmt)


@bp.route("/manage/people")
@role_required(Role.COORDINATOR)
def people():
    """Find a person's record, to answer a data-protection request."""
    form = PeopleSearchForm(formdata=request.args)
    form.validate()
    found = search.find_people(form.q.data or "") if not form.errors else []
    return render_template("privacy/people.html", form=form, found=found), flow.status(form)


@bp.route("/manage/people/<int:person_id>/data.json", defaults={"fmt": "json"})
@bp.route("/manage/people/<int:person_id>/data.csv", defaults={"fmt": "csv"})
@role_required(Role.COORDINATOR)
def person_data(person_id: int, fmt: str):
    """Everything held about a person, for a request received by post (audited)."""
    person = flow.get_or_404(Person, person_id)
    return _download(person, fmt, reason=(request.args.get("reason") or "")[:200] or None)


@bp.route("/manage/people/<int:person_id>/erase", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def erase_person(person_id: int):
    """Erase a person's record (personal data removed; reach and certificate numbers kept)."""
    person = flow.get_or_404(Person, person_id)
    form = EraseForm()
    if form.validate_on_submit():
        outcome = flow.attempt(services.erase_person, person, current_user, form.reason.data, form=form)
        if outcome.done(f"Record {person.id} has been erased."):
            return redirect(url_for(".people", q=person.id))
    return render_template("privacy/erase.html", person=person, form=form), flow.status(form)


@bp.route("/manage/audit")
@role_required(Role.COORDINATOR)
def audit_log():
    """Search the audit log (read-only: nothing in the app changes or deletes an entry)."""
    form = AuditSearchForm(formdata=request.args)
    form.validate()

    def ok(field):
        return field.data if not field.errors else None

    query = search.audit_query(action=ok(form.action) or "", entity_type=ok(form.entity_type) or "",
                                 entity_id=ok(form.entity_id), actor_id=ok(form.actor_id))
    page = paginate(query, request.args.get("page", 1, type=int), AUDIT_PAGE_SIZE)
    return render_template("privacy/audit.html", form=form, page=page,
                           page_url=page_url("privacy.audit_log")), flow.status(form)
