"""Loading a row by an id that came from a URL or a form: an id no row can have names none.

Ids from the request can be any size (``/employer/orders/99999999999999999999``, a tampered select
option): past ``db_types.MAX_ID`` the drivers refuse them (OverflowError on SQLite, "integer out of range"
on PostgreSQL), so they must never reach the driver.
"""
from __future__ import annotations

from typing import Any, TypeVar

from mhfa.db_types import MAX_ID
from mhfa.extensions import db

M = TypeVar("M")


def row(model: type[M], object_id: Any) -> M | None:
    """The row of ``model`` with this id, or None (also for a missing, non-integer or out-of-range id)."""
    if isinstance(object_id, bool) or not isinstance(object_id, int) or not 0 < object_id <= MAX_ID:
        return None
    return db.session.get(model, object_id)
