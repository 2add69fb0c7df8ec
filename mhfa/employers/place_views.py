"""The staff member's side of a place: the emailed link to claim it and choose a date, and the places
offered to them, to accept or decline. Its own blueprint, ``places``; the URLs are ``/places/<code>`` and
``/account/place-offers``."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from mhfa import flow
from mhfa.auth.access import login_required, token_or_public
from mhfa.bookings.models import BookingStatus
from mhfa.employers import claims, orders, vouchers
from mhfa.employers.forms import ClaimForm, ConfirmForm, form_id
from mhfa.employers.models import VoucherStatus

bp = Blueprint("places", __name__)


@bp.route("/account/place-offers")
@login_required
def place_offers():
    """Places employers have offered you: accept or decline each (nothing is booked until you accept)."""
    return render_template("employers/place_offers.html", offers=claims.offers_for(current_user),
                           form=ConfirmForm())


@bp.route("/places/<code>/accept", methods=["POST"])
@login_required
def accept_place(code: str):
    """Accept a place offered to you: you (or your employer) can then book it."""
    return _answer_place(code, accept=True)


@bp.route("/places/<code>/decline", methods=["POST"])
@login_required
def decline_place(code: str):
    """Decline a place offered to you: it goes back to the organisation, and nothing is booked."""
    return _answer_place(code, accept=False)


def _answer_place(code: str, *, accept: bool):
    form = ConfirmForm()
    if form.validate_on_submit():  # a refusal (not yours: 404; answered already: 409) is the error page
        flow.attempt(claims.answer_offer, current_user, code, accept=accept).done(
            lambda voucher: f"You have accepted the place from {voucher.order.employer.name}. Choose your date below."
            if accept else f"You have declined the place from {voucher.order.employer.name}. Nothing was booked.")
        if accept:
            return redirect(url_for(".claim_place", code=code))
    return redirect(url_for(".place_offers"))


@bp.route("/places/<code>", methods=["GET", "POST"])
@token_or_public
def claim_place(code: str):
    """A member of staff chooses the date for the place their employer gave them, and books it."""
    voucher = flow.found_or_404(claims.voucher_by_code, code)
    courses = claims.courses_for(voucher)
    form = ClaimForm(courses=[(c, orders.course_label(c)) for c in courses])
    used = voucher.status in (VoucherStatus.REDEEMED, VoucherStatus.CANCELLED) or not voucher.order.places_usable
    if current_user.is_authenticated and not used and form.validate_on_submit():
        outcome = flow.attempt(claims.claim, current_user, code,
                               form_id(form.course.data), date_of_birth=form.date_of_birth.data, form=form)
        if outcome.done(lambda booking: f"You are booked on {booking.course.course_type.name}."
                        if booking.status is BookingStatus.CONFIRMED
                        else f"{booking.course.course_type.name} is full: you are on its waiting list, and your "
                             "place is kept for you."):
            return redirect(url_for("bookings.my_courses"))
    return render_template("employers/claim.html", voucher=voucher, form=form, courses=courses, used=used,
                           holder=vouchers.holder(voucher), code=code, answer_form=ConfirmForm(),
                           ask_birth=current_user.is_authenticated and current_user.person is not None
                           and current_user.person.date_of_birth is None), flow.status(form)
