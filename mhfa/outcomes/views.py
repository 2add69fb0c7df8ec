"""Outcomes pages: answering an evaluation from its email link, a course's results, the programme team's settings."""
from __future__ import annotations

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_login import current_user

from mhfa import flow
from mhfa.attendance import services as attendance
from mhfa.auth.access import role_required, token_or_public
from mhfa.auth.models import Role
from mhfa.courses.models import Course, CourseType
from mhfa.extensions import db
from mhfa.outcomes import board, evaluations, followups, questionnaires
from mhfa.outcomes.forms import ActionForm, EvaluationSettingsForm, answers_of, questionnaire_form
from mhfa.outcomes.models import EVALUATION, FOLLOW_UP
from mhfa.reach import exports
from mhfa.reach.dashboard import areas_in_order, course_types
from mhfa.reach.forms import BASIS_LABELS, parse_filters

BOARD_ROLES = (Role.BOARD, Role.COORDINATOR)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WORKBOOK_TITLE = "MHFA Reach: outcomes of the training"

bp = Blueprint("outcomes", __name__)


def _questionnaire_page(kind: str, token: str, endpoint: str):
    invitation = flow.found_or_404(evaluations.by_token, token, kind)
    problem = evaluations.refusal(invitation, current_user)
    if problem is not None:
        return render_template("outcomes/closed.html", invitation=invitation, message=problem.message), \
            flow.http_status(problem)
    questionnaire = questionnaires.current(kind)
    form = questionnaire_form(questionnaire)
    if form.validate_on_submit():
        outcome = flow.attempt(evaluations.answer, invitation, answers_of(form, questionnaire), current_user, form=form)
        if outcome.ok:
            return redirect(url_for(".answered", token=token, kind=kind))
    return render_template("outcomes/questionnaire.html", invitation=invitation, questionnaire=questionnaire,
                           form=form, endpoint=endpoint), flow.status(form)


@bp.route("/evaluation/<token>", methods=["GET", "POST"])
@token_or_public
def evaluate(token: str):
    """The end-of-course evaluation, opened from its email link: one page, answered once."""
    return _questionnaire_page(EVALUATION, token, "outcomes.evaluate")


@bp.route("/follow-up/<token>", methods=["GET", "POST"])
@token_or_public
def follow_up(token: str):
    """The six-month follow-up, opened from its email link: one page, answered once."""
    return _questionnaire_page(FOLLOW_UP, token, "outcomes.follow_up")


@bp.route("/follow-up/<token>/stop", methods=["GET", "POST"])
@token_or_public
def opt_out(token: str):
    """Stop every follow-up email: one button, from the email's link."""
    invitation = flow.found_or_404(evaluations.by_token, token, FOLLOW_UP)
    form = ActionForm()
    if form.validate_on_submit():
        flow.attempt(followups.opt_out, invitation)
        return render_template("outcomes/opted_out.html")
    if followups.is_opted_out(invitation.person_id):
        return render_template("outcomes/opted_out.html")
    return render_template("outcomes/opt_out.html", form=form), flow.status(form)


@bp.route("/answered/<kind>/<token>")
@token_or_public
def answered(kind: str, token: str):
    """Thank you: what happens to the answers (and, for an evaluation, the way to the certificate)."""
    if kind not in ("evaluation", "follow_up"):
        abort(404)
    invitation = flow.found_or_404(evaluations.by_token, token, kind)
    if invitation.answered_at is None:
        return redirect(url_for(".evaluate" if kind == EVALUATION else ".follow_up", token=token))
    return render_template("outcomes/answered.html", invitation=invitation)


@bp.route("/teaching/courses/<int:course_id>/evaluation")
@role_required(Role.INSTRUCTOR, Role.COORDINATOR)
def course_results(course_id: int):
    """How the course's trainees rated it: shown from 5 answers, comments without names."""
    course = flow.get_or_404(Course, course_id)
    if not attendance.can_take_register(course, current_user):
        abort(403)
    return render_template("outcomes/course_results.html", course=course,
                           results=evaluations.course_results(course), minimum=evaluations.MIN_GROUP)


@bp.route("/manage/outcomes/settings", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def evaluation_settings():
    """Which course types' certificates wait for the evaluation (none by default)."""
    types = list(db.session.scalars(db.select(CourseType).order_by(CourseType.name)))
    form = EvaluationSettingsForm()
    form.required.choices = [(t.id, t.name) for t in types]
    if not form.is_submitted():
        form.required.data = sorted(evaluations.evaluation_required())
    if form.validate_on_submit():
        outcome = flow.attempt(evaluations.set_evaluation_required, set(form.required.data or []), form=form)
        if outcome.done("Evaluation settings saved."):
            return redirect(url_for(".evaluation_settings"))
    return render_template("outcomes/settings.html", form=form), flow.status(form)


# --- the board -----------------------------------------------------------------------------------------

@bp.route("/reach/outcomes")
@role_required(*BOARD_ROLES)
def board_outcomes():
    """What the training did: evaluations, follow-ups, the funnel and current first aiders, under the filters."""
    parsed = parse_filters(request.args, areas_in_order(), course_types())
    tables = board.all_tables(parsed.filters)
    return render_template("outcomes/board.html", parsed=parsed, summary=board.summary(parsed.filters),
                           tables=tables, areas=areas_in_order(), types=course_types(), basis_labels=BASIS_LABELS,
                           page_title="Outcomes"), 400 if parsed.errors else 200


@bp.route("/reach/outcomes/download/<name>.<fmt>")
@role_required(*BOARD_ROLES)
def download(name: str, fmt: str):
    """One outcomes table as CSV or Excel, or every one as one workbook (``all.xlsx``)."""
    parsed = parse_filters(request.args, areas_in_order(), course_types())
    if parsed.errors:
        abort(400)
    tables = board.all_tables(parsed.filters)
    if fmt == "xlsx" and name == "all":
        return _attachment(_workbook(tables, parsed), "outcomes.xlsx", XLSX)
    table = next((t for t in tables if t.name == name), None)
    if table is None or fmt not in ("csv", "xlsx"):
        abort(404)
    if fmt == "xlsx":
        return _attachment(_workbook([table], parsed), f"{name}.xlsx", XLSX)
    return _attachment(exports.table_csv(table, [table.title, parsed.describe()]).encode("utf-8-sig"),
                       f"{name}.csv", "text/csv")


def _workbook(tables, parsed) -> bytes:
    return exports.tables_xlsx(tables, filters_text=parsed.describe(), title=WORKBOOK_TITLE)


def _attachment(body: bytes, filename: str, mimetype: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
