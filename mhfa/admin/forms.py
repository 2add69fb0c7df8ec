from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from mhfa import dates, names
from mhfa.auth.models import Role

ROLE_CHOICES = [(role.value, role.label) for role in Role]
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]


class UserSearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    q = StringField("Name or email address")
    role = SelectField("Role", choices=[("", "Any role"), *ROLE_CHOICES], default="")


class _RoleDetailsMixin:
    """What the instructor and employer-contact roles need, asked in the same step as the role."""

    licence_number = StringField("Licence number", validators=[Optional(), Length(max=40)],
                                 description="Only for the instructor role: their MHFA England licence.")
    licence_expires_on = DateField("Licence valid until", format=DATE_FORMATS,
                                   validators=[Optional(), dates.InRange(dates.PROGRAMME, label="Licence valid until")],
                                   description="Only for the instructor role. For example, 31/03/2027.",
                                   invalid_value_message="Enter the licence expiry date as a real date, "
                                                         "like 31/03/2027")
    employer = SelectField("Organisation", choices=[], validate_choice=False,
                           description="Only for the employer contact role: the organisation they speak for.")

    def set_organisations(self, employers) -> None:
        self.employer.choices = [("", "Choose an organisation"), *((str(e.id), e.name) for e in employers)]

    def employer_id(self) -> int | None:
        text = (self.employer.data or "").strip()
        return int(text) if text.isascii() and text.isdigit() and len(text) < 12 else None


class AccountForm(_RoleDetailsMixin, FlaskForm):
    roles = SelectMultipleField(
        "Roles", choices=ROLE_CHOICES, widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
        description="A person can hold several roles.",
    )
    active = BooleanField("Account is active", description="An inactive account cannot sign in.")
    submit = SubmitField("Save changes")


class NewUserForm(_RoleDetailsMixin, FlaskForm):
    email = EmailField("Email address", validators=[InputRequired("Enter their email address"), Length(max=254)])
    first_name = StringField("First name", validators=[InputRequired("Enter their first name"), names.PersonName()])
    last_name = StringField("Last name", validators=[InputRequired("Enter their last name"), names.PersonName()])
    roles = SelectMultipleField(
        "Roles", choices=ROLE_CHOICES, widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
        description="A person can hold several roles.",
    )
    how = RadioField("How they get their password", default="invite", choices=[
        ("invite", "Email them an invitation: they set their own password"),
        ("password", "Set a password now, and tell them yourself"),
    ])
    password = PasswordField("Password", validators=[Optional(), Length(max=200)],
                             description="Only when you set a password now.")


class InviteAgainForm(FlaskForm):
    """The button that emails a new invitation (its CSRF token only)."""
