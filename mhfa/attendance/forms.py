"""Forms for the register: CSRF tokens and the marks a browser sends, one radio group per trainee."""
from __future__ import annotations

from flask_wtf import FlaskForm

from mhfa.attendance.models import AttendanceStatus

MARK_PREFIX = "mark-"


class RegisterForm(FlaskForm):
    """The register of one session: ``mark-<booking id>`` = present or absent, for each trainee."""

    def statuses(self, formdata) -> dict[int, AttendanceStatus]:
        """The marks sent, by booking id; an unreadable mark is put above the form."""
        statuses: dict[int, AttendanceStatus] = {}
        for key, value in formdata.items():
            if not key.startswith(MARK_PREFIX):
                continue
            try:
                statuses[int(key[len(MARK_PREFIX):])] = AttendanceStatus(value)
            except ValueError:
                self.form_errors.append("Choose present or absent for each trainee")
                return {}
        return statuses


class ActionForm(FlaskForm):
    """A button that changes something: only its CSRF token."""
