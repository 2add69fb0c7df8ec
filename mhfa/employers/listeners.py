"""Employers follow course changes: connected to the course hooks (``mhfa.courses.signals``) at app creation."""
from __future__ import annotations

from mhfa.courses import signals
from mhfa.employers.requests import closed_course_published


def register() -> None:
    """A published closed course tells the organisation that asked for it that its places can be ordered."""
    signals.course_published.connect(closed_course_published)
