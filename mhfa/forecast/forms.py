"""The board's what-if question, asked on the forecast page (a GET form: it changes nothing)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField
from wtforms.validators import InputRequired, Regexp

from mhfa.security.input import NumberRange


class WhatIfForm(FlaskForm):
    class Meta:
        csrf = False

    extra_per_month = IntegerField(
        "More people a month", description="For example, 1000",
        validators=[InputRequired("Enter how many more people a month, like 1000"),
                    NumberRange(1, 1_000_000, "Enter a whole number from 1 to 1,000,000")],
    )
    from_month = StringField(
        "From month", description="Year and month, for example 2027-03",
        validators=[InputRequired("Enter the month it starts, like 2027-03"),
                    Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", message="Enter the month as year and month, like 2027-03")],
    )


class RunForecastForm(FlaskForm):
    """Run the forecast now (a POST with the CSRF token: it starts a run)."""
