"""How far an organisation's staff are covered: those with a current certificate as a share of its
headcount, against the action plan's ask, and whose certificates run out within six months."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from mhfa.certificates.models import Certificate
from mhfa.employers.models import Employer
from mhfa.employers.reports import arranged_certificate, known_names, runs_to, staff_ids, staff_query
from mhfa.extensions import db
from mhfa.timeutil import london_today

#: The large employers' ask in the action plan: train up to 5% of staff in MHFA.
COVERAGE_ASK = 0.05


@dataclass
class Coverage:
    headcount: int | None
    certified: int
    share: float | None
    ask: float
    needed_for_ask: int | None
    expiring: list[Certificate]
    #: The names the organisation knows the holders of expiring certificates by (person id to name).
    names: dict[int, str] = field(default_factory=dict)

    def name_of(self, certificate: Certificate) -> str:
        return self.names.get(certificate.person_id) or certificate.person.full_name


def coverage(employer: Employer, today: date | None = None) -> Coverage:
    """Staff with a current certificate as a share of headcount, against the 5% ask; expiring in six months."""
    today = today or london_today()
    ids = staff_ids(employer).subquery()
    current = sa.and_(Certificate.person_id.in_(sa.select(ids.c.person_id)), Certificate.revoked_at.is_(None),
                      arranged_certificate(employer),
                      sa.or_(Certificate.expires_on.is_(None), Certificate.expires_on >= today))
    certified = db.session.scalar(sa.select(sa.func.count(sa.distinct(Certificate.person_id))).where(current)) or 0
    # People, not certificates: someone whose refresher renewed their certificate is not expiring.
    people = list(db.session.scalars(staff_query(employer, show="expiring", sort="expiry", today=today)))
    longest = {}
    for cert in db.session.scalars(sa.select(Certificate).where(
            current, Certificate.person_id.in_([p.id for p in people] or [0])).order_by(Certificate.id)):
        if cert.person_id not in longest or runs_to(cert) >= runs_to(longest[cert.person_id]):
            longest[cert.person_id] = cert
    expiring = [longest[p.id] for p in people if p.id in longest]
    headcount = employer.headcount
    share = certified / headcount if headcount else None
    needed = max(0, math.ceil(headcount * COVERAGE_ASK) - certified) if headcount else None
    return Coverage(headcount, certified, share, COVERAGE_ASK, needed, expiring,
                    known_names(employer, [c.person_id for c in expiring]))


def staff_certified(employer: Employer) -> int:
    return coverage(employer).certified
