"""Test helper: deliver the email outbox now (as `flask mhfa deliver-mail` would)."""
from __future__ import annotations

from mhfa.notify.outbox import DeliveryReport, deliver_due


def deliver_outbox(limit: int = 1000) -> DeliveryReport:
    """Send every message that is due; returns what happened."""
    return deliver_due(limit=limit)
