"""The forms of the coordinators' venue and instructor pages, and of the area calendar feeds; each is given
its choices by the view."""
from __future__ import annotations

import re

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, EmailField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from mhfa import dates, names
from mhfa.areas.services import postcode_is_valid
from mhfa.courses.forms import DATE_FORMATS, date_field, options
from mhfa.courses.instructors import InstructorDetails
from mhfa.courses.models import CourseType, Venue
from mhfa.courses.standing import DevelopmentDetails
from mhfa.courses.venues import VenueDetails
from mhfa.errors import NotFound


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
        self._areas = {area.id: area for area in areas}
        self.council_area.choices = options([("", "Choose a council area")] + [(str(a.id), a.name) for a in areas])

    def validate_postcode(self, field):
        if field.data and not postcode_is_valid(field.data):
            raise ValidationError("Enter a real postcode, like B1 2ND")

    def details(self) -> VenueDetails:
        return VenueDetails(
            name=self.name.data, address_line1=self.address_line1.data, address_line2=self.address_line2.data or "",
            town=self.town.data, postcode=self.postcode.data,
            council_area=self._areas[int(self.council_area.data)],  # a choice the field accepted
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
    licence_expires_on = date_field("Licence expiry date",
                                    "Enter the licence expiry date as a real date, like 31/01/2028",
                                    "For example, 31/01/2028", required="Enter the licence expiry date")
    licensed_types = SelectMultipleField(
        "Courses the licence covers", coerce=int, choices=[], validate_choice=False,
        widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
        description="MHFA England licenses each course apart: an instructor can only be given, and publish, "
                    "courses of these types.")
    qualified_on = DateField(
        "Date qualified for the courses newly ticked (optional)", format=DATE_FORMATS,
        validators=[Optional(), dates.InRange(dates.PROGRAMME.up_to_today(), label="The date qualified")],
        invalid_value_message="Enter the date qualified as a real date, like 12/09/2025",
        description="When MHFA England qualified them to deliver the courses you tick now (for Champion, Aware "
                    "and Youth courses, their upskill training). Also recorded for courses with no date yet. "
                    "Leave empty for today.")
    active = BooleanField("Active (can be given courses)", default=True)

    def __init__(self, *args, course_types=(), **kwargs):
        super().__init__(*args, **kwargs)
        kinds = list(course_types)  # the active course types, from the view
        self._kinds = {kind.id: kind for kind in kinds}
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
            course_types=[self._licensed(ident) for ident in (self.licensed_types.data or [])],
            qualified_on=self.qualified_on.data,
        )

    def _licensed(self, ident: int) -> CourseType:
        if ident not in self._kinds:
            raise NotFound("There is no such course type.")  # a box for a type no longer offered
        return self._kinds[ident]


class DevelopmentForm(FlaskForm):
    """A continuing professional development record the instructor adds."""

    done_on = date_field("Date of the activity", "Enter the date of the activity as a real date, like 14/05/2026",
                         "For example, 14/05/2026", required="Enter the date of the activity, like 14/05/2026")
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


# --- what the forms start with ---------------------------------------------------------------------

def venue_form_data(venue: Venue) -> dict:
    return {
        "name": venue.name, "address_line1": venue.address_line1, "address_line2": venue.address_line2,
        "town": venue.town, "postcode": venue.postcode, "council_area": str(venue.council_area_id),
        "step_free_access": venue.step_free_access, "access_notes": venue.access_notes, "active": venue.active,
    }
