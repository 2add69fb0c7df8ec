from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField, SubmitField, ValidationError
from wtforms.validators import DataRequired, Email, EqualTo, Length

from mhfa import names
from mhfa.auth.services import password_problem

_EMAIL = [
    DataRequired("Enter your email address"),
    Email("Enter an email address in the right format, like name@example.com"),
    Length(max=254, message="Email address must be 254 characters or fewer"),
]
NEW_PASSWORD_HINT = (
    "At least 10 characters. Three or more random words make a strong password that is easy to "  # noqa: S105
    "remember. Common passwords are not allowed.")


class _NewPasswordMixin:
    """A new password, typed twice, checked against the password policy."""

    def validate_password(self, field):
        email_field = getattr(self, "email", None)
        problem = password_problem(field.data or "", email_field.data if email_field else self._policy_email)
        if problem:
            raise ValidationError(problem)

    _policy_email: str | None = None


class LoginForm(FlaskForm):
    email = EmailField("Email address", validators=[
        DataRequired("Enter your email address"),
        Email("Enter an email address in the right format, like name@example.com"),
    ])
    password = PasswordField("Password", validators=[DataRequired("Enter your password")])
    submit = SubmitField("Sign in")


class LogoutForm(FlaskForm):
    submit = SubmitField("Sign out")


class RegisterForm(_NewPasswordMixin, FlaskForm):
    first_name = StringField("First name", validators=[DataRequired("Enter your first name"), names.PersonName()])
    last_name = StringField("Last name", validators=[DataRequired("Enter your last name"), names.PersonName()])
    email = EmailField("Email address", description="We will send you a link to confirm it.", validators=_EMAIL)
    password = PasswordField("Create a password", description=NEW_PASSWORD_HINT,
                             validators=[DataRequired("Enter a password")])
    password_confirm = PasswordField("Confirm your password", validators=[
        DataRequired("Confirm your password"), EqualTo("password", "The passwords do not match")])
    submit = SubmitField("Create account")


class EmailOnlyForm(FlaskForm):
    email = EmailField("Email address", validators=_EMAIL)
    submit = SubmitField("Send the link")


class _CurrentPassword:
    # Declared before the new password's fields, so it comes first in the form (and its error summary).
    current_password = PasswordField("Current password", validators=[DataRequired("Enter your current password")])


class _ReplacedPassword(_NewPasswordMixin):
    """The new password that replaces an account's password: from a link, or changed by its owner."""

    password = PasswordField("New password", description=NEW_PASSWORD_HINT,
                             validators=[DataRequired("Enter a new password")])
    password_confirm = PasswordField("Confirm your new password", validators=[
        DataRequired("Confirm your new password"), EqualTo("password", "The passwords do not match")])


class ResetPasswordForm(_ReplacedPassword, FlaskForm):
    submit = SubmitField("Save new password")


class ChangePasswordForm(_CurrentPassword, _ReplacedPassword, FlaskForm):
    submit = SubmitField("Change password")


class ApiTokenForm(FlaskForm):
    issue = SubmitField("Create a new API token")
    revoke = SubmitField("Revoke the API token")
