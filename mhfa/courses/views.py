"""Courses: the public finder and course pages, calendar files and feeds, and the coordinators' pages.

Views are thin: parse the request, hand one service call to ``mhfa.flow`` (which commits once, or rolls
back and puts every problem on its field), then render or redirect.
"""
from __future__ import annotations

from dataclasses import replace
from urllib.parse import parse_qsl

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_login import current_user

from mhfa import flow
from mhfa.areas.services import all_areas
from mhfa.auth.access import public, role_required
from mhfa.auth.models import Role
from mhfa.courses import calendar, listings, places, rules, scheduling, signals, visibility
from mhfa.courses import instructors as instructor_services
from mhfa.courses import standing as instructor_standing
from mhfa.courses import venues as venue_services
from mhfa.courses.filter_forms import FinderForm, ManageFilterForm
from mhfa.courses.forms import (
    ActionForm,
    AssignInstructorForm,
    CancelCourseForm,
    CourseForm,
    FundingForm,
)
from mhfa.courses.models import Course, FundingStream, Instructor, Venue
from mhfa.courses.venue_instructor_forms import DevelopmentForm, InstructorForm, VenueForm, venue_form_data
from mhfa.errors import NotFound
from mhfa.pagination import page_url
from mhfa.timeutil import london_today, utcnow

bp = Blueprint("courses", __name__)


# --- public ------------------------------------------------------------------------------------

@bp.route("/courses")
@public
def finder():
    """Find a course: filter by area, course, dates, in person or online and free places; soonest first."""
    form = FinderForm.read(request.args, *listings.finder_choices())
    filters = form.placed_filters(listings.place_postcode)
    query = request.query_string.decode("utf-8", "replace")[:1000]
    if session.get(_FINDER_QUERY, "") != query:
        session[_FINDER_QUERY] = query  # the course page's back link returns to this search
    page = listings.find_courses(filters, current_user, page=request.args.get("page", 1, type=int))
    return render_template("courses/finder.html", form=form, page=page, page_url=page_url("courses.finder"),
                           filtered=bool(request.args), near=filters.near)


FINDER_KEYS = ("area", "type", "mode", "from_date", "to_date", "postcode", "free_places", "sort", "page")


_FINDER_QUERY = "finder_query"


def finder_back(query: str | None) -> str:
    """The finder with the filters of the visitor's last search (its query string, kept in their
    session), so "back" returns to the same list; only the finder's own keys are kept."""
    kept = {k: v[:100] for k, v in parse_qsl(query or "", keep_blank_values=False)[:20] if k in FINDER_KEYS}
    return url_for("courses.finder", **kept)


@bp.app_template_global("finder_back")
def _finder_back_global() -> str:
    return finder_back(session.get(_FINDER_QUERY))


@bp.route("/courses/<int:course_id>")
@public
def course_page(course_id: int):
    """One course: type, certificate, sessions in London time, place and access, places, price, how to book."""
    course, booking = flow.found_or_404(visibility.course_for_viewer, course_id, current_user)
    now = utcnow()
    return render_template(
        "courses/course.html",
        course=course,
        booking=booking,
        places=places.places(course),
        bookable=course.booking_open_at(now),
        started=course.starts_at is not None and course.starts_at <= now,
        show_joining_url=visibility.can_see_joining_url(course, current_user, booking),
        ics_url=calendar.course_ics_url(course),
    )


# --- coordinators: courses --------------------------------------------------------------------

@bp.route("/manage/courses")
@role_required(Role.COORDINATOR)
def manage_courses():
    """Every course, filtered by status, area, dates, when it starts and whether it needs an instructor, with
    its instructors, bookings and waiting lists."""
    areas = all_areas()
    form = ManageFilterForm(formdata=request.args or None, areas=areas)
    form.validate()
    if not set(request.args) - {"page"}:  # the list opens on the courses not started yet, and its form says so
        form.starts.data = "upcoming"
    filters = form.filters()
    page = listings.list_courses(filters, page=request.args.get("page", 1, type=int))
    return render_template("courses/manage_courses.html", form=form, page=page,
                           page_url=page_url("courses.manage_courses"))


def _course_form(course: Course | None = None) -> CourseForm:
    choices = scheduling.course_form_choices(course)
    if course is None:
        return CourseForm(**choices)
    return CourseForm(data=CourseForm.data_of(course), **choices)


@bp.route("/manage/courses/new", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def new_course():
    """Schedule a course: it starts as a draft."""
    form = _course_form()
    if form.validate_on_submit():
        outcome = flow.attempt(scheduling.create_course, form.details(), current_user, form=form)
        if outcome.done("Course saved as a draft. Assign an instructor and publish it when it is ready."):
            return redirect(url_for("courses.manage_course", course_id=outcome.value.id))
    elif form.partly_read():
        form.show_rule_problems(rules.course_problems(form.details(substitute=True)))
    return render_template("courses/course_form.html", form=form, course=None), flow.status(form)


@bp.route("/manage/courses/<int:course_id>")
@role_required(Role.COORDINATOR)
def manage_course(course_id: int):
    """A course as coordinators see it: details, sessions, instructors, bookings, history and actions."""
    course = flow.get_or_404(Course, course_id)
    form = AssignInstructorForm(instructors=instructor_services.instructors_available_for(course))
    return _manage_course_page(course, form)


def _manage_course_page(course: Course, assign_form: AssignInstructorForm, status: int = 200):
    return render_template(
        "courses/manage_course.html", course=course, places=places.places(course), assign_form=assign_form,
        action_form=ActionForm(), history=scheduling.course_history(course), now=utcnow(),
        sections=signals.course_page_sections.send(course),
    ), status


@bp.route("/manage/courses/<int:course_id>/edit", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def edit_course(course_id: int):
    """Change a course; new times or a new venue for a published course reschedule it and tell its trainees."""
    course = flow.get_or_404(Course, course_id)
    if refusal := scheduling.closed_for_changes(course):  # said when the page opens, not after the form is filled
        return render_template("courses/closed_for_changes.html", course=course, refusal=refusal), 409
    form = _course_form(course)
    if form.validate_on_submit():
        outcome = flow.attempt(scheduling.change_course, course, form.details(), current_user, form=form)
        if outcome.done(lambda rescheduled: "Course rescheduled: booked trainees have been emailed the new details."
                        if rescheduled else "Course updated."):
            return redirect(url_for("courses.manage_course", course_id=course.id))
    elif form.partly_read():
        form.show_rule_problems(rules.course_problems(form.details(substitute=True), course))
    return render_template("courses/course_form.html", form=form, course=course), flow.status(form)


@bp.route("/manage/courses/<int:course_id>/publish", methods=["POST"])
@role_required(Role.COORDINATOR)
def publish_course(course_id: int):
    """Open a draft course to the public finder and to booking."""
    course = flow.get_or_404(Course, course_id)
    success = ("Course published: it is in the course finder now." if course.employer_id is None else
               f"Course published: {course.employer.name} can order its places now. It is a closed course, "
               "so it is not in the public course finder.")
    flow.press(ActionForm(), scheduling.publish_course, course, current_user, success=success)
    return redirect(url_for("courses.manage_course", course_id=course_id))


@bp.route("/manage/courses/<int:course_id>/cancel", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def cancel_course(course_id: int):
    """Cancel a course, with the reason booked trainees are told."""
    course = flow.get_or_404(Course, course_id)
    if refusal := scheduling.closed_for_changes(course):
        return render_template("courses/closed_for_changes.html", course=course, refusal=refusal), 409
    form = CancelCourseForm()
    if form.validate_on_submit():
        outcome = flow.attempt(scheduling.cancel_course, course, form.reason.data, current_user, form=form)
        if outcome.done(lambda notified: f"Course cancelled. {notified} booked trainee{'s' if notified != 1 else ''}"
                                         " emailed."):
            return redirect(url_for("courses.manage_course", course_id=course.id))
    return render_template("courses/cancel_course.html", form=form, course=course,
                           places=places.places(course)), flow.status(form)


@bp.route("/manage/courses/<int:course_id>/funding", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def course_funding(course_id: int):
    """Record who pays for a course and what delivering it cost, also after it has run."""
    course = flow.get_or_404(Course, course_id)
    form = FundingForm(data=None if request.method == "POST" else FundingForm.data_of(course))
    if form.validate_on_submit():
        outcome = flow.attempt(scheduling.record_funding, course, FundingStream(form.funding_stream.data),
                               form.delivery_cost_pence, current_user, form=form)
        if outcome.done("Funding stream and delivery cost saved; reach spend updated."):
            return redirect(url_for("courses.manage_course", course_id=course.id))
    return render_template("courses/funding_form.html", form=form, course=course), flow.status(form)


@bp.route("/manage/courses/<int:course_id>/instructors", methods=["POST"])
@role_required(Role.COORDINATOR)
def assign_instructor(course_id: int):
    """Put an instructor on the course (refused for an expired licence or a clashing course)."""
    course = flow.get_or_404(Course, course_id)
    form = AssignInstructorForm(instructors=instructor_services.instructors_available_for(course))
    if form.validate_on_submit():
        instructor = flow.get_or_404(Instructor, form.instructor_id())
        outcome = flow.attempt(instructor_services.assign_instructor, course, instructor, current_user, form=form)
        if outcome.done(f"{instructor.person.full_name} is teaching this course."):
            return redirect(url_for("courses.manage_course", course_id=course.id))
    return _manage_course_page(course, form, flow.status(form))


@bp.route("/manage/courses/<int:course_id>/instructors/<int:instructor_id>/remove", methods=["POST"])
@role_required(Role.COORDINATOR)
def remove_instructor(course_id: int, instructor_id: int):
    """Take an instructor off the course."""
    course = flow.get_or_404(Course, course_id)
    instructor = flow.get_or_404(Instructor, instructor_id)
    flow.press(ActionForm(), instructor_services.remove_instructor, course, instructor, current_user,
               success=f"{instructor.person.full_name} is no longer on this course.")
    return redirect(url_for("courses.manage_course", course_id=course_id))


# --- coordinators: venues ---------------------------------------------------------------------

@bp.route("/manage/venues")
@role_required(Role.COORDINATOR)
def venues():
    """Venues, with their council area and access."""
    return render_template("courses/venues.html", venues=venue_services.list_venues(), action_form=ActionForm())


@bp.route("/manage/venues/new", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def new_venue():
    """Add a venue."""
    form = VenueForm(areas=all_areas())
    # The form for a new venue has no "In use" box (an unticked box posts nothing): a new venue is in use.
    if form.validate_on_submit() and flow.attempt(
            venue_services.create_venue, replace(form.details(), active=True), current_user,
            form=form).done("Venue added."):
        return redirect(url_for("courses.venues"))
    return render_template("courses/venue_form.html", form=form, venue=None), flow.status(form)


@bp.route("/manage/venues/<int:venue_id>/edit", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def edit_venue(venue_id: int):
    """Change a venue, or mark it as no longer in use."""
    venue = flow.get_or_404(Venue, venue_id)
    form = VenueForm(areas=all_areas(), data=venue_form_data(venue))
    if form.validate_on_submit() and flow.attempt(
            venue_services.update_venue, venue, form.details(), current_user, form=form).done("Venue updated."):
        return redirect(url_for("courses.venues"))
    return render_template("courses/venue_form.html", form=form, venue=venue,
                           ahead=venue_services.venue_courses_ahead(venue)), flow.status(form)


@bp.route("/manage/venues/<int:venue_id>/delete", methods=["POST"])
@role_required(Role.COORDINATOR)
def delete_venue(venue_id: int):
    """Delete a venue that no course uses."""
    venue = flow.get_or_404(Venue, venue_id)
    flow.press(ActionForm(), venue_services.delete_venue, venue, current_user, success="Venue deleted.")
    return redirect(url_for("courses.venues"))


# --- coordinators: instructors ----------------------------------------------------------------

@bp.route("/manage/instructors")
@role_required(Role.COORDINATOR)
def instructors():
    """Instructors, with their licence and its expiry."""
    return render_template("courses/instructors.html", instructors=instructor_services.list_instructors(),
                           today=london_today(), action_form=ActionForm())


@bp.route("/manage/instructors/at-risk")
@role_required(Role.COORDINATOR)
def instructors_at_risk():
    """Active instructors at risk of lapsing: licence expiring within six months, or fewer than two courses
    delivered in the last twelve months."""
    return render_template("courses/instructors_at_risk.html", standings=instructor_standing.at_risk(),
                           risk_days=instructor_standing.RISK_DAYS, courses_a_year=instructor_standing.COURSES_A_YEAR)


@bp.route("/manage/instructors/<int:instructor_id>")
@role_required(Role.COORDINATOR)
def instructor_standing_page(instructor_id: int):
    """An instructor's standing: licence, qualifications with their dates, courses delivered, development."""
    instructor = flow.get_or_404(Instructor, instructor_id)
    return render_template("courses/instructor_standing.html", found=instructor_standing.standing_of(instructor),
                           own=False, form=None, confirm=None, courses_a_year=instructor_standing.COURSES_A_YEAR)


@bp.route("/teaching/standing", methods=["GET", "POST"])
@role_required(Role.INSTRUCTOR)
def my_standing():
    """Your licence, qualifications, courses delivered in the last twelve months and development records;
    add a development record."""
    instructor = flow.found_or_404(_own_instructor)
    form = DevelopmentForm()
    if form.validate_on_submit():
        outcome = flow.attempt(instructor_standing.add_development, instructor, form.details(), current_user,
                               form=form)
        if outcome.done("Development record added."):
            return redirect(url_for(".my_standing"))
    return render_template("courses/instructor_standing.html", found=instructor_standing.standing_of(instructor),
                           own=True, form=form, confirm=ActionForm(),
                           courses_a_year=instructor_standing.COURSES_A_YEAR), flow.status(form)


@bp.route("/teaching/standing/development/<int:record_id>/remove", methods=["POST"])
@role_required(Role.INSTRUCTOR)
def remove_development(record_id: int):
    """Remove one of your development records."""
    instructor = flow.found_or_404(_own_instructor)
    flow.press(ActionForm(), instructor_standing.remove_development, instructor, record_id, current_user,
               success="Development record removed.")
    return redirect(url_for(".my_standing"))


def _own_instructor() -> Instructor:
    instructor = instructor_services.instructor_for(current_user)
    if instructor is None:
        raise NotFound("Your account is not an instructor's.")
    return instructor


@bp.route("/manage/instructors/new", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def new_instructor():
    """Add a licensed instructor."""
    form = InstructorForm(course_types=instructor_services.active_course_types())
    # The form for a new instructor has no "active" box (an unticked box posts nothing): a new one is active.
    if form.validate_on_submit() and flow.attempt(
            instructor_services.create_instructor, replace(form.details(), active=True), current_user,
            form=form).done("Instructor added."):
        return redirect(url_for("courses.instructors"))
    return render_template("courses/instructor_form.html", form=form, instructor=None), flow.status(form)


@bp.route("/manage/instructors/<int:instructor_id>/edit", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def edit_instructor(instructor_id: int):
    """Change an instructor's details or licence."""
    instructor = flow.get_or_404(Instructor, instructor_id)
    person = instructor.person
    form = InstructorForm(course_types=instructor_services.active_course_types(), obj=instructor,
                          data={"first_name": person.first_name, "last_name": person.last_name, "email": person.email,
                                "licensed_types": [kind.id for kind in instructor.course_types]})
    if form.validate_on_submit() and flow.attempt(
            instructor_services.update_instructor, instructor, form.details(), current_user,
            form=form).done("Instructor updated."):
        return redirect(url_for("courses.instructors"))
    return render_template("courses/instructor_form.html", form=form, instructor=instructor), flow.status(form)


@bp.route("/manage/instructors/<int:instructor_id>/delete", methods=["POST"])
@role_required(Role.COORDINATOR)
def delete_instructor(instructor_id: int):
    """Delete an instructor who is on no course."""
    instructor = flow.get_or_404(Instructor, instructor_id)
    flow.press(ActionForm(), instructor_services.delete_instructor, instructor, current_user,
               success="Instructor deleted.")
    return redirect(url_for("courses.instructors"))
