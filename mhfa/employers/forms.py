"""Forms of the employers' pages. Messages name their field; the rules themselves live in the services."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from mhfa import dates, money, names
from mhfa.courses.forms import options
from mhfa.employers.awards import CommitmentLevel
from mhfa.employers.commitments import CommitmentDetails, default_expiry
from mhfa.employers.models import OrderKind, OrderStatus, Sector, SizeBand
from mhfa.employers.orders import OrderRequest
from mhfa.employers.organisations import OrganisationDetails
from mhfa.employers.reports import FILTERS, SORTS
from mhfa.employers.requests import PhoneBooking, RequestDetails
from mhfa.security.input import NumberRange

DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]


def _int(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


class EmployerForm(FlaskForm):
    """Every employers form: text holding a NUL or another control character is refused on its field
    (PostgreSQL cannot store NUL, and names and addresses go into emails, PDFs and exports)."""

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for field in self:
            values = field.data if isinstance(field.data, list) else [field.data]
            if any(isinstance(v, str) and _has_control(v, multiline=field.type == "TextAreaField") for v in values):
                field.errors = [*field.errors, f"{field.label.text} contains a character that is not allowed"]
                valid = False
        return valid


def _has_control(text: str, *, multiline: bool) -> bool:
    allowed = "\t\r\n" if multiline else "\t"
    return any((ord(ch) < 32 and ch not in allowed) or ord(ch) == 127 for ch in text)


def form_id(value) -> int | None:
    """The id a select or radio option sent, or None (the services refuse ids no row can have)."""
    return _int(value)


class OrganisationForm(EmployerForm):
    name = StringField("Organisation name", validators=[
        InputRequired("Enter the organisation's name"),
        Length(max=200, message="Name must be 200 characters or fewer")])
    sector = SelectField("Sector", choices=[], validators=[InputRequired("Choose the organisation's sector")],
                         invalid_choice_message="Choose the organisation's sector")
    size_band = SelectField("Size", choices=[], validators=[InputRequired("Choose the organisation's size")],
                            invalid_choice_message="Choose the organisation's size")
    headcount = IntegerField("Number of staff", description="All staff, full and part time, like 120.",
                             validators=[InputRequired("Enter the number of staff, like 120")])
    council_area = SelectField("Council area", choices=[], validators=[InputRequired("Choose the council area")],
                               invalid_choice_message="Choose the council area the organisation is in",
                               description="Where most of your staff work.")
    wellbeing_commitment_signatory = BooleanField("We have signed the Thrive at Work Workplace Wellbeing Commitment")
    billing_address = TextAreaField("Billing address", description="Where invoices go: address and postcode.",
                                    validators=[Optional(), Length(max=1000)])
    requires_purchase_order = BooleanField("Every order needs a purchase order number (no PO, no pay)")

    def __init__(self, *args, areas=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.sector.choices = options([("", "Choose a sector")] + [(s.value, s.label) for s in Sector])
        self.size_band.choices = options([("", "Choose a size")] + [(s.value, s.label) for s in SizeBand])
        self.council_area.choices = options([("", "Choose a council area")] + [(str(a.id), a.name) for a in areas])

    def fill(self, employer) -> None:
        self.name.data, self.headcount.data = employer.name, employer.headcount
        self.sector.data, self.size_band.data = employer.sector.value, employer.size_band.value
        self.council_area.data = str(employer.council_area_id or "")
        self.wellbeing_commitment_signatory.data = employer.wellbeing_commitment_signatory
        self.billing_address.data = employer.billing_address
        self.requires_purchase_order.data = employer.requires_purchase_order

    def details(self) -> OrganisationDetails:
        return OrganisationDetails(
            name=self.name.data or "", sector=Sector(self.sector.data) if self.sector.data else None,
            size_band=SizeBand(self.size_band.data) if self.size_band.data else None, headcount=self.headcount.data,
            council_area_id=_int(self.council_area.data),
            wellbeing_commitment_signatory=bool(self.wellbeing_commitment_signatory.data),
            billing_address=self.billing_address.data or "",
            requires_purchase_order=bool(self.requires_purchase_order.data))


class EmailForm(EmployerForm):
    email = EmailField("Email address", validators=[InputRequired("Enter an email address"), Length(max=254)])


class ConfirmForm(EmployerForm):
    """A button and its CSRF token."""


class ReasonForm(EmployerForm):
    reason = TextAreaField("Reason", validators=[InputRequired("Enter the reason"),
                                                 Length(max=500, message="The reason must be 500 characters or fewer")])


class PaidForm(EmployerForm):
    paid_on = DateField("Date the payment arrived", format=DATE_FORMATS,
                        validators=[Optional(), dates.InRange(dates.PROGRAMME, label="The payment date")],
                        invalid_value_message="Enter the payment date as a real date, like 27/03/2027")


class OrderForm(EmployerForm):
    kind = RadioField("What are you buying?", choices=options([(k.value, k.label) for k in OrderKind]),
                      default=OrderKind.COURSE_TYPE.value, validators=[InputRequired("Choose what you are buying")],
                      invalid_choice_message="Choose what you are buying")
    course_type = SelectField("Course", choices=[], validate_choice=False)
    course = SelectField("Course date", choices=[], validate_choice=False,
                         description="For places on one course, or a whole closed course.")
    places = IntegerField("Number of places", validators=[Optional()],
                          description="Not needed for a whole closed course: you buy all its places.")
    purchase_order_ref = StringField("Purchase order number", validators=[Optional(), Length(max=60)])
    billing_address = TextAreaField("Billing address", validators=[Optional(), Length(max=1000)])

    def __init__(self, *args, prices=(), courses=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.course_type.choices = options([("", "Choose a course")] + [
            (str(kind.id), f"{kind.name}: {money.pounds(price)} a place + VAT") for kind, price in prices if price])
        self.course.choices = options([("", "Choose a course date")] + [(str(c.id), label) for c, label in courses])

    def request(self) -> OrderRequest:
        try:
            kind = OrderKind(self.kind.data)
        except ValueError:
            kind = None
        return OrderRequest(kind=kind, places=self.places.data, course_type_id=_int(self.course_type.data),
                            course_id=_int(self.course.data), purchase_order_ref=self.purchase_order_ref.data or "",
                            billing_address=self.billing_address.data or "")


class StaffMemberForm(EmployerForm):
    first_name = StringField("First name", validators=[InputRequired("Enter the first name"), names.PersonName()])
    last_name = StringField("Last name", validators=[InputRequired("Enter the last name"), names.PersonName()])
    email = EmailField("Email address", validators=[InputRequired("Enter the email address"), Length(max=254)])
    date_of_birth = DateField("Date of birth (optional)", format=DATE_FORMATS,
                              validators=[Optional(), dates.InRange(dates.BIRTH, label="Date of birth")],
                              description="Needed only if you will book them onto a course yourself (age rules).",
                              invalid_value_message="Enter the date of birth as a real date, like 15/06/1985")


class StaffUploadForm(EmployerForm):
    file = FileField("CSV file of staff", description=(
        "A header line first_name,last_name,email (and optionally date_of_birth), then one line per member "
        "of staff. "
        "Save it from your spreadsheet as CSV UTF-8."))


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class BookStaffForm(EmployerForm):
    course = SelectField("Course", choices=[], validate_choice=False)
    vouchers = MultiCheckboxField("Staff to book", choices=[], coerce=str, validate_choice=False)

    def __init__(self, *args, courses=(), staff=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.course.choices = options([("", "Choose a course")] + [(str(c.id), label) for c, label in courses])
        self.vouchers.choices = options([(str(v.id), label) for v, label in staff])

    def voucher_ids(self) -> list[int]:
        return [n for n in (_int(v) for v in self.vouchers.data or []) if n is not None]


class ClaimForm(EmployerForm):
    course = RadioField("Choose a course date", choices=[], validate_choice=False)
    date_of_birth = DateField("Your date of birth", format=DATE_FORMATS,
                              validators=[Optional(), dates.InRange(dates.BIRTH, label="Your date of birth")],
                              description="The course has a minimum age. We keep it on your profile.",
                              invalid_value_message="Enter your date of birth as a real date, like 15/06/1985")

    def __init__(self, *args, courses=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.course.choices = options([(str(c.id), label) for c, label in courses])


class ClosedCourseRequestForm(EmployerForm):
    course_type = SelectField("Course", choices=[], validate_choice=False)
    preferred_dates = StringField("Preferred dates", description="Like 'any Tuesday in March' or '3 and 4 June'.",
                                  validators=[Optional(), Length(max=500)])
    location = StringField("Location", description="Your address, or 'online'.", validators=[Optional(),
                                                                                              Length(max=500)])
    learners = IntegerField("Number of learners", validators=[Optional(), NumberRange(min=1, max=100)])
    notes = TextAreaField("Anything else", validators=[Optional(), Length(max=2000)])

    def __init__(self, *args, course_types=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.course_type.choices = options([("", "Choose a course")] + [(str(k.id), k.name) for k in course_types])

    def details(self) -> RequestDetails:
        return RequestDetails(_int(self.course_type.data), self.preferred_dates.data or "", self.location.data or "",
                              self.learners.data, self.notes.data or "")


class ScheduleRequestForm(EmployerForm):
    course = SelectField("Closed course", choices=[], validate_choice=False)

    def __init__(self, *args, courses=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.course.choices = options([("", "Choose a course")] + [(str(c.id), label) for c, label in courses])


class PhoneBookingForm(StaffMemberForm):
    voucher_code = StringField("Place voucher code", validators=[Optional(), Length(max=64)],
                               description="If their employer is paying with a place voucher.")

    def details(self) -> PhoneBooking:
        return PhoneBooking(self.first_name.data or "", self.last_name.data or "", self.email.data or "",
                            self.date_of_birth.data, (self.voucher_code.data or "").strip())


class StaffSearchForm(FlaskForm):
    """The staff list's search, filter and order (a GET form: it changes nothing)."""

    class Meta:
        csrf = False

    q = StringField("Name or email address", validators=[Optional(), Length(max=100)])
    show = SelectField("Show", choices=[("", "All staff"), *FILTERS.items()], default="")
    sort = SelectField("Order by", choices=list(SORTS.items()), default="name")

    def criteria(self) -> dict:
        """What to search for; an unknown filter or order (a hand-made address) is the default."""
        return {"q": (self.q.data or "")[:100], "show": self.show.data if self.show.data in FILTERS else "",
                "sort": self.sort.data if self.sort.data in SORTS else "name"}


class DateOfBirthForm(EmployerForm):
    date_of_birth = DateField("Date of birth", format=DATE_FORMATS,
                              validators=[InputRequired("Enter their date of birth"),
                                          dates.InRange(dates.BIRTH, label="Date of birth")],
                              description="Courses have a minimum age: we need it to book them.",
                              invalid_value_message="Enter the date of birth as a real date, like 15/06/1985")


class OrderSearchForm(FlaskForm):
    """The programme team's orders list: a status and a search (a GET form: it changes nothing)."""

    class Meta:
        csrf = False

    q = StringField("Organisation or purchase order number", validators=[Optional(), Length(max=100)])
    status = SelectField("Status", default="", choices=options(
        [("", "Any status")] + [(status.value, status.label) for status in OrderStatus]))

    def chosen_status(self) -> OrderStatus | None:
        return OrderStatus(self.status.data) if self.status.data in {s.value for s in OrderStatus} else None


class CommitmentForm(EmployerForm):
    """The organisation's Workplace Wellbeing Commitment award."""

    level = RadioField("Award level", choices=[(level.value, level.label) for level in CommitmentLevel],
                       validators=[InputRequired("Choose the award level")],
                       invalid_choice_message="Choose the award level")
    awarded_on = DateField("Date awarded", format=DATE_FORMATS,
                           validators=[InputRequired("Enter the date the award was made, like 31/03/2025"),
                                       dates.InRange(dates.PROGRAMME.up_to_today(), label="The award date")],
                           invalid_value_message="Enter the date the award was made as a real date, like 31/03/2025",
                           description="For example, 31/03/2025")
    expires_on = DateField("Expiry date (optional)", format=DATE_FORMATS,
                           validators=[Optional(), dates.InRange(dates.PROGRAMME, label="The expiry date")],
                           invalid_value_message="Enter the expiry date as a real date, like 30/03/2028",
                           description="Leave empty for three years after the award.")
    reference = StringField("Award reference (optional)", validators=[
        Length(max=60, message="The reference must be 60 characters or fewer")],
        description="The reference Thrive at Work gave the award, like TAW-1234.")

    def fill(self, commitment) -> None:
        if commitment is not None and not self.is_submitted():
            self.level.data = commitment.level.value
            self.awarded_on.data = commitment.awarded_on
            # Left empty when it is the default, so a new award date moves the expiry with it.
            if commitment.expires_on != default_expiry(commitment.awarded_on):
                self.expires_on.data = commitment.expires_on
            self.reference.data = commitment.reference

    def details(self) -> CommitmentDetails:
        return CommitmentDetails(level=CommitmentLevel(self.level.data), awarded_on=self.awarded_on.data,
                                 expires_on=self.expires_on.data, reference=self.reference.data or "")


class ListingForm(EmployerForm):
    listed = RadioField("Show the organisation on the public list of committed employers?",
                        choices=[("yes", "Yes, list us with our award level"), ("no", "No, do not list us")],
                        validators=[InputRequired("Choose whether to be listed")],
                        invalid_choice_message="Choose whether to be listed")

    def chosen(self) -> bool:
        return self.listed.data == "yes"
