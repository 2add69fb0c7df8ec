"""Booking a place, cancelling it, and the trainee's own list of courses."""
from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user

from mhfa import flow
from mhfa.auth.access import login_required, role_required
from mhfa.auth.models import Role
from mhfa.bookings import deadlines, listings, services, vouchers
from mhfa.bookings.forms import BookingForm, CancelBookingForm, CancelForTraineeForm
from mhfa.bookings.models import BookingStatus

bp = Blueprint("bookings", __name__)


def _booked_message(booking) -> str:
    name = booking.course.course_type.name
    if booking.status is BookingStatus.CONFIRMED:
        return f"You are booked on {name}. We have emailed you the details and a calendar file."
    position = services.waiting_position(booking)
    return (f"{name} is full, so you are on the waiting list: you are number {position}. "
            "We will email you if a place comes up.")


def _book(user, course, typed_code: str | None):
    """Book with the place voucher the typed code names, read here where the code enters."""
    return services.book_for_user(user, course, voucher=vouchers.typed_voucher(typed_code))


@bp.route("/courses/<int:course_id>/book", methods=["GET", "POST"])
@login_required
def book(course_id: int):
    """Book a place on a course, or join its waiting list when it is full."""
    course = flow.found_or_404(listings.course_for_booking, course_id, current_user, request.values.get("voucher_code"))
    form = BookingForm()
    if request.method == "GET" and request.args.get("voucher_code"):
        form.voucher_code.data = request.args["voucher_code"].strip()  # a link from the employer
    if form.validate_on_submit():
        outcome = flow.attempt(_book, current_user, course, form.voucher_code.data, form=form)
        if outcome.done(_booked_message):
            return redirect(url_for(".my_courses"))
        if isinstance(outcome.error, services.AlreadyBooked):
            flow.say(f"You already have this course in your list: {outcome.error.message}.", "info")
            return redirect(url_for(".my_courses"))
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
        cancel_note=deadlines.cancellation_note(course),
    ), flow.status(form)


@bp.route("/my-courses")
@login_required
def my_courses():
    """The signed-in person's bookings, waiting-list places and certificates."""
    data = listings.my_courses(current_user.person)
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
    booking = flow.found_or_404(listings.booking_of, current_user, booking_id)
    form = CancelBookingForm()
    error = None
    if form.validate_on_submit():
        was_waitlisted = booking.status is BookingStatus.WAITLISTED
        name = booking.course.course_type.name
        outcome = flow.attempt(services.cancel_booking, booking, by=current_user, form=form)
        if outcome.done(f"You have left the waiting list for {name}." if was_waitlisted
                        else f"Your booking on {name} is cancelled. We have emailed you to confirm."):
            return redirect(url_for(".my_courses"))
        error = outcome.error.message  # the page shows it above the form
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
    ), flow.status(form)


# --- the programme team --------------------------------------------------------------------------

def _cancelled_for_trainee_message(booking, promoted) -> str:
    message = f"{booking.person.full_name}'s booking is cancelled and they have been emailed."
    if promoted:
        names = ", ".join(b.person.full_name for b in promoted)
        verb = "was" if len(promoted) == 1 else "were"
        message += f" {names} moved up from the waiting list and {verb} emailed."
    return message


@bp.route("/manage/bookings/<int:booking_id>/cancel", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def cancel_trainee_booking(booking_id: int):
    """Cancel a trainee's booking on their behalf, with a reason; the next person waiting gets the seat."""
    booking = flow.found_or_404(listings.get_booking, booking_id)
    form = CancelForTraineeForm()
    if form.validate_on_submit():
        outcome = flow.attempt(services.cancel_booking, booking, by=current_user, reason=form.reason.data,
                               override_cutoff=True, form=form)
        if outcome.done(lambda promoted: _cancelled_for_trainee_message(booking, promoted)):
            return redirect(url_for("courses.manage_course", course_id=booking.course_id))
    course = booking.course
    return render_template(
        "bookings/cancel_for_trainee.html",
        booking=booking,
        course=course,
        form=form,
        position=services.waiting_position(booking),
        next_waiting=listings.next_waiting(course) if booking.status is BookingStatus.CONFIRMED else None,
    ), flow.status(form)
