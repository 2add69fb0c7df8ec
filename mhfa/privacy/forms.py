from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from mhfa.db_types import MAX_ID
from mhfa.security.input import NumberRange


class PeopleSearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField("Name, email address or record number", validators=[Optional(), Length(max=200)])


class EraseForm(FlaskForm):
    reason = TextAreaField("Reason for the erasure", description="For example, the reference of the written request.",
                           validators=[DataRequired("Enter the reason for the erasure"),
                                       Length(max=500, message="Reason must be 500 characters or fewer")])
    confirm = StringField("Type ERASE to confirm", validators=[
        DataRequired("Type ERASE to confirm"), EqualTo("expected", "Type ERASE, in capitals, to confirm")])
    expected = StringField(default="ERASE")
    submit = SubmitField("Erase this record")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.expected.data = "ERASE"


class AuditSearchForm(FlaskForm):
    class Meta:
        csrf = False

    action = StringField("Action starts with", description="For example, auth. or person.erased",
                         validators=[Optional(), Length(max=60)])
    entity_type = StringField("Record type", description="For example, person, user_account, booking",
                              validators=[Optional(), Length(max=40)])
    entity_id = IntegerField("Record number", validators=[
        Optional(), NumberRange(1, MAX_ID, "Enter a real record number")])
    actor_id = IntegerField("Done by account number", validators=[
        Optional(), NumberRange(1, MAX_ID, "Enter a real account number")])
