"""Forms for the course finder and the coordinators' pages.

Every error message names its field; a refused form is shown again with what the user typed.
Coordinators type London wall-clock dates and times; the forms turn them into UTC moments.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask_wtf import FlaskForm
from sqlalchemy.orm import joinedload
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
    TimeField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from mhfa import dates, money, names
from mhfa.areas.models import CouncilArea
from mhfa.areas.services import all_areas, postcode_is_valid
from mhfa.courses.instructors import InstructorDetails
from mhfa.courses.listings import FinderFilters, ManageFilters, nearness
from mhfa.courses.models import Course, CourseStatus, CourseType, DeliveryMode, FundingStream, Instructor, Venue
from mhfa.courses.scheduling import CourseDetails, SessionTimes, course_problems
from mhfa.courses.standing import DevelopmentDetails
from mhfa.courses.venues import VenueDetails
from mhfa.db_types import MAX_ID
from mhfa.employers.models import Employer
from mhfa.errors import DomainError, NotFound
from mhfa.extensions import db
from mhfa.timeutil import london_to_utc, to_london

try:
    from wtforms import SelectChoice
except ImportError:  # WTForms before 3.3 takes (value, label) pairs
    SelectChoice = None

DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y"]
TIME_FORMATS = ["%H:%M", "%H.%M", "%H:%M:%S"]
MAX_SESSIONS = 4


def options(pairs) -> list:
    """Choices for a select or radios field from (value, label) pairs."""
    return [SelectChoice(value, label) if SelectChoice else (value, label) for value, label in pairs]


def _date(label: str, invalid: str, description: str = "", required: str | None = None) -> DateField:
    """A date typed as YYYY-MM-DD (what a browser's date input sends) or DD/MM/YYYY."""
    validators = [InputRequired(required)] if required else [Optional()]
    return DateField(label, validators=[*validators, dates.InRange(dates.PROGRAMME)], format=DATE_FORMATS,
                     invalid_value_message=invalid, description=description)


def _time(label: str, invalid: str) -> TimeField:
    return TimeField(label, validators=[Optional()], format=TIME_FORMATS, invalid_value_message=invalid)


def _session_fields(n: int) -> tuple[DateField, TimeField, TimeField]:
    return (
        _date(f"Session {n} date", f"Enter the date of session {n} as a real date, like 2027-03-27"),
        _time(f"Session {n} start time", f"Enter the start time of session {n} like 09:30"),
        _time(f"Session {n} end time", f"Enter the end time of session {n} like 16:30"),
    )


def london_moment(day: date, at: time) -> datetime:
    """A London wall-clock date and time as a UTC moment; ValueError for a time the clocks skip."""
    moment = london_to_utc(datetime.combine(day, at))
    if to_london(moment).replace(tzinfo=None) != datetime.combine(day, at):
        raise ValueError(f"{at:%H:%M} on {day:%-d %B %Y} does not exist in the UK: the clocks go forward then")
    return moment


# --- public finder -----------------------------------------------------------------------------

class FinderForm(FlaskForm):
    """The finder's filters, read from the query string (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    area = SelectField("Council area", choices=[], default="",
                       invalid_choice_message="Choose a council area from the list",
                       description="Courses in person there, and every online course (open to everyone).")
    type = SelectField("Course", choices=[], default="", invalid_choice_message="Choose a course from the list")
    mode = RadioField("In person or online", default="", validators=[Optional()],
                      choices=options([("", "Either"), ("in_person", "In person"), ("online", "Online")]))
    from_date = _date("From", "Enter the 'from' date as a real date, like 2027-03-27", "For example, 2027-03-27")
    to_date = _date("To", "Enter the 'to' date as a real date, like 2027-04-30", "For example, 2027-04-30")
    postcode = StringField("Your postcode (optional)", validators=[Optional(), Length(max=10)],
                           description="The nearest venues come first, then each distance in the date order below. "
                                       "The first half is enough, like CV1.")
    free_places = BooleanField("Only courses with free places", false_values=("false", "", "0", "no", "n", "off"))
    sort = SelectField("Dates", default="date",
                       choices=options([("date", "Soonest first"), ("-date", "Latest first")]))

    def __init__(self, *args, areas=(), course_types=(), **kwargs):
        super().__init__(*args, **kwargs)
        self._areas = {area.gss_code: area for area in areas}
        self._types = {kind.code: kind for kind in course_types}
        self.area.choices = options([("", "Any area")] + [(a.gss_code, a.name) for a in areas])
        self.type.choices = options([("", "Any course")] + [(t.code, t.name) for t in course_types])

    def validate_to_date(self, field):
        if field.data and self.from_date.data and field.data < self.from_date.data:
            raise ValidationError("The 'to' date must be the same as or after the 'from' date")

    def validate_postcode(self, field):
        self.near = None
        if (field.data or "").strip():
            try:
                self.near = nearness(field.data)
            except DomainError as error:
                raise ValidationError(error.message) from None

    def filters(self) -> FinderFilters:
        """The filters of the fields that are valid (an invalid field filters nothing)."""
        def ok(field):
            return field.data if not field.errors else None

        area = self._areas.get(ok(self.area) or "")
        kind = self._types.get(ok(self.type) or "")
        mode = (ok(self.mode) or "").strip()  # blank (even all spaces) means either
        return FinderFilters(
            council_area_id=area.id if area else None,
            course_type_id=kind.id if kind else None,
            date_from=ok(self.from_date),
            date_to=ok(self.to_date),
            delivery_mode=DeliveryMode(mode) if mode else None,
            free_places=bool(self.free_places.data),
            latest_first=self.sort.data == "-date",
            near=getattr(self, "near", None) if not self.postcode.errors else None,
        )


class ManageFilterForm(FlaskForm):
    """Filters of the coordinators' list of courses (GET)."""

    class Meta:
        csrf = False

    status = SelectField("Status", default="", choices=options([("", "Any status")] + [(s.value, s.value.capitalize())
                                                                           for s in CourseStatus]))
    area = SelectField("Council area", choices=[], default="")
    from_date = _date("Starting from", "Enter the 'starting from' date as a real date, like 2027-03-27")
    to_date = _date("Starting by", "Enter the 'starting by' date as a real date, like 2027-04-30")

    def __init__(self, *args, areas=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.area.choices = options([("", "Any area")] + [(str(a.id), a.name) for a in areas])

    def validate_to_date(self, field):
        if field.data and self.from_date.data and field.data < self.from_date.data:
            raise ValidationError("The 'starting by' date must be the same as or after the 'starting from' date")

    def filters(self) -> ManageFilters:
        def ok(field):
            return field.data if not field.errors else None

        return ManageFilters(
            status=CourseStatus(self.status.data) if ok(self.status) else None,
            council_area_id=int(self.area.data) if ok(self.area) else None,
            date_from=ok(self.from_date),
            date_to=ok(self.to_date),
        )


def delivery_cost_text(course: Course) -> str:
    """A course's recorded delivery cost as the forms show it (pounds, two decimals), or empty."""
    return money.amount(course.delivery_cost_pence)


def delivery_cost_pence(text: str | None) -> int | None:
    """A delivery cost typed in pounds ("1,250.50", "£850"), in pence; None when left empty."""
    text = (text or "").strip().replace("£", "").replace(",", "")
    if not text:
        return None
    try:
        pounds = Decimal(text)
    except InvalidOperation:
        raise ValidationError("Enter the delivery cost in pounds, like 850 or 850.50, or leave it empty") from None
    if not pounds.is_finite() or pounds < 0:
        raise ValidationError("Enter the delivery cost in pounds, like 850 or 850.50, or leave it empty")
    if pounds > 1_000_000:
        raise ValidationError("Enter a delivery cost from £0 to £1,000,000")
    if pounds != pounds.quantize(Decimal("0.01")):
        raise ValidationError("Enter the delivery cost in pounds, like 850 or 850.50, or leave it empty")
    return int(pounds * 100)


DELIVERY_COST_HELP = ("What delivering this course costs the programme (instructors, venue, materials). Counted as "
                      "spend for publicly funded and other courses once completed; an employer-paid course's spend "
                      "is its order. Leave empty if not known.")


# --- courses -----------------------------------------------------------------------------------

class CourseForm(FlaskForm):
    """A course's details and its sessions (up to four rows of date, start and end, London time)."""

    course_type = SelectField("Course type", choices=[], validators=[DataRequired("Choose the course type")])
    delivery_mode = RadioField("How it runs", choices=options([("in_person", "In person, at a venue"),
                                                               ("online", "Online, live with an instructor")]),
                               validators=[DataRequired("Choose in person or online")])
    venue = SelectField("Venue", choices=[], description="For a course in person. Its council area is the venue's.")
    council_area = SelectField("Council area", choices=[], description="For an online course: the area that runs it.")
    joining_url = StringField("Joining link", validators=[Optional(), Length(max=500)],
                              description="For an online course: shown only to booked trainees and instructors.")
    session_1_date, session_1_start, session_1_end = _session_fields(1)
    session_2_date, session_2_start, session_2_end = _session_fields(2)
    session_3_date, session_3_start, session_3_end = _session_fields(3)
    session_4_date, session_4_start, session_4_end = _session_fields(4)
    capacity = IntegerField("Capacity (places)", validators=[InputRequired("Enter the capacity")],
                            invalid_value_message="Enter the capacity as a whole number, like 16")
    price = StringField("Price per place, in pounds", validators=[InputRequired("Enter the price per place")],
                        description="0 for a free course.")
    employer = SelectField("Who can book", choices=[])
    funding_stream = SelectField(
        "Funding stream", default="",
        choices=options([("", "Standard: publicly funded, or employer-paid for a closed course")]
                        + [(f.value, f.label) for f in FundingStream]),
        description="Who pays for the course: reach and spend are shown by stream on the reach dashboard.")
    delivery_cost = StringField("Delivery cost, in pounds (optional)", validators=[Optional()],
                                description=DELIVERY_COST_HELP)
    booking_deadline_date = _date("Booking deadline date", "Enter the booking deadline as a real date, like 2027-03-20",
                                  "Optional. Leave empty to take bookings until the course starts.")
    booking_deadline_time = _time("Booking deadline time", "Enter the booking deadline time like 17:00")
    notes = TextAreaField("Notes for the programme team", validators=[Optional(), Length(max=2000)])

    def __init__(self, *args, course_types=(), venues=(), areas=(), employers=(), course=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.course = course  # the course being changed (None for a new one), for the rules' checks
        self.course_type.choices = options([("", "Choose a course type")] + [(str(t.id), t.name) for t in course_types])
        self.venue.choices = options([("", "Choose a venue")] + [
            (str(v.id), f"{v.name}, {v.town} ({v.council_area.name})") for v in venues
        ])
        self.council_area.choices = options([("", "Choose a council area")] + [(str(a.id), a.name) for a in areas])
        self.employer.choices = options([("", "Open to the public")] + [(str(e.id), f"Only staff of {e.name}")
                                                                         for e in employers])
        self.price_pence: int | None = None
        self.delivery_cost_pence: int | None = None
        self.session_times: list[SessionTimes] = []
        self.booking_deadline: datetime | None = None

    @classmethod
    def data_of(cls, course: Course) -> dict:
        """The form's initial data for an existing course (times in London)."""
        standard = FundingStream.EMPLOYER_PAID if course.employer_id else FundingStream.PUBLIC
        data = {
            "course_type": str(course.course_type_id),
            "delivery_mode": course.delivery_mode.value,
            "venue": str(course.venue_id or ""),
            "council_area": str(course.council_area_id or ""),
            "joining_url": course.joining_url or "",
            "capacity": course.capacity,
            "price": money.amount(course.price_pence),
            "employer": str(course.employer_id or ""),
            # "Standard" while the stream is the one the course's bookers imply, so it follows a later change.
            "funding_stream": "" if course.funding_stream is standard else course.funding_stream.value,
            "delivery_cost": delivery_cost_text(course),
            "notes": course.notes,
        }
        if course.booking_deadline:
            local = to_london(course.booking_deadline)
            data |= {"booking_deadline_date": local.date(), "booking_deadline_time": local.time()}
        for n, session in enumerate(course.sessions, start=1):
            start, end = to_london(session.starts_at), to_london(session.ends_at)
            data |= {f"session_{n}_date": start.date(), f"session_{n}_start": start.time(),
                     f"session_{n}_end": end.time()}
        return data

    def session_rows(self) -> list[tuple]:
        return [(n, self[f"session_{n}_date"], self[f"session_{n}_start"], self[f"session_{n}_end"])
                for n in range(1, MAX_SESSIONS + 1)]

    def validate_price(self, field):
        text = (field.data or "").strip().replace("£", "").replace(",", "")
        try:
            pounds = Decimal(text)
        except InvalidOperation:
            raise ValidationError("Enter the price in pounds, like 75 or 75.50") from None
        if not pounds.is_finite() or pounds < 0 or pounds > 1_000_000 or pounds != pounds.quantize(Decimal("0.01")):
            raise ValidationError("Enter the price in pounds, like 75 or 75.50")
        self.price_pence = int(pounds * 100)

    def validate_delivery_cost(self, field):
        self.delivery_cost_pence = delivery_cost_pence(field.data)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        self.session_times = []
        blank_row = None
        for n, day, start, end in self.session_rows():
            fields = (day, start, end)
            if any(f.errors for f in fields):
                valid = False
                continue
            filled = [f.data is not None for f in fields]
            if not any(filled):
                blank_row = blank_row or n
                continue
            if not all(filled):
                for f, what in zip(fields, ("date", "start time", "end time"), strict=True):
                    if f.data is None:
                        f.errors.append(f"Enter the {what} of session {n}")
                valid = False
                continue
            if blank_row is not None:
                self[f"session_{blank_row}_date"].errors.append(
                    f"Fill in the sessions in order: session {blank_row} is empty but session {n} is not")
                valid = False
                continue
            try:
                self.session_times.append(SessionTimes(london_moment(day.data, start.data),
                                                                london_moment(day.data, end.data)))
            except ValueError as error:
                start.errors.append(f"Session {n}: {error}")
                valid = False
        deadline_day, deadline_time = self.booking_deadline_date, self.booking_deadline_time
        self.booking_deadline = None
        if deadline_day.data and not deadline_day.errors and not deadline_time.errors:
            try:
                self.booking_deadline = london_moment(deadline_day.data, deadline_time.data or time(23, 59))
            except ValueError as error:
                deadline_time.errors.append(f"Booking deadline: {error}")
                valid = False
        elif deadline_time.data and not deadline_day.data and not deadline_day.errors:
            deadline_day.errors.append("Enter the date of the booking deadline, or leave its time empty")
            valid = False
        if not valid:
            self._add_rule_problems()
        return valid

    def _add_rule_problems(self) -> None:
        """With some input refused, still check the rest against the course rules, so every problem is
        named in one round (a bad price no longer hides a wrong session or capacity)."""
        if self.course_type.errors or self.delivery_mode.errors or not self.course_type.data:
            return
        sessions_refused = any(f.errors for _, *row in self.session_rows() for f in row)
        details = self.details(substitute=True)
        for field, message in course_problems(details, self.course):
            if field and field.startswith("session") and sessions_refused:
                continue  # the sessions as typed could not all be read: their own errors say why
            target = self._fields.get(field) if field else None
            if target is None:
                self.form_errors.append(message)  # e.g. "sessions": shown above the session rows
            elif not target.errors:
                target.errors.append(message)

    def details(self, substitute: bool = False) -> CourseDetails:
        """The course the form describes (call after ``validate``); with ``substitute``, fields that were
        refused count as unset (capacity 1), to check the rest against the rules."""
        def pick(model, field):
            if substitute and field.errors:
                return None
            return _chosen(model, int(field.data)) if field.data else None

        capacity = self.capacity.data
        if substitute and (self.capacity.errors or not isinstance(capacity, int)):
            capacity = 1
        return CourseDetails(
            course_type=pick(CourseType, self.course_type),
            delivery_mode=DeliveryMode(self.delivery_mode.data),
            capacity=capacity,
            sessions=self.session_times,
            venue=pick(Venue, self.venue),
            council_area=pick(CouncilArea, self.council_area),
            joining_url=(self.joining_url.data or "").strip() or None,
            price_pence=self.price_pence or 0,
            employer=pick(Employer, self.employer),
            booking_deadline=self.booking_deadline,
            notes=self.notes.data or "",
            funding_stream=FundingStream(self.funding_stream.data)
            if self.funding_stream.data and not self.funding_stream.errors else None,
            delivery_cost_pence=None if substitute and self.delivery_cost.errors else self.delivery_cost_pence,
        )


class FundingForm(FlaskForm):
    """A course's funding stream and delivery cost, recordable after it has run."""

    funding_stream = RadioField("Funding stream", choices=[(f.value, f.label) for f in FundingStream],
                                validators=[DataRequired("Choose the funding stream")])
    delivery_cost = StringField("Delivery cost, in pounds (optional)", validators=[Optional()],
                                description=DELIVERY_COST_HELP)

    def validate_delivery_cost(self, field):
        self.delivery_cost_pence = delivery_cost_pence(field.data)

    @classmethod
    def data_of(cls, course: Course) -> dict:
        """The form's initial data: the course's stream and recorded cost."""
        return {"funding_stream": course.funding_stream.value, "delivery_cost": delivery_cost_text(course)}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.delivery_cost_pence: int | None = None


class CancelCourseForm(FlaskForm):
    reason = TextAreaField("Why is the course cancelled?", validators=[
        DataRequired("Enter the reason for cancelling; booked trainees are told it"), Length(max=1000)],
        description="Booked trainees receive this in their email.")


class AssignInstructorForm(FlaskForm):
    # The list offers only instructors the rules accept; one chosen from an older page is still
    # looked up, so the refusal names the rule (an expired licence, a clashing course).
    instructor = SelectField("Instructor", choices=[], validators=[DataRequired("Choose an instructor")],
                             validate_choice=False)

    def __init__(self, *args, instructors=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.instructor.choices = options([("", "Choose an instructor")] + [
            (str(i.id), f"{i.person.full_name} (licence {i.licence_number}, valid until "
                        f"{i.licence_expires_on:%-d %b %Y})") for i in instructors
        ])

    def chosen(self) -> Instructor:
        if not str(self.instructor.data).isdigit():
            raise NotFound("There is no such instructor")
        return _chosen(Instructor, int(self.instructor.data))


class ActionForm(FlaskForm):
    """A button that changes something: only its CSRF token."""


# --- venues and instructors --------------------------------------------------------------------

class VenueForm(FlaskForm):
    name = StringField("Venue name", validators=[DataRequired("Enter the venue name"), Length(max=150)])
    address_line1 = StringField("Address line 1", validators=[DataRequired("Enter the first line of the address"),
                                                              Length(max=150)])
    address_line2 = StringField("Address line 2 (optional)", validators=[Optional(), Length(max=150)])
    town = StringField("Town or city", validators=[DataRequired("Enter the town or city"), Length(max=80)])
    postcode = StringField("Postcode", validators=[DataRequired("Enter the postcode"), Length(max=10)])
    council_area = SelectField("Council area", choices=[], validators=[DataRequired("Choose the council area")])
    step_free_access = BooleanField("Step-free access to the training room")
    access_notes = TextAreaField("Access notes (optional)", validators=[Optional(), Length(max=2000)],
                                 description="For example: lift to the first floor, accessible toilet, hearing loop.")
    active = BooleanField("In use (offered when scheduling courses)", default=True)

    def __init__(self, *args, areas=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.council_area.choices = options([("", "Choose a council area")] + [(str(a.id), a.name) for a in areas])

    def validate_postcode(self, field):
        if field.data and not postcode_is_valid(field.data):
            raise ValidationError("Enter a real postcode, like B1 2ND")

    def details(self) -> VenueDetails:
        return VenueDetails(
            name=self.name.data, address_line1=self.address_line1.data, address_line2=self.address_line2.data or "",
            town=self.town.data, postcode=self.postcode.data,
            council_area=_chosen(CouncilArea, int(self.council_area.data)),
            step_free_access=self.step_free_access.data, access_notes=self.access_notes.data or "",
            active=self.active.data,
        )


class InstructorForm(FlaskForm):
    first_name = StringField("First name", validators=[DataRequired("Enter the first name"), names.PersonName()])
    last_name = StringField("Last name", validators=[DataRequired("Enter the last name"), names.PersonName()])
    email = EmailField("Email address", validators=[
        DataRequired("Enter the email address"),
        Email("Enter an email address in the right format, like name@example.com"), Length(max=254)])
    licence_number = StringField("MHFA England licence number", validators=[
        DataRequired("Enter the licence number"), Length(max=40)])
    licence_expires_on = _date("Licence expiry date", "Enter the licence expiry date as a real date, like 2028-01-31",
                               "For example, 2028-01-31", required="Enter the licence expiry date")
    licensed_types = SelectMultipleField(
        "Courses the licence covers", coerce=int, choices=[], validate_choice=False,
        widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
        description="MHFA England licenses each course apart: an instructor can only be given, and publish, "
                    "courses of these types.")
    qualified_on = DateField(
        "Date qualified for the courses newly ticked (optional)", format=DATE_FORMATS,
        validators=[Optional(), dates.InRange(dates.PROGRAMME.up_to_today(), label="The date qualified")],
        invalid_value_message="Enter the date qualified as a real date, like 2025-09-12",
        description="When MHFA England qualified them to deliver the courses you tick now (for Champion, Aware "
                    "and Youth courses, their upskill training). Also recorded for courses with no date yet. "
                    "Leave empty for today.")
    active = BooleanField("Active (can be given courses)", default=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        kinds = db.session.scalars(sa.select(CourseType).where(CourseType.active.is_(True))
                                   .order_by(CourseType.name)).all()
        self.licensed_types.choices = [(k.id, k.name) for k in kinds]
        if not self.is_submitted() and self.licensed_types.data is None:
            self.licensed_types.data = [k.id for k in kinds]  # a new instructor: every course, to narrow

    def validate_licence_number(self, field):
        if field.data and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 /-]*", field.data.strip()):
            raise ValidationError("Enter the licence number using letters, numbers, spaces, hyphens or slashes only")

    def details(self) -> InstructorDetails:
        return InstructorDetails(
            first_name=self.first_name.data, last_name=self.last_name.data, email=self.email.data,
            licence_number=self.licence_number.data, licence_expires_on=self.licence_expires_on.data,
            active=self.active.data,
            course_types=[_chosen(CourseType, ident) for ident in (self.licensed_types.data or [])],
            qualified_on=self.qualified_on.data,
        )


class DevelopmentForm(FlaskForm):
    """A continuing professional development record the instructor adds."""

    done_on = _date("Date of the activity", "Enter the date of the activity as a real date, like 2026-05-14",
                    "For example, 2026-05-14", required="Enter the date of the activity, like 2026-05-14")
    activity = StringField("What you did", validators=[
        DataRequired("Say what the activity was"),
        Length(max=200, message="The activity must be 200 characters or fewer")],
        description="For example, MHFA England webinar on suicide prevention, or a supervision session.")
    hours = StringField("Hours", validators=[DataRequired("Enter the hours spent, like 1.5")],
                        description="In hours, like 1.5 for an hour and a half.")

    def validate_hours(self, field):
        if not re.fullmatch(r"[0-9]{1,4}(\.[0-9]{1,2})?|\.[0-9]{1,2}", (field.data or "").strip()):
            raise ValidationError("Enter the hours as a number, like 1.5")

    def validate_activity(self, field):
        if field.data and any(ord(ch) < 32 or ord(ch) == 127 for ch in field.data):
            raise ValidationError("What you did contains a character that is not allowed")

    def details(self) -> DevelopmentDetails:
        return DevelopmentDetails(done_on=self.done_on.data, activity=self.activity.data or "",
                                  hours=float(self.hours.data))


class AreaFeedForm(FlaskForm):
    council_area = SelectField("Council area", choices=[], validators=[DataRequired("Choose a council area")])

    def __init__(self, *args, areas=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.council_area.choices = options([("", "Choose a council area")] + [(str(a.id), a.name) for a in areas])


# --- what the forms offer, and what they start with ------------------------------------------------

def _chosen(model, ident: int | None):
    """The row a select list names, or NotFound (a choice that is no longer there)."""
    record = db.session.get(model, ident) if ident is not None and 0 < ident <= MAX_ID else None
    if record is None:
        raise NotFound(f"There is no such {model.__tablename__.replace('_', ' ')}.")
    return record


def course_form_choices(course: Course | None = None) -> dict:
    """What the course form offers: active course types and venues (and the course's own), areas, employers."""
    types = db.session.scalars(sa.select(CourseType).order_by(CourseType.name)).all()
    venues = db.session.scalars(
        sa.select(Venue).options(joinedload(Venue.council_area)).order_by(Venue.name)
    ).all()
    keep_type = course.course_type_id if course else None
    keep_venue = course.venue_id if course else None
    return {
        "course_types": [t for t in types if t.active or t.id == keep_type],
        "venues": [v for v in venues if v.active or v.id == keep_venue],
        "areas": all_areas(),
        "employers": list(db.session.scalars(sa.select(Employer).order_by(Employer.name))),
    }


def venue_form_data(venue: Venue) -> dict:
    return {
        "name": venue.name, "address_line1": venue.address_line1, "address_line2": venue.address_line2,
        "town": venue.town, "postcode": venue.postcode, "council_area": str(venue.council_area_id),
        "step_free_access": venue.step_free_access, "access_notes": venue.access_notes, "active": venue.active,
    }
