"""Loading a row by an id that came from a URL or a form: an id no row can have names none.

Ids from the request can be any size (``/employer/orders/99999999999999999999``, a tampered select
option): past 64 bits SQLite refuses them with an OverflowError, so they must never reach the driver.
"""
from __future__ import annotations

from typing import Any, TypeVar

from mhfa.extensions import db

M = TypeVar("M")

MAX_ID = 2**63 - 1


def row(model: type[M], object_id: Any) -> M | None:
    """The row of ``model`` with this id, or None (also for a missing, non-integer or out-of-range id)."""
    if isinstance(object_id, bool) or not isinstance(object_id, int) or not 0 < object_id <= MAX_ID:
        return None
    return db.session.get(model, object_id)
