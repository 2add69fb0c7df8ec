"""Outcomes follow certificates: connected to the certificates hooks (``mhfa.certificates.signals``) at app creation."""
from __future__ import annotations

from mhfa.certificates import signals
from mhfa.outcomes.evaluations import download_refusal, invite_completers


def register() -> None:
    """A completed course invites its completers to evaluate it; a certificate may wait for the evaluation."""
    signals.course_completed.connect(invite_completers)
    signals.certificate_download.connect(download_refusal)
