"""Forms: a questionnaire's page (built from the stored questions), the course-type settings, the opt-out button."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField, SelectMultipleField, TextAreaField, widgets
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from mhfa.outcomes.models import Questionnaire

_CONTROL = {chr(c) for c in range(32) if chr(c) not in "\t\n\r"} | {"\x7f"}


def printable(form, field) -> None:
    if field.data and any(char in _CONTROL for char in field.data):
        raise ValidationError(f"{field.label.text} contains a character that is not allowed: remove it and try again")


class AnswerRadioField(RadioField):
    """Radios whose refusal of a value not offered says what to do (WTForms' own: "Not a valid choice")."""

    def __init__(self, *args, invalid: str = "Choose one of the options given", **kwargs):
        super().__init__(*args, **kwargs)
        self.invalid = invalid

    def pre_validate(self, form) -> None:
        if self.data is not None and self.data not in [value for value, _ in self.choices]:
            raise ValidationError(self.invalid)


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()

    def pre_validate(self, form) -> None:
        if self.validate_choice and self.data:
            offered = [value for value, *_ in self.choices]
            if any(value not in offered for value in self.data):
                raise ValidationError("Choose from the options given")


class ActionForm(FlaskForm):
    """A button that changes something: only its CSRF token."""


def _field(question: dict):
    label, hint, kind = question["label"], question.get("hint", ""), question["type"]
    required = [InputRequired(message=f"Answer the question: {label}")] if question.get("required") else [Optional()]
    if kind == "scale":
        choices = [(str(n), str(n)) for n in range(question["min"], question["max"] + 1)]
        return AnswerRadioField(label, choices=choices, description=hint, validators=required,
                                invalid=f"Choose a whole number from {question['min']} to {question['max']}")
    if kind == "choice":
        return AnswerRadioField(label, choices=[(str(n), text) for n, text in question["choices"]], description=hint,
                          validators=required)
    if kind == "yesno":
        return AnswerRadioField(label, choices=[("yes", "Yes"), ("no", "No")], description=hint, validators=required)
    if kind == "count":
        return IntegerField(label, description=hint, validators=[*required, NumberRange(
            question["min"], question["max"],
            message=f"Enter a whole number from {question['min']} to {question['max']}")])
    if kind == "multi":
        return MultiCheckboxField(label, choices=[(str(c), text) for c, text in question["choices"]], description=hint)
    return TextAreaField(label, description=hint, validators=[Optional(), printable, Length(
        max=question.get("max_length", 1000),
        message=f"Write {question.get('max_length', 1000)} characters or fewer")])


def questionnaire_form(questionnaire: Questionnaire, **kwargs) -> FlaskForm:
    """A form with one field per question, named by the question's key."""
    fields = {q["key"]: _field(q) for q in questionnaire.questions}
    return type("QuestionnaireForm", (FlaskForm,), fields)(**kwargs)


def answers_of(form: FlaskForm, questionnaire: Questionnaire) -> dict:
    """What the form holds, by question key, for the service to check and store."""
    return {q["key"]: form[q["key"]].data for q in questionnaire.questions}


class EvaluationSettingsForm(FlaskForm):
    required = MultiCheckboxField("Course types whose certificate waits for the evaluation", coerce=int,
                                  validate_choice=False,
                                  description="The certificate is issued either way; its holder downloads it once "
                                              "they have answered (or once the evaluation link has expired)")
