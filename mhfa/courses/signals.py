"""What a course change tells the areas above courses, which courses never import.

Courses sit below bookings in the one-way order of imports. When a course change must move its
bookings (a cancelled course releases them; a raised capacity fills seats from the waiting list),
the course service sends one of these hooks inside the same transaction, and bookings, which
connects its receivers at app creation (``mhfa.bookings.listeners.register``), does the work. A
receiver that raises refuses the whole change (the caller rolls back).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Hook:
    """A named point in a course service where higher areas take part; receivers run in order."""

    def __init__(self, name: str):
        self.name = name
        self._receivers: list[Callable[..., Any]] = []

    def connect(self, receiver: Callable[..., Any]) -> Callable[..., Any]:
        if receiver not in self._receivers:  # create_app may run more than once in a process
            self._receivers.append(receiver)
        return receiver

    def send(self, course, **kwargs) -> list[Any]:
        """Call every receiver with the course; their answers, in order."""
        return [receiver(course, **kwargs) for receiver in self._receivers]


#: The course (locked, status already CANCELLED) and ``reason``; each receiver returns the bookings it released.
course_cancelled = Hook("course-cancelled")
#: A draft course just published (locked); receivers tell whoever waits for it (e.g. a closed course's employer).
course_published = Hook("course-published")
#: A published course (locked) whose capacity went up, and ``now``; receivers fill the new seats.
capacity_raised = Hook("capacity-raised")
#: The programme team's course page asks what the areas above courses show on it; each receiver returns
#: (its partial template, what that partial shows), included in order as ``section`` (bookings: the roster).
course_page_sections = Hook("course-page-sections")
