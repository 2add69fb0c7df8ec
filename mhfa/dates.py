"""One rule for every date the service accepts, wherever it is typed.

Forms, the API's query parameters, CSV imports, the staff file, the command line and the programme
settings all check a date against one of these ranges, so no stored date can be one that a page
cannot draw (a year 1 start date, a course in 9999) or that makes a page loop over centuries:

* ``BIRTH``: people were born from 1 January 1900 to today;
* ``PROGRAMME``: programme, course, order and filter dates lie from 1 January 2000 to
  31 December 2100, unless a field narrows it (``up_to_today()``: a completion cannot be in the future).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime

from wtforms.validators import ValidationError

from mhfa.errors import DomainError
from mhfa.timeutil import london_today

#: What a date may be typed as: ISO (what a browser's date input sends) or the UK's day/month/year.
TYPED_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_UK_DATE = re.compile(r"^\d{1,2}/\d{1,2}/\d{4}$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def spoken(day: date) -> str:
    """A date as a person reads it: 1 January 1900."""
    return f"{day.day} {day:%B} {day.year}"


@dataclass(frozen=True)
class DateRange:
    """The dates a field accepts: ``earliest`` to ``latest`` (None: today, in London), both included."""

    earliest: date
    latest: date | None = None
    #: How a date after ``latest`` is refused when ``latest`` is today ("must be in the past").
    future: str = "must be today or earlier"

    def last(self) -> date:
        return self.latest or london_today()

    def up_to_today(self) -> DateRange:
        """The same range, ending today (dates this service is used in never reach the end of the range)."""
        return replace(self, latest=None)

    def problem(self, day: date, label: str) -> str | None:
        """Why ``day`` is refused for the field called ``label``, or None when it will do."""
        if isinstance(day, datetime):
            day = day.date()
        if day < self.earliest:
            return f"{label} must be on or after {spoken(self.earliest)}"
        if day > self.last():
            if self.latest is None:
                return f"{label} {self.future}"
            return f"{label} must be on or before {spoken(self.last())}"
        return None

    def check(self, day: date, label: str, *, field: str | None = None) -> date:
        """``day`` if it is in range, else a DomainError on ``field`` saying why."""
        problem = self.problem(day, label)
        if problem:
            raise DomainError(problem, field=field)
        return day

    def contains(self, day: date) -> bool:
        return self.problem(day, "") is None


BIRTH = DateRange(date(1900, 1, 1), None, future="must be in the past")
PROGRAMME = DateRange(date(2000, 1, 1), date(2100, 12, 31))


def parse(text: str) -> date | None:
    """A typed date (``YYYY-MM-DD`` or ``DD/MM/YYYY``), or None when it is not a real date."""
    text = (text or "").strip()
    if _ISO_DATE.match(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            return None
    if _UK_DATE.match(text):
        try:
            return datetime.strptime(text, "%d/%m/%Y").date()
        except ValueError:
            return None
    return None


def parse_in(text: str, allowed: DateRange, label: str, *, field: str | None = None) -> date:
    """A typed date within ``allowed``, else a DomainError naming the field and the reason."""
    day = parse(text)
    if day is None:
        raise DomainError(f"{label} must be a real date, like 2027-03-27", field=field)
    return allowed.check(day, label, field=field)


def parse_month(text: str, allowed: DateRange = PROGRAMME) -> tuple[int, int] | None:
    """A month typed as ``YYYY-MM`` within ``allowed`` as (year, month), or None."""
    match = _MONTH.match((text or "").strip())
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        return None
    first = date(year, month, 1) if year >= 1 else None
    if first is None or not (date(allowed.earliest.year, allowed.earliest.month, 1) <= first <= allowed.last()):
        return None
    return year, month


class InRange:
    """WTForms validator: the field's date lies in ``allowed`` (the message names the field)."""

    def __init__(self, allowed: DateRange, message: str | None = None, label: str | None = None):
        self.allowed, self.message, self.label = allowed, message, label

    def __call__(self, form, field):
        if field.data is None:
            return
        problem = self.allowed.problem(field.data, self.label or field.label.text)
        if problem:
            raise ValidationError(self.message or problem)
