"""The board's view of employers: Workplace Wellbeing Commitment awards by level and by sector, the staff
each organisation has had trained, its current first aiders, and the share meeting the 5% ask.

An organisation's figures count only the training it arranged (its place vouchers and its closed courses,
as on its own page, :mod:`mhfa.employers.reports`): *staff trained* are the people who completed such a
course; *current first aiders* those of them whose certificate from it is not revoked and not expired
today (an awareness course's certificate of attendance is not counted). The 5% ask: current first aiders
at least 5% of headcount (rounded up); an organisation with no headcount recorded is not counted either way.
Only a verified award that has not expired gives a level. Every figure is one grouped query over all
approved organisations, not one query per organisation.
"""
from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from mhfa import names
from mhfa.attendance.models import Completion
from mhfa.bookings.models import Booking
from mhfa.certificates.models import Certificate, makes_a_first_aider
from mhfa.courses.models import Course
from mhfa.employers.awards import CommitmentLevel, WellbeingCommitment
from mhfa.employers.commitments import counting
from mhfa.employers.coverage import COVERAGE_ASK
from mhfa.employers.models import Employer, EmployerStatus, Order, PlaceVoucher, Sector
from mhfa.extensions import db
from mhfa.timeutil import london_today

NOT_COMMITTED = "none"


@dataclass
class EmployerRow:
    id: int
    name: str
    sector: Sector
    level: CommitmentLevel | None
    awarded_on: date | None
    expires_on: date | None
    headcount: int | None
    staff_trained: int
    first_aiders: int

    @property
    def target(self) -> int | None:
        """5% of headcount, rounded up (None: headcount not recorded)."""
        return math.ceil(self.headcount * COVERAGE_ASK) if self.headcount else None

    @property
    def meets_ask(self) -> bool | None:
        return None if self.target is None else self.first_aiders >= self.target


@dataclass
class GroupRow:
    key: str
    label: str
    employers: int = 0
    headcount: int = 0
    staff_trained: int = 0
    first_aiders: int = 0
    with_headcount: int = 0
    meeting_ask: int = 0

    @property
    def share_meeting_ask(self) -> float | None:
        return self.meeting_ask / self.with_headcount if self.with_headcount else None

    def add(self, row: EmployerRow) -> None:
        self.employers += 1
        self.headcount += row.headcount or 0
        self.staff_trained += row.staff_trained
        self.first_aiders += row.first_aiders
        if row.meets_ask is not None:
            self.with_headcount += 1
            self.meeting_ask += int(row.meets_ask)

    def as_json(self) -> dict:
        share = self.share_meeting_ask
        return {"key": self.key, "label": self.label, "employers": self.employers, "headcount": self.headcount,
                "staff_trained": self.staff_trained, "current_first_aiders": self.first_aiders,
                "employers_with_headcount": self.with_headcount, "meeting_ask": self.meeting_ask,
                "share_meeting_ask": None if share is None else round(share, 4)}


@dataclass
class Summary:
    as_of: date
    rows: list[EmployerRow]
    by_level: list[GroupRow]
    by_sector: list[GroupRow]
    total: GroupRow = field(default_factory=lambda: GroupRow("all", "All employers"))


def _arranged() -> sa.Subquery:
    """(employer, booking, person) for every booking an organisation arranged: with its voucher or on its
    closed course."""
    with_voucher = (sa.select(Order.employer_id.label("employer_id"), Booking.id.label("booking_id"))
                    .join(PlaceVoucher, PlaceVoucher.id == Booking.voucher_id)
                    .join(Order, Order.id == PlaceVoucher.order_id))
    closed = (sa.select(Course.employer_id.label("employer_id"), Booking.id.label("booking_id"))
              .join(Course, Course.id == Booking.course_id).where(Course.employer_id.is_not(None)))
    return sa.union(with_voucher, closed).subquery()


def _counts(today: date) -> tuple[dict[int, int], dict[int, int]]:
    arranged = _arranged()
    trained = dict(db.session.execute(
        sa.select(arranged.c.employer_id, sa.func.count(sa.distinct(Completion.person_id)))
        .join(Completion, Completion.booking_id == arranged.c.booking_id)
        .group_by(arranged.c.employer_id)).all())
    current = dict(db.session.execute(
        sa.select(arranged.c.employer_id, sa.func.count(sa.distinct(Certificate.person_id)))
        .join(Completion, Completion.booking_id == arranged.c.booking_id)
        .join(Certificate, Certificate.completion_id == Completion.id)
        .where(Certificate.revoked_at.is_(None), makes_a_first_aider(),
               sa.or_(Certificate.expires_on.is_(None), Certificate.expires_on >= today))
        .group_by(arranged.c.employer_id)).all())
    return {int(k): int(v) for k, v in trained.items()}, {int(k): int(v) for k, v in current.items()}


def employer_rows(today: date | None = None) -> list[EmployerRow]:
    """Every approved organisation with its counting award (if any) and its figures, by name."""
    today = today or london_today()
    trained, current = _counts(today)
    award = (sa.select(WellbeingCommitment).where(counting(today)).subquery())
    result = db.session.execute(
        sa.select(Employer.id, Employer.name, Employer.sector, Employer.headcount, award.c.level,
                  award.c.awarded_on, award.c.expires_on)
        .outerjoin(award, award.c.employer_id == Employer.id)
        .where(Employer.status == EmployerStatus.APPROVED).order_by(Employer.name, Employer.id)).all()
    return [EmployerRow(ident, name, sector, CommitmentLevel(level) if isinstance(level, str) else level,
                        awarded, expires, headcount, trained.get(ident, 0), current.get(ident, 0))
            for ident, name, sector, headcount, level, awarded, expires in result]


def summary(today: date | None = None) -> Summary:
    today = today or london_today()
    rows = employer_rows(today)
    levels = {level: GroupRow(level.value, level.label) for level in reversed(CommitmentLevel)}
    none = GroupRow(NOT_COMMITTED, "No current award")
    sectors = {sector: GroupRow(sector.value, sector.label) for sector in Sector}
    total = GroupRow("all", "All employers")
    for row in rows:
        (levels[row.level] if row.level is not None else none).add(row)
        sectors[row.sector].add(row)
        total.add(row)
    return Summary(today, rows, [*levels.values(), none], list(sectors.values()), total)


def as_json(found: Summary) -> dict:
    return {"as_of": found.as_of.isoformat(), "ask_share": COVERAGE_ASK,
            "total": found.total.as_json(),
            "by_level": [g.as_json() for g in found.by_level],
            "by_sector": [g.as_json() for g in found.by_sector]}


# --- downloads -------------------------------------------------------------------------------------

EMPLOYER_HEADER = ["Organisation", "Sector", "Award level", "Awarded on", "Expires on", "Headcount",
                   "Staff trained", "Current first aiders", "5% ask (people)", "Meets the 5% ask"]
GROUP_HEADER = ["Group", "Employers", "Headcount", "Staff trained", "Current first aiders",
                "Employers with a headcount", "Meeting the 5% ask", "Share meeting the 5% ask"]


def _employer_cells(row: EmployerRow) -> list:
    meets = {None: "Headcount not recorded", True: "Yes", False: "No"}[row.meets_ask]
    return [names.spreadsheet_text(row.name), row.sector.label, row.level.label if row.level else "No current award",
            row.awarded_on.isoformat() if row.awarded_on else "", row.expires_on.isoformat() if row.expires_on else "",
            row.headcount if row.headcount is not None else "", row.staff_trained, row.first_aiders,
            row.target if row.target is not None else "", meets]


def _group_cells(group: GroupRow) -> list:
    share = group.share_meeting_ask
    return [group.label, group.employers, group.headcount, group.staff_trained, group.first_aiders,
            group.with_headcount, group.meeting_ask, share]


def _csv_cells(cells: list) -> list:
    """A row as the CSV writes it: a share as a percentage, a missing share as an empty cell."""
    return ["" if value is None else f"{value:.1%}" if isinstance(value, float) else value for value in cells]


def summary_csv(found: Summary) -> str:
    """One row per approved organisation, then the totals by level and by sector; with a byte-order mark."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([f"Employers and the 5% ask, as of {found.as_of.isoformat()}"])
    writer.writerow(EMPLOYER_HEADER)
    writer.writerows(_csv_cells(_employer_cells(row)) for row in found.rows)
    for title, groups in (("By award level", found.by_level), ("By sector", found.by_sector)):
        writer.writerow([])
        writer.writerow([title])
        writer.writerow(GROUP_HEADER)
        writer.writerows(_csv_cells(_group_cells(g)) for g in [*groups, found.total])
    return out.getvalue()


def summary_xlsx(found: Summary) -> bytes:
    """Sheets by level, by sector and per employer; no cell is ever a formula or a link."""
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                     "strings_to_numbers": False})
    bold = book.add_format({"bold": True})
    percent = book.add_format({"num_format": "0.0%"})
    sheets = (("By level", GROUP_HEADER, [_group_cells(g) for g in [*found.by_level, found.total]]),
              ("By sector", GROUP_HEADER, [_group_cells(g) for g in [*found.by_sector, found.total]]),
              ("Employers", EMPLOYER_HEADER, [_employer_cells(r) for r in found.rows]))
    for title, header, rows in sheets:
        sheet = book.add_worksheet(title)
        sheet.write_row(0, 0, header, bold)
        for i, row in enumerate(rows, start=1):
            for j, value in enumerate(row):
                if value is None:
                    sheet.write_blank(i, j, None)
                elif isinstance(value, float):
                    sheet.write_number(i, j, value, percent)
                elif isinstance(value, int):
                    sheet.write_number(i, j, value)
                else:
                    sheet.write_string(i, j, str(value))
        sheet.set_column(0, 0, 36)
        sheet.set_column(1, len(header) - 1, 16)
    book.close()
    return out.getvalue()
