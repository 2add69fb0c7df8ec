"""Booking a place, cancelling it, and the trainee's own list of courses."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from mhfa.auth.access import login_required, role_required
from mhfa.auth.models import Role
from mhfa.bookings import deadlines, services
from mhfa.bookings.forms import BookingForm, CancelBookingForm, CancelForTraineeForm
from mhfa.bookings.models import BookingStatus
from mhfa.courses.models import Course
from mhfa.errors import DomainError, NotFound, show_on_form
from mhfa.extensions import db

bp = Blueprint("bookings", __name__)


def _course_or_404(course_id: int) -> Course:
    try:
        return services.course_for_booking(course_id, current_user, request.values.get("voucher_code"))
    except NotFound:
        abort(404)


def _booked_message(booking) -> str:
    name = booking.course.course_type.name
    if booking.status is BookingStatus.CONFIRMED:
        return f"You are booked on {name}. We have emailed you the details and a calendar file."
    position = services.waiting_position(booking)
    return (f"{name} is full, so you are on the waiting list: you are number {position}. "
            "We will email you if a place comes up.")


@bp.route("/courses/<int:course_id>/book", methods=["GET", "POST"])
@login_required
def book(course_id: int):
    """Book a place on a course, or join its waiting list when it is full."""
    course = _course_or_404(course_id)
    form = BookingForm()
    if request.method == "GET" and request.args.get("voucher_code"):
        form.voucher_code.data = request.args["voucher_code"].strip()  # a link from the employer
    status = 200
    if form.validate_on_submit():
        try:
            booking = services.book_for_user(current_user, course, voucher_code=form.voucher_code.data)
        except services.AlreadyBooked as error:
            db.session.rollback()
            flash(f"You already have this course in your list: {error.message}.", "info")
            return redirect(url_for(".my_courses"))
        except DomainError as error:
            db.session.rollback()
            show_on_form(form, error)
            status = error.status_code
        else:
            message = _booked_message(booking)
            db.session.commit()
            flash(message, "success")
            return redirect(url_for(".my_courses"))
    elif form.errors:
        status = 422
    person = current_user.person
    existing = services.live_booking(person, course) if person else None
    tried = existing or form.errors or form.form_errors
    return render_template(
        "bookings/book.html",
        course=course,
        form=form,
        existing=existing,
        problem=None if tried else services.booking_problem(current_user, course),
        places_left=services.places_left(course),
        closes_at=deadlines.booking_closes_at(course),
        cutoff=deadlines.cancellation_cutoff(course),
    ), status


@bp.route("/my-courses")
@login_required
def my_courses():
    """The signed-in person's bookings, waiting-list places and certificates."""
    data = services.my_courses(current_user.person)
    return render_template(
        "bookings/my_courses.html",
        data=data,
        can_cancel=services.can_cancel_online,
        cutoff=deadlines.cancellation_cutoff,
        contact=deadlines.contact_for,
    )


@bp.route("/bookings/<int:booking_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel(booking_id: int):
    """Cancel your own booking (or leave a waiting list), up to the course's cancellation cut-off."""
    try:
        booking = services.booking_of(current_user, booking_id)
    except NotFound:
        abort(404)
    form = CancelBookingForm()
    error = None
    status = 200
    if form.validate_on_submit():
        was_waitlisted = booking.status is BookingStatus.WAITLISTED
        try:
            services.cancel_booking(booking, by=current_user)
        except DomainError as refused:
            db.session.rollback()
            error, status = refused.message, refused.status_code
        else:
            db.session.commit()
            name = booking.course.course_type.name
            flash(f"You have left the waiting list for {name}." if was_waitlisted
                  else f"Your booking on {name} is cancelled. We have emailed you to confirm.", "success")
            return redirect(url_for(".my_courses"))
    return render_template(
        "bookings/cancel.html",
        booking=booking,
        course=booking.course,
        form=form,
        error=error,
        allowed=services.can_cancel_online(booking),
        cutoff=deadlines.cancellation_cutoff(booking.course),
        contact=deadlines.contact_for(booking.course),
        position=services.waiting_position(booking),
    ), status


# --- the programme team --------------------------------------------------------------------------

@bp.app_template_global()
def course_bookings(course: Course) -> services.CourseBookings:
    """For the coordinator's course page (``bookings/_course_bookings.html``): its bookings, in one query."""
    return services.course_bookings(course)


@bp.route("/manage/bookings/<int:booking_id>/cancel", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def cancel_trainee_booking(booking_id: int):
    """Cancel a trainee's booking on their behalf, with a reason; the next person waiting gets the seat."""
    try:
        booking = services.get_booking(booking_id)
    except NotFound:
        abort(404)
    form = CancelForTraineeForm()
    status = 200
    if form.validate_on_submit():
        try:
            promoted = services.cancel_booking(booking, by=current_user, reason=form.reason.data,
                                               override_cutoff=True)
        except DomainError as error:
            db.session.rollback()
            show_on_form(form, error)
            status = error.status_code
        else:
            message = f"{booking.person.full_name}'s booking is cancelled and they have been emailed."
            if promoted:
                names = ", ".join(b.person.full_name for b in promoted)
                verb = "was" if len(promoted) == 1 else "were"
                message += f" {names} moved up from the waiting list and {verb} emailed."
            db.session.commit()
            flash(message, "success")
            return redirect(url_for("courses.manage_course", course_id=booking.course_id))
    elif form.errors:
        status = 422
    course = booking.course
    return render_template(
        "bookings/cancel_for_trainee.html",
        booking=booking,
        course=course,
        form=form,
        position=services.waiting_position(booking),
        next_waiting=services.next_waiting(course) if booking.status is BookingStatus.CONFIRMED else None,
    ), status
