"""The dashboard's filters (a GET form), the settings form and the upload form."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, IntegerField, RadioField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from mhfa import dates
from mhfa.areas.models import CouncilArea
from mhfa.courses.models import CourseType
from mhfa.reach.counts import Filters
from mhfa.reach.models import BASES, UNKNOWN_AREA
from mhfa.security.input import NumberRange

BASIS_LABELS = {"home": "Where they live", "work": "Where they work", "delivery": "Where the course was held"}
MAX_VALUE_LENGTH = 40


@dataclass
class ParsedFilters:
    filters: Filters
    errors: dict[str, str] = field(default_factory=dict)
    values: dict = field(default_factory=dict)
    include_outside: bool = False  # breakdown tables add the people outside the target region
    area_name: str = ""
    type_names: tuple[str, ...] = ()  # the chosen course types' names

    def query_args(self) -> dict:
        """The filters as query-string arguments (for download links)."""
        return {k: v for k, v in self.values.items() if v not in (None, "", [])}

    def describe(self) -> str:
        if self.errors:
            return "Filters: none applied until the ones marked above are corrected; every figure below is unfiltered"
        f = self.filters
        parts = [f"basis: {BASIS_LABELS[f.basis].lower()}",
                 "awareness courses included" if f.include_awareness else "awareness courses excluded"]
        if self.values.get("from") or self.values.get("to"):
            parts.append(f"months {self.values.get('from') or 'start'} to {self.values.get('to') or 'now'}")
        if self.values.get("type"):
            parts.append("course types " + ", ".join(self.type_names or self.values["type"]))
        if self.area_name:
            parts.append(f"council area {self.area_name}")
        if self.include_outside:
            parts.append("breakdown tables include people outside the target region")
        return "Filters: " + "; ".join(parts)

    def period_text(self) -> str:
        """What a chosen period means, said plainly (empty when no period is chosen)."""
        first, last = self.values.get("from"), self.values.get("to")
        if self.errors or (not first and not last):
            return ""
        span = f"from {first or 'the start'} to {last or 'now'}"
        return (f"Period {span}: the tables count people first reached in these months; the headline and the "
                "chart show the position against the required path at the end of the period (or today, if "
                "that is earlier), not today.")


def _month(text: str) -> int | None:
    parsed = dates.parse_month(text)
    return None if parsed is None else parsed[0] * 100 + parsed[1]


def parse_filters(args, areas: Iterable[CouncilArea], course_types: Iterable[CourseType]) -> ParsedFilters:
    """Read the filters from query arguments; anything not understood is an error on its field.

    ``areas`` and ``course_types`` are the choices the codes are looked up in (the dashboard's
    ``areas_in_order()`` and ``course_types()``, which the view passes in).
    """
    errors: dict[str, str] = {}
    values: dict = {}

    def one(name: str) -> str:
        raw = (args.get(name) or "").strip()
        values[name] = raw[:MAX_VALUE_LENGTH]
        if len(raw) > MAX_VALUE_LENGTH:
            errors[name] = "That value is too long"
            return ""
        return raw

    basis = one("basis") or "home"
    if basis not in BASES:
        errors["basis"] = "Choose where people are counted: where they live, work or were trained"
        basis = "home"
    awareness = one("awareness") or "include"
    if awareness not in ("include", "exclude"):
        errors["awareness"] = "Choose whether awareness courses are included"
        awareness = "include"
    months = {}
    for name in ("from", "to"):
        raw = one(name)
        months[name] = _month(raw) if raw else None
        if raw and months[name] is None:
            errors[name] = "Enter a month as YYYY-MM, for example 2024-03"
    if months["from"] and months["to"] and months["from"] > months["to"]:
        errors["to"] = "The end month must be the same as or after the start month"
    codes = [c.strip().upper() for c in args.getlist("type") if c.strip()][:20]
    values["type"] = [c[:MAX_VALUE_LENGTH] for c in codes]
    type_ids = None
    type_names: tuple[str, ...] = ()
    if codes:
        known = {kind.code: kind.id for kind in course_types if kind.code in codes}
        unknown = [c for c in codes if c not in known]
        if unknown:
            errors["type"] = "Choose course types from the list"
        type_ids = frozenset(known.values()) or None
        type_names = tuple(kind.name for kind in course_types if kind.code in known)
    area_text = one("area")
    area = None
    area_name = ""
    if area_text:
        if area_text.lower() == "unknown":
            area, area_name = UNKNOWN_AREA, "Unknown"
        else:
            found = next((a for a in areas if a.gss_code == area_text.upper()), None)
            if found is None:
                errors["area"] = "Choose a council area from the list"
            else:
                area, area_name = found.id, found.name
    outside_text = one("include_outside").lower()
    if outside_text not in ("", "true", "false"):
        errors["include_outside"] = "include_outside must be true or false"
    include_outside = outside_text == "true"
    values.update(basis=basis, awareness=awareness, include_outside="true" if include_outside else "")
    if errors:  # nothing half-applied: the form keeps what was typed, the figures are unfiltered
        return ParsedFilters(Filters(), errors, values)
    filters = Filters(basis=basis, include_awareness=awareness == "include", course_type_ids=type_ids,
                      start_month=months["from"], end_month=months["to"], area=area)
    return ParsedFilters(filters, errors, values, include_outside, area_name, type_names)


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class SettingsForm(FlaskForm):
    target_people = IntegerField("Target number of people", validators=[
        DataRequired("Enter the target number of people"),
        NumberRange(min=1, max=100_000_000, message="Target people must be between 1 and 100,000,000")])
    start_on = DateField("Start date", validators=[DataRequired("Enter the start date as YYYY-MM-DD"),
                                                   dates.InRange(dates.PROGRAMME)])
    end_on = DateField("End date", validators=[DataRequired("Enter the end date as YYYY-MM-DD"),
                                               dates.InRange(dates.PROGRAMME)])
    region = MultiCheckboxField("Council areas in the target region", coerce=int)
    counting = MultiCheckboxField("Course types that count toward the target", coerce=int)
    awareness = MultiCheckboxField("Awareness courses (shown with or without in every figure)", coerce=int)
    bank_account_name = StringField("Account name", validators=[Optional(), Length(max=120)])
    bank_sort_code = StringField("Sort code", validators=[Optional(), Length(max=20)],
                                 description="6 digits, like 20-00-00.")
    bank_account_number = StringField("Account number", validators=[Optional(), Length(max=20)],
                                      description="8 digits.")
    payment_terms_days = IntegerField("Payment terms (days)", validators=[
        Optional(), NumberRange(min=0, max=120, message="Payment terms must be between 0 and 120 days")],
        description="Days from the invoice date to when it is due. Leave empty for the server's setting.")
    offer_window_days = IntegerField("Offer window (days before a course)", validators=[
        Optional(), NumberRange(min=0, max=60, message="The offer window must be between 0 and 60 days")],
        description="A seat freed this close to a course is offered to the first person waiting for a limited "
                    "time; earlier, it is given to them at once. 0: always given at once.")
    offer_hours = IntegerField("How long an offer lasts (hours)", validators=[
        Optional(), NumberRange(min=1, max=168, message="An offer must last between 1 and 168 hours")])
    no_show_spends_place = RadioField("An employer's place when its holder does not come", choices=[
        ("spent", "Spent, unless cancelled before the cancellation cut-off"),
        ("returned", "Returned to the employer to give to someone else")], validators=[Optional()])


class UploadForm(FlaskForm):
    file = FileField("CSV file of completions", validators=[FileRequired("Choose a CSV file to upload")])
    dry_run = BooleanField("Check the file only (do not import)")
