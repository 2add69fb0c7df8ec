"""The demo history follows the app's own rule for refreshers: a refresher's certificate refreshes the
person's latest certificate of a course type it refreshes (issued by the refresher's completion), and
renews it to the refresher's expiry when that is later (mhfa/certificates/services.py, _new_certificate)."""
from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa

from mhfa.attendance.models import Completion
from mhfa.certificates.models import Certificate
from mhfa.courses.models import CourseType
from mhfa.extensions import db


def renew_refreshed_certificates(ids: tuple[int, int] | None = None) -> int:
    """Link each refresher certificate of the bulk-written history to the certificate it refreshes and renew
    that one, in completion order (as completing them through the app would have); returns how many.

    ``ids`` (after, up to): only the certificates of that id range, a cohort of people the demo wrote
    together (everyone's certificates are in their cohort's range), so the history is renewed a cohort at a time.
    """
    within = sa.true() if ids is None else Certificate.id.between(ids[0] + 1, ids[1])
    refreshed_by = {kind.id: [p.id for p in kind.prerequisites] for kind in db.session.scalars(sa.select(CourseType))
                    if kind.requires_prior_certificate and kind.prerequisites}
    if not refreshed_by:
        return 0
    base_types = sorted({t for ids in refreshed_by.values() for t in ids})
    held = defaultdict(list)  # person -> [(issued_on, id, course type)] of certificates a refresher may refresh
    expiry = {}
    for cert_id, person_id, type_id, issued_on, expires_on in db.session.execute(
            sa.select(Certificate.id, Certificate.person_id, Certificate.course_type_id, Certificate.issued_on,
                      Certificate.expires_on)
            .where(Certificate.course_type_id.in_(base_types), Certificate.revoked_at.is_(None), within)):
        held[person_id].append((issued_on, cert_id, type_id))
        expiry[cert_id] = expires_on
    links, renewed = [], {}
    for cert_id, person_id, type_id, completed_on, expires_on in db.session.execute(
            sa.select(Certificate.id, Certificate.person_id, Certificate.course_type_id, Completion.completed_on,
                      Certificate.expires_on)
            .join(Completion, Completion.id == Certificate.completion_id)
            .where(Certificate.course_type_id.in_(list(refreshed_by)), Certificate.revoked_at.is_(None),
                   Certificate.refreshes_id.is_(None), within)
            .order_by(Completion.completed_on, Certificate.id)):
        candidates = [c for c in held.get(person_id, ()) if c[2] in refreshed_by[type_id] and c[0] <= completed_on]
        if not candidates:
            continue
        _, refreshed, _ = max(candidates)
        was = expiry[refreshed]
        links.append({"id": cert_id, "refreshes_id": refreshed, "refreshed_expiry_was": was})
        if expires_on is not None and (was is None or was < expires_on):
            expiry[refreshed] = renewed[refreshed] = expires_on
    if links:
        db.session.execute(sa.update(Certificate), links)
    if renewed:
        db.session.execute(sa.update(Certificate), [{"id": k, "expires_on": v} for k, v in renewed.items()])
    db.session.flush()
    return len(renewed)
