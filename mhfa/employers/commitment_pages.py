"""The Workplace Wellbeing Commitment's pages: the contact's award page, the programme team's award form on
an organisation's page, the public list of committed employers and the board's employer summary. Their
own blueprint, ``commitments``."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_login import current_user

from mhfa import flow
from mhfa.auth.access import public, role_required
from mhfa.auth.models import Role
from mhfa.employers import commitments, coverage, organisations, reports, summary
from mhfa.employers.forms import CommitmentForm, ConfirmForm, ListingForm
from mhfa.employers.models import Employer

bp = Blueprint("commitments", __name__)


def _organisation():
    return flow.found_or_404(organisations.require_organisation, current_user)


def _listing_form(employer) -> ListingForm:
    """The listing question, answered as the organisation is listed now."""
    commitment = employer.commitment
    if commitment is None:
        return ListingForm()
    return ListingForm(data={"listed": "yes" if commitment.listed_publicly else "no"})


# --- the contact --------------------------------------------------------------------------------------

def _award_page(template: str, employer, form=None, listing_form=None, **extra):
    """The award form (as recorded, unless ``form`` was just sent), the listing question, the award's
    standing and the organisation's coverage: the contact's page and the programme team's alike."""
    status = flow.status(form, listing_form)
    if form is None:
        form = CommitmentForm()
        form.fill(employer.commitment)
    return render_template(template, employer=employer, form=form,
                           listing_form=listing_form or _listing_form(employer),
                           standing=commitments.standing(employer), coverage=coverage.coverage(employer),
                           trained=reports.staff_counts(employer)["completed"], **extra), status


def _contact_page(employer, form=None, listing_form=None):
    return _award_page("employers/commitment.html", employer, form, listing_form,
                       award_years=commitments.AWARD_YEARS)


@bp.route("/employer/commitment", methods=["GET", "POST"])
@role_required(Role.EMPLOYER)
def commitment():
    """Your Workplace Wellbeing Commitment award, its expiry and your coverage against the 5% ask; record
    or renew the award (the programme team checks it) and choose whether to be on the public list."""
    employer = _organisation()
    form = CommitmentForm()
    if form.validate_on_submit():
        outcome = flow.attempt(commitments.record_commitment, employer, form.details(), current_user,
                               verify=False, form=form)
        if outcome.done("Award recorded. The programme team will check it."):
            return redirect(url_for(".commitment"))
    if form.is_submitted():
        return _contact_page(employer, form=form)
    return _contact_page(employer)


@bp.route("/employer/commitment/listing", methods=["POST"])
@role_required(Role.EMPLOYER)
def commitment_listing():
    """Opt in to (or out of) the public list of committed employers."""
    employer = _organisation()
    form = ListingForm()
    if form.validate_on_submit():
        outcome = flow.attempt(commitments.set_listing, employer, form.chosen(), current_user, form=form)
        if outcome.done("You are on the public list of committed employers." if form.chosen()
                        else "You are no longer on the public list."):
            return redirect(url_for(".commitment"))
    return _contact_page(employer, listing_form=form)


# --- the programme team ----------------------------------------------------------------------------------

#: The listing question as the programme team reads it (the contact's page says "us").
THEIR_LISTING = [("yes", "Yes, list them with their award level"), ("no", "No, do not list them")]


def _manage_page(employer, form=None, listing_form=None):
    listing_form = listing_form or _listing_form(employer)
    listing_form.listed.choices = THEIR_LISTING
    return _award_page("employers/manage_commitment.html", employer, form, listing_form, confirm=ConfirmForm())


@bp.route("/manage/employers/<int:employer_id>/commitment", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def manage_commitment(employer_id: int):
    """Record, change or verify an organisation's award (audited); choose whether it is publicly listed."""
    employer = flow.get_or_404(Employer, employer_id)
    form = CommitmentForm()
    if form.validate_on_submit():
        outcome = flow.attempt(commitments.record_commitment, employer, form.details(), current_user,
                               verify=True, form=form)
        if outcome.done(f"{employer.name}'s award is recorded and verified."):
            return redirect(url_for(".manage_commitment", employer_id=employer.id))
    if form.is_submitted():
        return _manage_page(employer, form=form)
    return _manage_page(employer)


@bp.route("/manage/employers/<int:employer_id>/commitment/verify", methods=["POST"])
@role_required(Role.COORDINATOR)
def verify_commitment(employer_id: int):
    """Mark the award a contact recorded as checked."""
    employer = flow.get_or_404(Employer, employer_id)
    flow.press(ConfirmForm(), commitments.verify_commitment, employer, current_user,
               success=lambda found: f"{employer.name}'s {found.level.label} award is verified.")
    return redirect(url_for(".manage_commitment", employer_id=employer.id))


@bp.route("/manage/employers/<int:employer_id>/commitment/listing", methods=["POST"])
@role_required(Role.COORDINATOR)
def manage_commitment_listing(employer_id: int):
    """List the organisation publicly (or not), as its contact asked."""
    employer = flow.get_or_404(Employer, employer_id)
    form = ListingForm()
    if form.validate_on_submit():
        outcome = flow.attempt(commitments.set_listing, employer, form.chosen(), current_user, form=form)
        if outcome.done(f"{employer.name} is {'on' if form.chosen() else 'off'} the public list."):
            return redirect(url_for(".manage_commitment", employer_id=employer.id))
    return _manage_page(employer, listing_form=form)


# --- everyone: the public list ---------------------------------------------------------------------------

@bp.route("/committed-employers")
@public
def committed_employers():
    """Organisations holding a current, verified Workplace Wellbeing Commitment award that chose to be listed."""
    return render_template("employers/committed.html", listed=commitments.public_list())


# --- the board -----------------------------------------------------------------------------------------

@bp.route("/reach/employers")
@role_required(Role.BOARD, Role.COORDINATOR)
def employer_summary():
    """Employers by award level and by sector: staff trained, current first aiders, the share meeting the 5% ask."""
    return render_template("employers/summary.html", found=summary.summary(), ask=coverage.COVERAGE_ASK)


@bp.route("/reach/employers.<fmt>")
@role_required(Role.BOARD, Role.COORDINATOR)
def employer_summary_download(fmt: str):
    """The employer summary as CSV (one row per organisation, then the groups) or Excel (a sheet each)."""
    if fmt not in ("csv", "xlsx"):
        abort(404)
    found = summary.summary()
    filename = f"employers-{found.as_of.isoformat()}.{fmt}"
    if fmt == "csv":
        return flow.file_response(summary.summary_csv(found).encode("utf-8"), filename, "text/csv")
    return flow.file_response(summary.summary_xlsx(found), filename, flow.XLSX)
