"""The demo history's reach: kept figures built after the bulk load, and a target scaled to its size."""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from mhfa.extensions import db
from mhfa.reach.keeping import rebuild
from mhfa.reach.settings import current_settings, record_scaled_target

FULL_SCALE_PEOPLE = 500_000


def keep_demo_reach(people: int) -> list[str]:
    """Build the kept figures of a freshly generated demo history and record a target scaled to it.

    The demo writes its rows in bulk (COPY), below the session listener, so the figures are built
    here in one pass; at ``--people 500000`` the target is the configured one.
    """
    if db.session.connection().dialect.name == "postgresql":
        # The demo's tables were just filled by COPY: give the planner their statistics first. The app's own
        # tables only: a database-wide ANALYZE also takes the server's shared catalogs, and inside this long
        # transaction would hold them until it commits, stopping every other database's ANALYZE meanwhile.
        names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
        db.session.execute(sa.text(f"ANALYZE {names}"))
    rebuild(compare=False)  # the first build of a bulk-loaded history: nothing kept before it
    if db.session.connection().dialect.name == "postgresql":
        db.session.execute(sa.text("ANALYZE reach_first, reach_month, reach_group_month, reach_group_area_month"))
    configured = current_app.config["MHFA_TARGET_PEOPLE"]
    settings = current_settings(persist=True)  # the invoices' payment details: plainly not a real account
    settings.bank_account_name = settings.bank_account_name or "Demo data: not a real account"
    settings.bank_sort_code = settings.bank_sort_code or "00-00-00"
    settings.bank_account_number = settings.bank_account_number or "00000000"
    if people >= FULL_SCALE_PEOPLE:
        record_scaled_target(configured, "")
        return ["Reach figures built."]
    scaled = max(1, round(configured * people / FULL_SCALE_PEOPLE))
    note = (f"Demo data: the target is scaled to the size of this demo history ({people:,} people), so it is "
            f"{scaled:,} rather than {configured:,}.")
    record_scaled_target(scaled, note)
    return ["Reach figures built.", note]
