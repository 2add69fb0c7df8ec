from flask_wtf import FlaskForm
from wtforms import RadioField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional


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


class CancelForTraineeForm(FlaskForm):
    """The programme team cancels a trainee's booking; the reason goes in the trainee's email."""

    reason = TextAreaField(
        "Why is this booking cancelled?",
        description="The trainee receives this in their email.",
        validators=[DataRequired("Enter the reason for cancelling; the trainee is told it"),
                    Length(max=200, message="The reason must be 200 characters or fewer")],
    )


class TransferForm(FlaskForm):
    """Move a booking to another date of the same course; the choices are the dates it can move to."""

    course_id = RadioField("Which date do you want to move to?", coerce=int,
                           validators=[InputRequired("Choose the date to move to")])
    submit = SubmitField("Move my booking")


class AnswerOfferForm(FlaskForm):
    """Accept or decline a seat offered from the waiting list (two buttons; the one pressed is the answer)."""

    accept = SubmitField("Accept the place")
    decline = SubmitField("Decline")


class GiveBackForm(FlaskForm):
    give_back = SubmitField("Give the place back")
