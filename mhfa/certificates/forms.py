"""Forms: completing a course, changing a completed register, revoking, reissuing, verifying."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from mhfa import names

# C0 control characters (NUL among them) other than tab and line breaks: PostgreSQL refuses NUL in text,
# so it would be a 500 there, and none of them belongs in a name, a reason or a certificate number.
_CONTROL = {chr(c) for c in range(32) if chr(c) not in "\t\n\r"} | {"\x7f"}


def printable(form, field) -> None:
    """Refuse text holding control characters, with a message, before it reaches a service or the database."""
    if field.data and any(char in _CONTROL for char in field.data):
        raise ValidationError(f"{field.label.text} contains a character that is not allowed: remove it and try again")


class ActionForm(FlaskForm):
    """A button that changes something: only its CSRF token."""


class CorrectMarkForm(FlaskForm):
    booking_id = RadioField("Trainee", coerce=int, validators=[InputRequired(message="Choose the trainee")])
    status = RadioField("Mark", choices=[("present", "Present"), ("absent", "Absent")],
                        validators=[InputRequired(message="Choose present or absent")])
    reason = TextAreaField("Reason for the change", validators=[
        DataRequired(message="Enter the reason for changing the register"), printable,
        Length(max=500, message="The reason must be 500 characters or fewer")])


class RevokeForm(FlaskForm):
    reason = TextAreaField("Reason for revoking", validators=[
        DataRequired(message="Enter the reason for revoking the certificate"), printable,
        Length(max=500, message="The reason must be 500 characters or fewer")])


class ReissueForm(FlaskForm):
    first_name = StringField("First name", validators=[
        DataRequired(message="Enter the first name as it should appear on the certificate"), names.PersonName()])
    last_name = StringField("Last name", validators=[
        DataRequired(message="Enter the last name as it should appear on the certificate"), names.PersonName()])
    reason = TextAreaField("Reason for reissuing", validators=[
        DataRequired(message="Enter the reason for reissuing the certificate"), printable,
        Length(max=500, message="The reason must be 500 characters or fewer")])


class VerifyForm(FlaskForm):
    number = StringField("Certificate number", description="It is printed on the certificate, like MR2026-7K3Q-9XHD",
                         validators=[DataRequired(message="Enter the certificate number"), printable, Length(max=40)])
    surname = StringField("Holder's last name", validators=[
        DataRequired(message="Enter the certificate holder's last name"), printable, Length(max=100)])


class BadgeFileForm(FlaskForm):
    badge = FileField("Badge file", description="The .json file downloaded from MHFA Reach, like "
                                                "badge-MR2026-7K3Q-9XHD.json")


class FindCertificateForm(FlaskForm):
    class Meta:
        csrf = False

    number = StringField("Certificate number", validators=[DataRequired(message="Enter a certificate number"),
                                                            printable, Length(max=40)])


__all__ = ["ActionForm", "BadgeFileForm", "CorrectMarkForm", "FindCertificateForm", "ReissueForm", "RevokeForm",
           "VerifyForm", "printable"]
