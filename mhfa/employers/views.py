"""The employer contact's pages and the contact invitation link (the staff member's place link is
``mhfa.employers.place_views``).

Every contact page loads the organisation the signed-in contact speaks for (the contact relation)
and only its objects: another organisation's order or place answers 404.
"""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user

from mhfa import flow
from mhfa.auth.access import login_required, role_required, token_or_public
from mhfa.auth.models import Role
from mhfa.bookings.models import BookingStatus
from mhfa.courses.models import CourseType
from mhfa.employers import (
    claims,
    commitments,
    coverage,
    invoices,
    orders,
    organisations,
    reports,
    requests,
    staff,
    staff_exports,
    vouchers,
)
from mhfa.employers.forms import (
    BookStaffForm,
    ClosedCourseRequestForm,
    ConfirmForm,
    DateOfBirthForm,
    EmailForm,
    OrderForm,
    OrganisationForm,
    StaffMemberForm,
    StaffSearchForm,
    StaffUploadForm,
    form_id,
)
from mhfa.employers.models import Order, VoucherStatus
from mhfa.extensions import db
from mhfa.money import pounds
from mhfa.pagination import page_url
from mhfa.security.input import body_limit

bp = Blueprint("employers", __name__)


def _organisation():
    return flow.found_or_404(organisations.require_organisation, current_user)


# --- registering ---------------------------------------------------------------------------------

@bp.route("/employers/register", methods=["GET", "POST"])
@login_required
def register_organisation():
    """Register your organisation; the programme team approves it."""
    existing = organisations.contact_row(current_user)
    form = OrganisationForm(areas=organisations.council_areas())
    if existing is None and form.validate_on_submit():
        outcome = flow.attempt(organisations.register_organisation, current_user, form.details(), form=form)
        if outcome.done(lambda value: f"{value.name} is registered. The programme team will check it and email you."):
            return redirect(url_for(".register_organisation"))
    return render_template("employers/register.html", form=form, existing=existing), flow.status(form)


@bp.route("/employers/invitations/<token>", methods=["GET", "POST"])
@token_or_public
def accept_invitation(token: str):
    """Accept an invitation to be a contact of an organisation (signed in with the invited address)."""
    contact = flow.found_or_404(organisations.invitation, token)
    form = ConfirmForm()
    expired = organisations.invitation_expired(contact)
    if current_user.is_authenticated and not expired and form.validate_on_submit():
        outcome = flow.attempt(organisations.accept_invitation, token, current_user, form=form)
        if outcome.done(f"You are now a contact for {contact.employer.name}."):
            return redirect(url_for(".dashboard") if outcome.value.employer.is_approved else url_for("main.home"))
    return render_template("employers/invitation.html", contact=contact, form=form, token=token, expired=expired,
                           expired_message=organisations.expired_message(contact) if expired else "",
                           expires_at=organisations.invitation_expires_at(contact)), \
        410 if expired else flow.status(form)


@bp.route("/employers/invitations/<token>/renew", methods=["POST"])
@token_or_public
def renew_invitation(token: str):
    """From an expired invitation link: email a new link to the invited address."""
    contact = flow.found_or_404(organisations.invitation, token)
    email = contact.email
    if flow.press(ConfirmForm(), organisations.renew_expired_invitation, token,
                  success=f"We have emailed a new invitation link to {email}.").ok:
        return redirect(url_for("main.home"))
    return redirect(url_for(".accept_invitation", token=token))


# --- the organisation's dashboard ---------------------------------------------------------------------

@bp.route("/employer")
@role_required(Role.EMPLOYER)
def dashboard():
    """Places and coverage at the top; the staff as a table to search, filter, sort and page through."""
    employer = _organisation()
    form = StaffSearchForm(request.args)
    criteria = form.criteria()
    cover = coverage.coverage(employer)
    refresher = db.session.query(CourseType).filter_by(code="REFRESHER").first()
    return render_template(
        "employers/dashboard.html", employer=employer, places=reports.places(employer),
        staff=reports.staff_page(employer, request.args.get("page", 1, type=int), **criteria), form=form,
        criteria=criteria, counts=reports.staff_counts(employer), filters=reports.FILTERS,
        page_url=page_url("employers.dashboard"), coverage=cover,
        first_aiders=coverage.first_aiders(employer),
        commitment=commitments.standing(employer),
        order_count=len(orders.orders_of(employer)), request_count=len(requests.requests_of(employer)),
        refresher=refresher, refresher_places=coverage.refresher_places(employer, cover, refresher),
    )


@bp.route("/employer/orders")
@role_required(Role.EMPLOYER)
def order_list():
    """The organisation's orders, newest first, and its closed course requests."""
    employer = _organisation()
    return render_template("employers/orders.html", employer=employer, orders=orders.orders_of(employer),
                           requests=requests.requests_of(employer), money=pounds,
                           describe=orders.order_description)


@bp.route("/employer/staff.csv")
@role_required(Role.EMPLOYER)
def export_staff_csv():
    """Your staff and their training, as CSV."""
    employer = _organisation()
    return flow.file_response(staff_exports.staff_csv(employer), "staff.csv", "text/csv", cache=None)


@bp.route("/employer/staff.xlsx")
@role_required(Role.EMPLOYER)
def export_staff_xlsx():
    """Your staff and their training, as an Excel workbook."""
    employer = _organisation()
    return flow.file_response(staff_exports.staff_xlsx(employer), "staff.xlsx", flow.XLSX, cache=None)


@bp.route("/employer/contacts", methods=["GET", "POST"])
@role_required(Role.EMPLOYER)
def contacts():
    """The organisation's contacts; invite a colleague by email."""
    employer = _organisation()
    form = EmailForm()
    if form.validate_on_submit():
        outcome = flow.attempt(organisations.invite_contact, employer, form.email.data, by=current_user, form=form)
        if outcome.done(lambda value: f"We have emailed an invitation to {value.email}."):
            return redirect(url_for(".contacts"))
    return render_template("employers/contacts.html", employer=employer, form=form, confirm=ConfirmForm(),
                           expires_at=organisations.invitation_expires_at,
                           expired=organisations.invitation_expired), flow.status(form)


@bp.route("/employer/contacts/<int:contact_id>/resend", methods=["POST"])
@role_required(Role.EMPLOYER)
def resend_invitation(contact_id: int):
    """Send a colleague's invitation again: a new link with a new expiry date."""
    employer = _organisation()
    contact = flow.found_or_404(organisations.invitation_of, employer, contact_id)
    flow.press(ConfirmForm(), organisations.renew_invitation, contact, by=current_user,
               success=lambda renewed: f"We have emailed a new invitation to {renewed.email}.")
    return redirect(url_for(".contacts"))


# --- orders -----------------------------------------------------------------------------------------

def _order_form(employer):
    open_courses = [(c, orders.course_label(c)) for c in orders.courses_to_order(employer, closed=False)]
    closed = [(c, "Closed: " + orders.course_label(c)) for c in orders.courses_to_order(employer, closed=True)]
    return OrderForm(prices=orders.price_list(), courses=closed + open_courses)


@bp.route("/employer/orders/new", methods=["GET", "POST"])
@role_required(Role.EMPLOYER)
def new_order():
    """Order places: on a course type, on one course, or a whole closed course."""
    employer = _organisation()
    form = _order_form(employer)
    if employer.requires_purchase_order:
        form.purchase_order_ref.description = f"{employer.name} needs a purchase order number on every order."
    if request.method == "GET":
        form.billing_address.data = employer.billing_address
        for name in ("kind", "course_type", "course", "places"):
            if request.args.get(name):
                getattr(form, name).data = request.args[name] if name != "places" else request.args.get(
                    name, type=int)
    if form.validate_on_submit():
        outcome = flow.attempt(orders.place_order, employer, form.request(), by=current_user, form=form)
        if outcome.done(lambda placed: "Order placed for "
                        f"{'1 place' if placed.places == 1 else f'{placed.places} places'}."
                        " We will email you the invoice."):
            return redirect(url_for(".order", order_id=outcome.value.id))
    return render_template("employers/new_order.html", employer=employer, form=form), flow.status(form)


def _given_out_message(given) -> str:
    offered = sum(v.waiting_for_answer for v in given)
    counted = "1 place was" if len(given) == 1 else f"{len(given)} places"
    return (f"{counted} given out: we have emailed each person their link"
            + (f" ({offered} of them will accept or decline first)." if offered else "."))


def _own_order(employer, order_id: int) -> Order:
    return flow.found_or_404(orders.order_of, employer, order_id)


def _order_page(employer, order, one_form=None, upload_form=None, csv_lines=()):
    status = flow.status(one_form, upload_form)
    return render_template(
        "employers/order.html", employer=employer, order=order, money=pounds,
        description=orders.order_description(order), one_form=one_form or StaffMemberForm(),
        upload_form=upload_form or StaffUploadForm(), csv_lines=csv_lines, VoucherStatus=VoucherStatus,
        holders=vouchers.holders(order), places=vouchers.of_order(order), unused=len(vouchers.unused_vouchers(order)),
        may_give_birth=claims.may_give_date_of_birth, no_shows=vouchers.no_shows(order),
        no_show_terms=invoices.no_show_terms(),
    ), status


@bp.route("/employer/orders/<int:order_id>")
@role_required(Role.EMPLOYER)
def order(order_id: int):
    """One order: its invoice, and each place with whom it was given to."""
    employer = _organisation()
    return _order_page(employer, _own_order(employer, order_id))


@bp.route("/employer/orders/<int:order_id>/allocate", methods=["POST"])
@role_required(Role.EMPLOYER)
def allocate(order_id: int):
    """Give one unused place to a named member of staff (they are emailed a link)."""
    employer = _organisation()
    order_ = _own_order(employer, order_id)
    form = StaffMemberForm()
    if form.validate_on_submit():
        outcome = flow.attempt(vouchers.allocate_one, employer, order_, form.first_name.data, form.last_name.data,
                               form.email.data, date_of_birth=form.date_of_birth.data, by=current_user, form=form)
        if outcome.done(_given_message):
            return redirect(url_for(".order", order_id=order_.id))
    return _order_page(employer, order_, one_form=form)


@bp.route("/employer/orders/<int:order_id>/upload", methods=["POST"])
@body_limit(staff.MAX_CSV_BYTES + 64 * 1024)  # the file and the form around it
@role_required(Role.EMPLOYER)
def upload_staff(order_id: int):
    """Give places to the staff a CSV file names: every line checked before any place is used."""
    employer = _organisation()
    order_ = _own_order(employer, order_id)
    form = StaffUploadForm()
    lines = []
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read(staff.MAX_CSV_BYTES + 1) if upload else b""
        outcome = flow.attempt(vouchers.allocate_csv, employer, order_, data, by=current_user, form=form)
        if outcome.done(lambda allocation: _given_out_message(allocation.vouchers)):
            return redirect(url_for(".order", order_id=order_.id))
        lines = getattr(outcome.error, "lines", [])
    return _order_page(employer, order_, upload_form=form, csv_lines=lines)


def _order_for_its_documents(order_id: int) -> Order:
    """The order whose invoice or credit note is asked for: any, for the programme team; for a contact, only
    their organisation's own."""
    if current_user.has_role(Role.COORDINATOR):
        return flow.get_or_404(Order, order_id)
    return _own_order(_organisation(), order_id)


@bp.route("/employer/orders/<int:order_id>/invoice.pdf")
@role_required(Role.EMPLOYER, Role.COORDINATOR)
def invoice_pdf(order_id: int):
    """The order's VAT invoice (the organisation's own contacts, and the programme team)."""
    order_ = _order_for_its_documents(order_id)
    invoice = flow.found_or_404(lambda: order_.invoice)
    return flow.file_response(invoices.invoice_pdf(invoice), invoices.filename(invoice), "application/pdf",
                              inline=True, cache=None)


@bp.route("/employer/orders/<int:order_id>/credit-notes/<int:credit_note_id>.pdf")
@role_required(Role.EMPLOYER, Role.COORDINATOR)
def credit_note_pdf(order_id: int, credit_note_id: int):
    """A credit note on the order's invoice (the organisation's own contacts, and the programme team)."""
    order_ = _order_for_its_documents(order_id)
    credit = flow.found_or_404(lambda: next((c for c in order_.credit_notes if c.id == credit_note_id), None))
    return flow.file_response(invoices.credit_note_pdf(credit), invoices.filename(credit), "application/pdf",
                              inline=True, cache=None)


# --- places -----------------------------------------------------------------------------------------

def _given_message(voucher) -> str:
    if voucher.waiting_for_answer:
        return (f"Place offered to {voucher.given_name}: we have emailed them. {voucher.given_email} already has an "
                "account, so nothing is booked until they accept; this page shows their answer.")
    return f"Place given to {voucher.given_name}: we have emailed them the link."


def _own_voucher(employer, voucher_id: int):
    return flow.found_or_404(vouchers.voucher_of, employer, voucher_id)


@bp.route("/employer/places/<int:voucher_id>/resend", methods=["POST"])
@role_required(Role.EMPLOYER)
def resend_place(voucher_id: int):
    """Email the place's link to its member of staff again."""
    employer = _organisation()
    voucher = _own_voucher(employer, voucher_id)
    flow.press(ConfirmForm(), vouchers.resend, voucher, by=current_user,
               success=f"We have emailed the link to {voucher.given_email} again.")
    return redirect(url_for(".order", order_id=voucher.order_id))


@bp.route("/employer/places/<int:voucher_id>/reassign", methods=["GET", "POST"])
@role_required(Role.EMPLOYER)
def reassign_place(voucher_id: int):
    """Give an unused place to someone else."""
    employer = _organisation()
    voucher = _own_voucher(employer, voucher_id)
    form = StaffMemberForm()
    if form.validate_on_submit():
        outcome = flow.attempt(vouchers.reassign, employer, voucher, form.first_name.data, form.last_name.data,
                               form.email.data, by=current_user, form=form)
        if outcome.done(_given_message(voucher)):
            return redirect(url_for(".order", order_id=voucher.order_id))
    return render_template("employers/reassign.html", voucher=voucher, form=form), flow.status(form)


@bp.route("/employer/places/<int:voucher_id>/date-of-birth", methods=["GET", "POST"])
@role_required(Role.EMPLOYER)
def place_date_of_birth(voucher_id: int):
    """Give the date of birth of a member of staff you gave a place to, so you can book them."""
    employer = _organisation()
    voucher = _own_voucher(employer, voucher_id)
    form = DateOfBirthForm()
    if form.validate_on_submit():
        outcome = flow.attempt(claims.give_date_of_birth, employer, voucher, form.date_of_birth.data,
                               by=current_user, form=form)
        if outcome.done(f"{voucher.given_name}'s date of birth is saved: you can book them now."):
            return redirect(url_for(".order", order_id=voucher.order_id))
    return render_template("employers/date_of_birth.html", voucher=voucher, form=form,
                           may_give=claims.may_give_date_of_birth(voucher)), flow.status(form)


@bp.route("/employer/book", methods=["GET", "POST"])
@role_required(Role.EMPLOYER)
def book_staff():
    """Book staff onto a course with their places, in one step (onto its waiting list when it is full)."""
    employer = _organisation()
    unused = vouchers.given_not_used(employer)
    courses, seen_orders = {}, set()
    for voucher in unused:
        if voucher.order_id not in seen_orders:  # the courses a voucher can pay for depend on its order only
            seen_orders.add(voucher.order_id)
            courses.update((course.id, course) for course in claims.courses_for(voucher))
    form = BookStaffForm(
        courses=[(c, orders.course_label(c)) for c in sorted(courses.values(), key=lambda c: c.starts_at)],
        staff=[(v, f"{v.given_name} ({v.order.course_type.name})") for v in unused])
    if request.method == "GET" and request.args.get("voucher"):  # from the staff list's "Book" link
        form.vouchers.data = [request.args["voucher"][:20]]
    if form.validate_on_submit():
        outcome = flow.attempt(claims.book_staff, employer, form.voucher_ids(),
                               form_id(form.course.data),
                               by=current_user, form=form)
        if outcome.done(lambda made: f"{len(made) - _waiting(made)} booked, {_waiting(made)} on the waiting list. "
                        "We have emailed each of them."):
            return redirect(url_for(".dashboard"))
    return render_template("employers/book_staff.html", form=form, employer=employer), flow.status(form)


def _waiting(made) -> int:
    return sum(b.status is BookingStatus.WAITLISTED for b in made)


@bp.route("/employer/closed-course-requests/new", methods=["GET", "POST"])
@role_required(Role.EMPLOYER)
def request_course():
    """Ask for a closed course, for your staff alone."""
    employer = _organisation()
    form = ClosedCourseRequestForm(course_types=db.session.query(CourseType).filter_by(active=True)
                                   .order_by(CourseType.name).all())
    if form.validate_on_submit():
        outcome = flow.attempt(requests.request_closed_course, employer, form.details(), by=current_user, form=form)
        if outcome.done("Request sent. The programme team will schedule the course and email you."):
            return redirect(url_for(".dashboard"))
    return render_template("employers/request_course.html", form=form), flow.status(form)
