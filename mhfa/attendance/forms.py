"""Forms for the register: CSRF tokens and the marks a browser sends, one radio group per trainee."""
from __future__ import annotations

from flask_wtf import FlaskForm

from mhfa.attendance.models import AttendanceStatus

MARK_PREFIX = "mark-"
REASON_PREFIX = "reason-"


class RegisterForm(FlaskForm):
    """The register of one session: ``mark-<booking id>`` = present, absent or withdrew, for each trainee, and
    ``reason-<booking id>``: why one who withdrew left."""

    def statuses(self, formdata) -> dict[int, AttendanceStatus]:
        """The marks sent, by booking id; an unreadable mark is put above the form."""
        statuses: dict[int, AttendanceStatus] = {}
        for key, value in formdata.items():
            if not key.startswith(MARK_PREFIX):
                continue
            try:
                statuses[int(key[len(MARK_PREFIX):])] = AttendanceStatus(value)
            except ValueError:
                self.form_errors.append("Choose present or absent (or withdrew, with the reason) for each trainee")
                return {}
        return statuses

    @staticmethod
    def reasons(formdata) -> dict[int, str]:
        """Why each trainee marked "withdrew" left, by booking id (``reason-<booking id>``)."""
        reasons: dict[int, str] = {}
        for key, value in formdata.items():
            if key.startswith(REASON_PREFIX) and key[len(REASON_PREFIX):].isdigit() and value.strip():
                reasons[int(key[len(REASON_PREFIX):])] = value
        return reasons


class ActionForm(FlaskForm):
    """A button that changes something: only its CSRF token."""
