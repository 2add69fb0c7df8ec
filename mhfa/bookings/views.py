"""Booking a place, cancelling it, and the trainee's own list of courses."""
from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user

from mhfa import flow
from mhfa.auth.access import login_required, role_required, token_or_public
from mhfa.auth.models import Role
from mhfa.bookings import deadlines, interest, listings, offers, services, transfers, vouchers
from mhfa.bookings.forms import (
    AnswerOfferForm,
    BookingForm,
    CancelBookingForm,
    CancelForTraineeForm,
    GiveBackForm,
    InterestForm,
    RemoveInterestForm,
    TransferForm,
)
from mhfa.bookings.models import BookingStatus
from mhfa.timeutil import format_london

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
        held=services.certificate_held(person, course) if person and not existing else None,
        same_kind=services.booked_on_same_kind(person, course) if person and not existing else None,
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
    if current_user.person_id is not None and flow.attempt(offers.expire_due_offers,
                                                           person_id=current_user.person_id).value:
        flow.say("A place offered to you from a waiting list was not accepted in time: it has gone to the next "
                 "person.", "info")
    data = listings.my_courses(current_user.person)
    return render_template(
        "bookings/my_courses.html",
        data=data,
        holds_offer=offers.holds_offer,
        can_give_back=offers.can_give_back,
        give_back_form=GiveBackForm(),
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
    for offered in offers.pending_offers(booking.course):
        message += (f" {offered.person.full_name} has been offered the place until "
                    f"{format_london(offered.offer_expires_at)} and emailed.")
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
        offer_applies=offers.offer_applies(course),
        offer_hours=offers.offer_rules().hours,
    ), flow.status(form)


# --- moving a booking to another date ------------------------------------------------------------------

def _date_label(course) -> str:
    where = f"{course.venue.name}, {course.venue.town}" if course.venue else "Online"
    left = services.places_left(course)
    places = f"{left} place{'s' if left != 1 else ''} left" if left > 0 else "full: you would join the waiting list"
    return f"{format_london(course.starts_at)}, {where} ({places})"


def _transfer_page(booking, *, by_coordinator: bool, template: str, said, back):
    """The page that moves a booking to another date; on success ``said(moved)`` is said on the page
    ``back(moved)`` leads to."""
    dates = transfers.other_dates(booking)
    form = TransferForm()
    form.course_id.choices = [(course.id, _date_label(course)) for course in dates]
    if by_coordinator:
        form.submit.label.text = "Move this booking"
    if form.validate_on_submit():
        to_course = next(course for course in dates if course.id == form.course_id.data)
        outcome = flow.attempt(transfers.transfer_booking, booking, to_course, by=current_user,
                               override_cutoff=by_coordinator, form=form)
        if outcome.done(said):
            return redirect(back(outcome.value))
    return render_template(
        template,
        booking=booking,
        course=booking.course,
        form=form,
        dates=dates,
        by_coordinator=by_coordinator,
        allowed=by_coordinator or transfers.can_transfer_online(booking),
        cutoff=deadlines.cancellation_cutoff(booking.course),
        contact=deadlines.contact_for(booking.course),
    ), flow.status(form)


def _moved_message(transfer, whose: str) -> str:
    new = transfer.booking
    when = format_london(new.course.starts_at)
    if new.status is BookingStatus.CONFIRMED:
        return f"{whose} booking has moved to {when}. We have emailed the new calendar file."
    return (f"{whose} booking has moved to {when}, which is full: number {services.waiting_position(new)} "
            "on its waiting list.")


@bp.route("/bookings/<int:booking_id>/move", methods=["GET", "POST"])
@login_required
def transfer(booking_id: int):
    """Move your own booking to another date of the same course, up to the cancellation cut-off."""
    booking = flow.found_or_404(listings.booking_of, current_user, booking_id)

    return _transfer_page(booking, by_coordinator=False, template="bookings/transfer.html",
                          said=lambda moved: _moved_message(moved, "Your"), back=lambda moved: url_for(".my_courses"))


@bp.route("/manage/bookings/<int:booking_id>/move", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def transfer_trainee_booking(booking_id: int):
    """Move a trainee's booking to another date of the same course at any time; they are emailed."""
    booking = flow.found_or_404(listings.get_booking, booking_id)

    def said(moved) -> str:
        message = _moved_message(moved, f"{booking.person.full_name}'s")
        if moved.promoted:
            message += " " + ", ".join(b.person.full_name for b in moved.promoted) + " moved up from the waiting list."
        return message

    return _transfer_page(booking, by_coordinator=True, template="bookings/transfer.html", said=said,
                          back=lambda moved: url_for("courses.manage_course", course_id=moved.booking.course_id))


# --- a seat from the waiting list: the offer's answer, or giving a promoted seat back ------------------------

ANSWERED = {
    "accepted": "You have accepted the place: you are booked. We have emailed you the calendar file.",
    "declined": "You have declined the place; it has been offered to the next person waiting.",
    "given_back": "You have given the place back; it goes to the next person waiting.",
}


@bp.route("/waiting-list/<token>", methods=["GET", "POST"])
@token_or_public
def waiting_list_place(token: str):
    """Accept or decline a seat offered from the waiting list, or give back one that came from it (one click)."""
    booking = flow.found_or_404(offers.booking_for_token, token)
    offer_form, give_back_form = AnswerOfferForm(), GiveBackForm()
    outcome = None
    if offer_form.accept.data or offer_form.decline.data:
        if offer_form.validate_on_submit():
            outcome = flow.attempt(offers.answer_offer, booking, accept=bool(offer_form.accept.data), form=offer_form)
    elif give_back_form.give_back.data and give_back_form.validate_on_submit():
        outcome = flow.attempt(offers.give_back, booking, form=give_back_form)
    elif request.method == "GET" and offers.holds_offer(booking):
        flow.attempt(offers.check_offer, booking)  # an offer that ran out passes on now, not at the next cron run
    if outcome is not None and outcome.ok and outcome.value.outcome != "expired":
        outcome.done(lambda answered: ANSWERED[answered.outcome])
        return redirect(url_for(".waiting_list_place", token=token))
    expired = (outcome is not None and outcome.ok) or booking.cancel_reason == offers.EXPIRED
    status = 410 if expired else flow.status(offer_form, give_back_form)
    return render_template(
        "bookings/waiting_list_place.html",
        booking=booking,
        course=booking.course,
        offer_form=offer_form,
        give_back_form=give_back_form,
        holds_offer=offers.holds_offer(booking),
        can_give_back=offers.can_give_back(booking),
        expired=expired,
        token=token,
    ), status


# --- "tell me when there's a course" ------------------------------------------------------------------

@bp.route("/courses/interest", methods=["GET", "POST"])
@login_required
def course_interest():
    """Ask to be emailed when a course of a type is published in a council area (or online)."""
    types, areas = interest.choices()
    form = InterestForm()
    form.course_type_id.choices = [(0, "Choose a course")] + [(kind.id, kind.name) for kind in types]
    form.council_area_id.choices = ([(-1, "Choose where"), (interest.ONLINE, "Online")]
                                    + [(area.id, area.name) for area in areas])
    if request.method == "GET":
        form.course_type_id.data = request.args.get("course_type_id", type=int)
        form.council_area_id.data = request.args.get("council_area_id", type=int)
    if form.validate_on_submit():
        outcome = flow.attempt(interest.register_interest, current_user.person, form.course_type_id.data,
                               form.council_area_id.data, form=form)
        if outcome.done(lambda asked: f"We will email you when there is a {asked.course_type.name} course "
                                      f"{interest.where(asked)}."):
            return redirect(url_for(".course_interest"))
    return render_template("bookings/interest.html", form=form, mine=interest.interests_of(current_user.person),
                           where=interest.where, remove_form=RemoveInterestForm()), flow.status(form)


@bp.route("/courses/interest/<int:interest_id>/remove", methods=["POST"])
@login_required
def remove_interest(interest_id: int):
    """Stop asking to be told about a course."""
    form = RemoveInterestForm()
    if not form.validate_on_submit():
        flow.say("The form expired: try again", "error")
        return redirect(url_for(".course_interest"))
    removed = flow.found_or_404(flow.attempt, interest.withdraw_interest, current_user.person, interest_id).value
    flow.say(f"You will no longer be emailed about {removed.course_type.name} {interest.where(removed)}.")
    return redirect(url_for(".course_interest"))


@bp.route("/manage/demand")
@role_required(Role.COORDINATOR)
def demand():
    """Who is waiting for a course: interest by council area and course type."""
    return render_template("bookings/demand.html", rows=interest.demand())
