from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import Length, Optional


class BookingForm(FlaskForm):
    """Book a place. The course page posts this with only its CSRF token (and a voucher code if any)."""

    voucher_code = StringField(
        "Place voucher code",
        description="Only if your employer gave you one. It is on the email or letter from your employer.",
        validators=[Optional(), Length(max=64, message="Place voucher code must be 64 characters or fewer")],
    )
    submit = SubmitField("Book a place")


class CancelBookingForm(FlaskForm):
    submit = SubmitField("Yes, cancel my booking")
