"""The programme team's pages: organisations and their contacts, orders and invoices, closed-course
requests, and booking a named person onto a course (a phone booking).

Their own blueprint, ``employers_manage`` (the organisations' own pages are ``employers``, in
``mhfa.employers.views``); the URLs are under ``/manage/``."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user

from mhfa import flow
from mhfa.auth.access import role_required
from mhfa.auth.models import Role
from mhfa.bookings.models import BookingStatus
from mhfa.courses import rules, scheduling
from mhfa.courses.forms import CourseForm
from mhfa.courses.models import Course
from mhfa.employers import orders, organisations, requests
from mhfa.employers.forms import (
    ConfirmForm,
    EmailForm,
    OrderSearchForm,
    OrganisationForm,
    PaidForm,
    PhoneBookingForm,
    ReasonForm,
    ScheduleRequestForm,
    form_id,
)
from mhfa.employers.models import (
    ClosedCourseRequest,
    ClosedCourseRequestStatus,
    Employer,
    EmployerContact,
    Order,
    OrderStatus,
)
from mhfa.money import pounds
from mhfa.pagination import page_url

bp = Blueprint("employers_manage", __name__)

# --- organisations ------------------------------------------------------------------------------


@bp.route("/manage/employers")
@role_required(Role.COORDINATOR)
def manage_organisations():
    """Every organisation, those waiting for approval first."""
    return render_template("employers/manage_organisations.html", employers=organisations.organisations())


def _organisation_page(employer, form=None, contact_form=None, reason_form=None):
    status = flow.status(form, contact_form, reason_form)
    if form is None:
        form = OrganisationForm(areas=organisations.council_areas())
        form.fill(employer)
    return render_template(
        "employers/manage_organisation.html", employer=employer, form=form, contact_form=contact_form or EmailForm(),
        reason_form=reason_form or ReasonForm(), confirm=ConfirmForm(), orders=orders.orders_of(employer),
        expires_at=organisations.invitation_expires_at, expired=organisations.invitation_expired,
        money=pounds, describe=orders.order_description,
    ), status


@bp.route("/manage/employers/<int:employer_id>", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def manage_organisation(employer_id: int):
    """An organisation: its details (and whether it needs a PO), contacts, approval and orders."""
    employer = flow.get_or_404(Employer, employer_id)
    form = OrganisationForm(areas=organisations.council_areas())
    if form.validate_on_submit():
        outcome = flow.attempt(organisations.update_organisation, employer, form.details(), by=current_user, form=form)
        if outcome.done("Organisation saved."):
            return redirect(url_for(".manage_organisation", employer_id=employer.id))
        return _organisation_page(employer, form=form)
    if form.errors:
        return _organisation_page(employer, form=form)
    return _organisation_page(employer)


@bp.route("/manage/employers/<int:employer_id>/approve", methods=["POST"])
@role_required(Role.COORDINATOR)
def approve_organisation(employer_id: int):
    """Approve a registration: its contacts can then order places."""
    employer = flow.get_or_404(Employer, employer_id)
    flow.press(ConfirmForm(), organisations.approve_organisation, employer, by=current_user,
               success=lambda approved: f"{approved.name} is approved; its contacts have been emailed.")
    return redirect(url_for(".manage_organisation", employer_id=employer.id))


@bp.route("/manage/employers/<int:employer_id>/reject", methods=["POST"])
@role_required(Role.COORDINATOR)
def reject_organisation(employer_id: int):
    """Turn a registration down, with the reason the contact is told."""
    employer = flow.get_or_404(Employer, employer_id)
    form = ReasonForm()
    if form.validate_on_submit():
        outcome = flow.attempt(organisations.reject_organisation, employer, by=current_user,
                               reason=form.reason.data, form=form)
        if outcome.done(f"{employer.name} is not approved; its contact has been told why."):
            return redirect(url_for(".manage_organisation", employer_id=employer.id))
    return _organisation_page(employer, reason_form=form)


@bp.route("/manage/employers/<int:employer_id>/contacts", methods=["POST"])
@role_required(Role.COORDINATOR)
def add_contact(employer_id: int):
    """Add a contact by email (at once if they have an account, else by an emailed invitation)."""
    employer = flow.get_or_404(Employer, employer_id)
    form = EmailForm()
    if form.validate_on_submit():
        outcome = flow.attempt(organisations.add_contact, employer, form.email.data, by=current_user, form=form)
        if outcome.done(lambda contact: f"{contact.email} added." if contact.is_confirmed
                        else f"We have emailed an invitation to {contact.email}."):
            return redirect(url_for(".manage_organisation", employer_id=employer.id))
    return _organisation_page(employer, contact_form=form)


@bp.route("/manage/employer-contacts/<int:contact_id>/remove", methods=["POST"])
@role_required(Role.COORDINATOR)
def remove_contact(contact_id: int):
    """Remove a contact (or withdraw an invitation)."""
    contact = flow.get_or_404(EmployerContact, contact_id)
    employer_id = contact.employer_id
    form = ConfirmForm()
    if form.validate_on_submit():
        flow.attempt(organisations.remove_contact, contact, by=current_user).done("Contact removed.")
    return redirect(url_for(".manage_organisation", employer_id=employer_id))


@bp.route("/manage/employer-contacts/<int:contact_id>/resend", methods=["POST"])
@role_required(Role.COORDINATOR)
def resend_contact_invitation(contact_id: int):
    """Send an invitation not yet accepted again: a new link with a new expiry date."""
    contact = flow.get_or_404(EmployerContact, contact_id)
    employer_id = contact.employer_id
    flow.press(ConfirmForm(), organisations.renew_invitation, contact, by=current_user,
               success=lambda renewed: f"We have emailed a new invitation to {renewed.email}.")
    return redirect(url_for(".manage_organisation", employer_id=employer_id))


# --- orders ------------------------------------------------------------------------------------------

@bp.route("/manage/orders")
@role_required(Role.COORDINATOR)
def manage_orders():
    """Employer orders, those waiting for an invoice first: filtered by status, searched, a page at a time."""
    form = OrderSearchForm(request.args)
    text = form.q.data if form.validate() else ""
    found = orders.search_orders(form.chosen_status(), text or "", request.args.get("page", 1, type=int))
    return render_template("employers/manage_orders.html", form=form, page=found, money=pounds,
                           describe=orders.order_description, page_url=page_url("employers_manage.manage_orders"))


def _order_page(order, paid_form=None, reason_form=None):
    status = flow.status(paid_form, reason_form)
    return render_template("employers/manage_order.html", order=order, money=pounds,
                           description=orders.order_description(order), confirm=ConfirmForm(),
                           paid_form=paid_form or PaidForm(), reason_form=reason_form or ReasonForm(),
                           OrderStatus=OrderStatus), status


@bp.route("/manage/orders/<int:order_id>")
@role_required(Role.COORDINATOR)
def manage_order(order_id: int):
    """One order: invoice it, mark it paid or cancel it."""
    return _order_page(flow.get_or_404(Order, order_id))


@bp.route("/manage/orders/<int:order_id>/invoice", methods=["POST"])
@role_required(Role.COORDINATOR)
def invoice_order(order_id: int):
    """Issue the order's VAT invoice; its places can then be used."""
    order = flow.get_or_404(Order, order_id)
    flow.press(ConfirmForm(), orders.issue_invoice, order, by=current_user,
               success=lambda invoice: f"Invoice {invoice.number} issued and emailed.")
    return redirect(url_for(".manage_order", order_id=order.id))


@bp.route("/manage/orders/<int:order_id>/paid", methods=["POST"])
@role_required(Role.COORDINATOR)
def mark_order_paid(order_id: int):
    """Record that the invoice has been paid."""
    order = flow.get_or_404(Order, order_id)
    form = PaidForm()
    if form.validate_on_submit():
        outcome = flow.attempt(orders.mark_paid, order, by=current_user, paid_on=form.paid_on.data, form=form)
        if outcome.done("Order marked paid."):
            return redirect(url_for(".manage_order", order_id=order.id))
    return _order_page(order, paid_form=form)


@bp.route("/manage/orders/<int:order_id>/cancel", methods=["POST"])
@role_required(Role.COORDINATOR)
def cancel_order(order_id: int):
    """Cancel the order: every place not used yet is released."""
    order = flow.get_or_404(Order, order_id)
    form = ReasonForm()
    if form.validate_on_submit():
        outcome = flow.attempt(orders.cancel_order, order, by=current_user, reason=form.reason.data, form=form)
        if outcome.done(lambda released: f"Order cancelled: {len(released)} unused places released."
                        + (f" Credit note {order.credit_notes[-1].number} issued and emailed."
                           if order.credit_notes else "")):
            return redirect(url_for(".manage_order", order_id=order.id))
    return _order_page(order, reason_form=form)


# --- closed-course requests -------------------------------------------------------------------------

@bp.route("/manage/closed-course-requests")
@role_required(Role.COORDINATOR)
def manage_requests():
    """Organisations' requests for closed courses, open ones first."""
    return render_template("employers/manage_requests.html", requests=requests.open_requests())


@bp.route("/manage/closed-course-requests/<int:request_id>", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def manage_request(request_id: int):
    """Schedule a request: link the closed course you created for it (the contact is emailed)."""
    closed_request = flow.get_or_404(ClosedCourseRequest, request_id)
    courses = requests.courses_for_request(closed_request)
    form = ScheduleRequestForm(courses=[(c, orders.course_label(c)) for c in courses])
    if form.validate_on_submit():
        outcome = flow.attempt(requests.schedule_request, closed_request,
                               form_id(form.course.data),
                               by=current_user, form=form)
        if outcome.done("Request scheduled; the contact has been emailed."):
            return redirect(url_for(".manage_requests"))
    return render_template("employers/manage_request.html", closed_request=closed_request, form=form,
                           courses=courses, confirm=ConfirmForm()), flow.status(form)


@bp.route("/manage/closed-course-requests/<int:request_id>/schedule", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def schedule_request_course(request_id: int):
    """Schedule the closed course a request asks for, in one step: the course form filled in from the
    request; saving it creates the course for the organisation and marks the request scheduled."""
    closed_request = flow.get_or_404(ClosedCourseRequest, request_id)
    if closed_request.status is not ClosedCourseRequestStatus.OPEN:
        flow.say("This request has already been answered.", "error")
        return redirect(url_for(".manage_request", request_id=closed_request.id))
    form = CourseForm(data=CourseForm.data_of_proposal(requests.course_proposal(closed_request)),
                      **scheduling.course_form_choices())
    if form.validate_on_submit():
        outcome = flow.attempt(requests.schedule_new_course, closed_request, form.details(), by=current_user,
                               form=form)
        if outcome.done(f"Closed course saved as a draft for {closed_request.employer.name} and the request marked "
                        "scheduled; the contact has been emailed. Assign an instructor and publish it."):
            return redirect(url_for("courses.manage_course", course_id=outcome.value.id))
    elif form.partly_read():
        form.show_rule_problems(rules.course_problems(form.details(substitute=True)))
    return render_template("employers/schedule_request.html", form=form, course=None,
                           closed_request=closed_request), flow.status(form)


@bp.route("/manage/closed-course-requests/<int:request_id>/decline", methods=["POST"])
@role_required(Role.COORDINATOR)
def decline_request(request_id: int):
    """Decline a closed-course request."""
    closed_request = flow.get_or_404(ClosedCourseRequest, request_id)
    flow.press(ConfirmForm(), requests.decline_request, closed_request, by=current_user, success="Request declined.")
    return redirect(url_for(".manage_requests"))


# --- phone bookings ----------------------------------------------------------------------------------

@bp.route("/manage/courses/<int:course_id>/book-person", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def book_on_behalf(course_id: int):
    """Book a named person onto this course (a phone booking): the same rules and emails as booking online."""
    course = flow.get_or_404(Course, course_id)
    form = PhoneBookingForm()
    if form.validate_on_submit():
        outcome = flow.attempt(requests.book_on_behalf, course, form.details(), by=current_user, form=form)
        if outcome.done(lambda booking: f"{booking.person.full_name} is booked."
                        if booking.status is BookingStatus.CONFIRMED
                        else f"The course is full: {booking.person.full_name} is on the waiting list."):
            return redirect(url_for("courses.manage_course", course_id=course.id))
    return render_template("employers/book_on_behalf.html", course=course, form=form,
                           label=orders.course_label(course)), flow.status(form)
