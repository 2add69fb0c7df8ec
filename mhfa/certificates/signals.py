"""What certificates tell the areas above them (outcomes), which certificates never import.

The same :class:`~mhfa.courses.signals.Hook` as the course hooks: receivers are connected at app
creation (``mhfa.outcomes.listeners.register``) and run inside the caller's transaction.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from mhfa.courses.signals import Hook


@dataclass(frozen=True)
class DownloadRefusal:
    """Why a certificate cannot be downloaded yet, and the page (endpoint and values) that unblocks it."""

    message: str
    endpoint: str
    values: dict = field(default_factory=dict)
    action: str = "Continue"


#: A course just completed (locked), with the ``completions`` made and the ``certificates`` issued.
course_completed = Hook("course-completed")
#: A certificate its ``user`` is about to download; a receiver returns a DownloadRefusal to hold it back, or None.
certificate_download = Hook("certificate-download")
