"""What a flush changed on an object: the question the session listeners that keep figures ask
(``mhfa.reach.upkeep``, ``mhfa.outcomes.keeping``)."""
from __future__ import annotations

import sqlalchemy as sa


def changed(obj, *names: str) -> bool:
    """Whether any of these attributes of ``obj`` changed since it was loaded or last flushed."""
    state = sa.inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in names)


def old_and_new(obj, name: str) -> list:
    """Every value the attribute had or has: the old one (if changed) and the new one."""
    history = sa.inspect(obj).attrs[name].history
    return [*history.deleted, *history.added, *history.unchanged, getattr(obj, name, None)]
