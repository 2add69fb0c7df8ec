"""Forms for the course finder and the coordinators' pages.

Every error message names its field; a refused form is shown again with what the user typed.
Coordinators type London wall-clock dates and times; the forms turn them into UTC moments.
"""
from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation

from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, RadioField, SelectField, StringField, TextAreaField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from mhfa import dates, money
from mhfa.courses.models import Course, DeliveryMode, FundingStream
from mhfa.courses.scheduling import CourseDetails, SessionTimes
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


def date_field(label: str, invalid: str, description: str = "", required: str | None = None) -> DateField:
    """A date typed as YYYY-MM-DD (what a browser's date input sends) or DD/MM/YYYY."""
    validators = [InputRequired(required)] if required else [Optional()]
    return DateField(label, validators=[*validators, dates.InRange(dates.PROGRAMME)], format=DATE_FORMATS,
                     invalid_value_message=invalid, description=description)


def time_field(label: str, invalid: str) -> TimeField:
    return TimeField(label, validators=[Optional()], format=TIME_FORMATS, invalid_value_message=invalid)


def _session_fields(n: int) -> tuple[DateField, TimeField, TimeField]:
    return (
        date_field(f"Session {n} date", f"Enter the date of session {n} as a real date, like 27/03/2027"),
        time_field(f"Session {n} start time", f"Enter the start time of session {n} like 09:30"),
        time_field(f"Session {n} end time", f"Enter the end time of session {n} like 16:30"),
    )


def london_moment(day: date, at: time) -> datetime:
    """A London wall-clock date and time as a UTC moment; ValueError for a time the clocks skip."""
    moment = london_to_utc(datetime.combine(day, at))
    if to_london(moment).replace(tzinfo=None) != datetime.combine(day, at):
        raise ValueError(f"{at:%H:%M} on {day:%-d %B %Y} does not exist in the UK: the clocks go forward then")
    return moment


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
    booking_deadline_date = date_field("Booking deadline date",
                                       "Enter the booking deadline as a real date, like 20/03/2027",
                                       "Optional. Leave empty to take bookings until the course starts.")
    booking_deadline_time = time_field("Booking deadline time", "Enter the booking deadline time like 17:00")
    notes = TextAreaField("Notes for the programme team", validators=[Optional(), Length(max=2000)])

    def __init__(self, *args, course_types=(), venues=(), areas=(), employers=(), **kwargs):
        super().__init__(*args, **kwargs)
        # The rows offered, by id: a choice the field accepted is one of these (no query to find it).
        self._rows = {"course_type": {t.id: t for t in course_types}, "venue": {v.id: v for v in venues},
                      "council_area": {a.id: a for a in areas}, "employer": {e.id: e for e in employers}}
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

    @classmethod
    def data_of_proposal(cls, proposal) -> dict:
        """The form's initial data for a course a closed-course request proposes
        (``mhfa.employers.requests.CourseProposal``): each day it names fills the next session's date."""
        data = {
            "course_type": str(proposal.course_type.id),
            "employer": str(proposal.employer.id),
            "delivery_mode": proposal.delivery_mode.value,
            "venue": str(proposal.venue.id) if proposal.venue else "",
            "council_area": str(proposal.council_area_id or ""),
            "capacity": proposal.capacity,
            "price": money.amount(proposal.price_pence),
            "notes": proposal.notes,
        }
        for number, day in enumerate(proposal.session_days, start=1):
            data[f"session_{number}_date"] = day
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
        return valid

    def partly_read(self) -> bool:
        """Sent with some input refused, yet saying enough (a course type and a mode) for the rest to be
        checked against the course rules, so every problem is named in one round (a bad price no longer
        hides a wrong session or capacity): the view checks ``details(substitute=True)``."""
        return (self.is_submitted() and bool(self.errors) and not self.course_type.errors
                and not self.delivery_mode.errors and bool(self.course_type.data))

    def show_rule_problems(self, problems: list[tuple[str | None, str]]) -> None:
        """Put each (field, message) the course rules found on its field, unless it has a problem already."""
        sessions_refused = any(f.errors for _, *row in self.session_rows() for f in row)
        for field, message in problems:
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
        def pick(field):
            if (substitute and field.errors) or not field.data:
                return None
            return self._rows[field.name].get(int(field.data))

        capacity = self.capacity.data
        if substitute and (self.capacity.errors or not isinstance(capacity, int)):
            capacity = 1
        return CourseDetails(
            course_type=pick(self.course_type),
            delivery_mode=DeliveryMode(self.delivery_mode.data),
            capacity=capacity,
            sessions=self.session_times,
            venue=pick(self.venue),
            council_area=pick(self.council_area),
            joining_url=(self.joining_url.data or "").strip() or None,
            price_pence=self.price_pence or 0,
            employer=pick(self.employer),
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

    def instructor_id(self) -> int:
        """The id chosen (0, which names no instructor, for anything but digits)."""
        text = str(self.instructor.data)
        return int(text) if text.isdigit() and len(text) < 12 else 0


class ActionForm(FlaskForm):
    """A button that changes something: only its CSRF token."""
