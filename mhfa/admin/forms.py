from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, SubmitField
from wtforms.widgets import CheckboxInput, ListWidget

from mhfa.auth.models import Role

ROLE_CHOICES = [(role.value, role.label) for role in Role]


class UserSearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    q = StringField("Name or email address")
    role = SelectField("Role", choices=[("", "Any role"), *ROLE_CHOICES], default="")


class AccountForm(FlaskForm):
    roles = SelectMultipleField(
        "Roles", choices=ROLE_CHOICES, widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
        description="A person can hold several roles.",
    )
    active = BooleanField("Account is active", description="An inactive account cannot sign in.")
    submit = SubmitField("Save changes")
