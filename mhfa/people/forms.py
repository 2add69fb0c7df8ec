"""The profile form: name, date of birth, areas, employer and the optional equality questions."""
from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from wtforms import Field, RadioField, SelectField, StringField, SubmitField, ValidationError
from wtforms.validators import DataRequired, Length, Optional

from mhfa import dates, names
from mhfa.areas.services import normalise_postcode
from mhfa.db_types import MAX_ID
from mhfa.errors import DomainError
from mhfa.people.models import AgeBand, Disability, EthnicGroup, Sex

PREFER_NOT = "Prefer not to say"
AGE_BAND_LABELS = {
    AgeBand.AGE_16_24: "16 to 24", AgeBand.AGE_25_34: "25 to 34", AgeBand.AGE_35_44: "35 to 44",
    AgeBand.AGE_45_54: "45 to 54", AgeBand.AGE_55_64: "55 to 64", AgeBand.AGE_65_PLUS: "65 or over",
    AgeBand.PREFER_NOT_TO_SAY: PREFER_NOT,
}
SEX_LABELS = {Sex.FEMALE: "Female", Sex.MALE: "Male", Sex.PREFER_NOT_TO_SAY: PREFER_NOT}
ETHNIC_GROUP_LABELS = {  # ONS Census 2021 high-level ethnic groups (England)
    EthnicGroup.ASIAN: "Asian or Asian British",
    EthnicGroup.BLACK: "Black, Black British, Caribbean or African",
    EthnicGroup.MIXED: "Mixed or multiple ethnic groups",
    EthnicGroup.WHITE: "White",
    EthnicGroup.OTHER: "Other ethnic group",
    EthnicGroup.PREFER_NOT_TO_SAY: PREFER_NOT,
}
DISABILITY_LABELS = {Disability.YES: "Yes", Disability.NO: "No", Disability.PREFER_NOT_TO_SAY: PREFER_NOT}


class DateInputField(Field):
    """A GOV.UK date input: three boxes (day, month, year) posted as ``<name>-day`` etc.

    What was typed is kept for showing the form again; ``data`` is a date, or None when all three
    boxes are empty.
    """

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.parts = {"day": "", "month": "", "year": ""}

    def process(self, formdata, data=None, extra_filters=None):
        self.process_errors = []
        self.raw_data = []
        self.data = data if data is not None else self.default
        if not isinstance(self.data, date):  # WTForms passes its "unset" marker when there is no object data
            self.data = None
        if isinstance(self.data, date):
            self.parts = {"day": str(self.data.day), "month": str(self.data.month), "year": str(self.data.year)}
        if formdata is not None and any(f"{self.name}-{p}" in formdata for p in self.parts):
            self.parts = {p: formdata.get(f"{self.name}-{p}", "").strip() for p in self.parts}
            self.raw_data = [self.parts[p] for p in ("day", "month", "year")]
            self._parse()

    def _parse(self):
        label = self.label.text
        day, month, year = (self.parts[p] for p in ("day", "month", "year"))
        if not (day or month or year):
            self.data = None
            return
        missing = [name for name, value in (("day", day), ("month", month), ("year", year)) if not value]
        if missing:
            self.data = None
            self.process_errors.append(f"{label} must include a {' and a '.join(missing)}")
            return
        try:
            if len(year) != 4 or not (day + month + year).isdigit():
                raise ValueError
            self.data = date(int(year), int(month), int(day))
        except (ValueError, OverflowError):
            self.data = None
            self.process_errors.append(f"{label} must be a real date")

    def _value(self):
        return self.parts


def _id_or_none(value):
    """A chosen row's id from a select; a number no row can have is refused as an invalid choice."""
    if value is None or value == "":
        return None
    if isinstance(value, int):
        return value
    number = int(value)  # ValueError: WTForms shows "Not a valid choice"
    if not 0 < number <= MAX_ID:
        raise ValueError("no such choice")
    return number


def _enum_choices(labels: dict) -> list[tuple[str, str]]:
    return [(member.value, label) for member, label in labels.items()]


def _optional_enum(enum_cls) -> dict:
    """An optional radio question whose answer is a member of ``enum_cls`` (or None when unanswered)."""

    def coerce(value):
        if value is None or value == "" or isinstance(value, enum_cls):
            return value or None
        return enum_cls(value)

    return {"coerce": coerce, "validators": [Optional()], "validate_choice": False}


class ProfileForm(FlaskForm):
    first_name = StringField("First name", validators=[DataRequired("Enter your first name"), names.PersonName()])
    last_name = StringField("Last name", validators=[DataRequired("Enter your last name"), names.PersonName()])
    date_of_birth = DateInputField(
        "Date of birth", validators=[dates.InRange(dates.BIRTH)],
        description="Courses have a minimum age. For example, 27 3 1990.")
    home_council_area = SelectField("Council area where you live", coerce=_id_or_none,
                                    validate_choice=False)
    work_council_area = SelectField("Council area where you work", coerce=_id_or_none,
                                    validate_choice=False, description="Leave blank if you do not work.")
    postcode = StringField("Postcode (optional)", description="Of your home. For example, B1 2ND.",
                           validators=[Optional(), Length(max=10, message="Enter a real postcode, like B1 2ND")])
    employer = SelectField("Employer", coerce=_id_or_none, validate_choice=False,
                           description="If your employer is not listed, leave this blank.")
    age_band = RadioField("What is your age group? (optional)", **_optional_enum(AgeBand))
    sex = RadioField("What is your sex? (optional)", **_optional_enum(Sex))
    ethnic_group = RadioField("What is your ethnic group? (optional)", **_optional_enum(EthnicGroup))
    disability = RadioField(
        "Do you have a physical or mental health condition or illness lasting or expected to last 12 months or "
        "more? (optional)", **_optional_enum(Disability))
    submit = SubmitField("Save profile")

    def validate_postcode(self, field):
        """The same check the service makes, so every problem shows at once."""
        try:
            normalise_postcode(field.data)
        except DomainError as error:
            raise ValidationError(error.message) from error

    def set_choices(self, areas, employers) -> None:
        area_choices = [("", "Choose an area")] + [(str(a.id), a.name) for a in areas]
        self.home_council_area.choices = area_choices
        self.work_council_area.choices = area_choices
        self.employer.choices = [("", "Not listed or not employed")] + [(str(e.id), e.name) for e in employers]
        # Set here rather than in the class: WTForms 3.3 warns about tuple choices given to the constructor.
        self.age_band.choices = _enum_choices(AGE_BAND_LABELS)
        self.sex.choices = _enum_choices(SEX_LABELS)
        self.ethnic_group.choices = _enum_choices(ETHNIC_GROUP_LABELS)
        self.disability.choices = _enum_choices(DISABILITY_LABELS)
