"""Instructors' pages: my teaching, each course's registers, and marking a session's register.

Completing a course issues certificates, so its page lives in the certificates blueprint
(``certificates.complete_course``), as does changing a completed course's register.
"""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user

from mhfa import flow
from mhfa.attendance import non_completion, services, teaching
from mhfa.attendance.forms import MARK_PREFIX, ActionForm, RegisterForm
from mhfa.attendance.models import why
from mhfa.auth.access import role_required
from mhfa.auth.models import Role
from mhfa.courses.feeds import feed_for
from mhfa.courses.instructors import instructor_for
from mhfa.courses.models import Course, CourseSession, CourseStatus, FeedKind

bp = Blueprint("attendance", __name__)


def _course_for_register(course: Course) -> Course:
    if not services.can_take_register(course, current_user):
        abort(403)
    return course


def _session_for_register(session_id: int) -> CourseSession:
    """The session whose register is asked for (404 if none), when the signed-in user may take it (else 403)."""
    session = flow.get_or_404(CourseSession, session_id)
    _course_for_register(session.course)
    return session


@bp.route("/teaching")
@role_required(Role.INSTRUCTOR)
def my_teaching():
    """The courses the signed-in instructor teaches, with links to their registers and calendar feed."""
    return render_template(
        "attendance/my_teaching.html",
        teaching=teaching.teaching(current_user),
        instructor=instructor_for(current_user),
        feed=feed_for(current_user, FeedKind.INSTRUCTOR),
    )


@bp.route("/teaching/courses/<int:course_id>")
@role_required(Role.INSTRUCTOR, Role.COORDINATOR)
def course_registers(course_id: int):
    """One course's sessions, each with its register and how far it is taken, and how far the course is from
    completion."""
    course = _course_for_register(flow.get_or_404(Course, course_id))
    return render_template(
        "attendance/course.html",
        course=course,
        preview=services.completion_preview(course),
        not_completed=non_completion.non_completions(course),
        why=why,
        refusals={s.id: services.marking_refusal(s) for s in course.sessions},
        states=services.register_states(course),
        is_coordinator=current_user.has_role(Role.COORDINATOR),
        too_early=services.too_early_to_complete(course),
    )


def _register_page(session: CourseSession, form: RegisterForm, status: int = 200):
    return render_template(
        "attendance/register.html",
        session=session,
        course=session.course,
        rows=services.register(session),
        form=form,
        action_form=ActionForm(),
        refusal=services.marking_refusal(session),
        prefix=MARK_PREFIX,
        sent=request.form if request.method == "POST" else {},
        is_coordinator=current_user.has_role(Role.COORDINATOR),
        # The way on once every register is marked: check and complete (or when, if the course runs on).
        all_marked=(session.course.status is CourseStatus.PUBLISHED
                    and services.completion_preview(session.course).ready),
        too_early=services.too_early_to_complete(session.course),
    ), status


@bp.route("/teaching/sessions/<int:session_id>/register", methods=["GET", "POST"])
@role_required(Role.INSTRUCTOR, Role.COORDINATOR)
def register(session_id: int):
    """The register of one session: every confirmed trainee, present or absent."""
    session = _session_for_register(session_id)
    form = RegisterForm()
    if form.validate_on_submit():
        statuses = form.statuses(request.form)
        if not form.form_errors:
            outcome = flow.attempt(services.mark_register, session, statuses, current_user,
                                   reasons=form.reasons(request.form), form=form)
            if outcome.done(lambda changed: f"Register saved: {changed} {'mark' if changed == 1 else 'marks'}"
                                            " changed."):
                return redirect(url_for(".register", session_id=session.id))
    elif request.method == "POST":
        form.form_errors.append("The form expired: reload the page and try again")
    return _register_page(session, form, flow.status(form) if request.method == "POST" else 200)


@bp.route("/teaching/sessions/<int:session_id>/register/all-present", methods=["POST"])
@role_required(Role.INSTRUCTOR, Role.COORDINATOR)
def mark_all_present(session_id: int):
    """Mark every confirmed trainee present for the session."""
    session = _session_for_register(session_id)
    form = ActionForm()
    if form.validate_on_submit():
        outcome = flow.attempt(services.mark_all_present, session, current_user, form=form)
        if outcome.done("Everyone is marked present."):
            return redirect(url_for(".register", session_id=session.id))
        register_form = RegisterForm()
        register_form.form_errors.extend(form.form_errors)
        return _register_page(session, register_form, flow.status(form))
    abort(400)
