"""The programme's settings and the kept reach figures.

Kept figures (see ``keeping.py`` for the rules that maintain them):

- ``reach_first``: one row per person and variant (with or without awareness courses) for every
  person reached: the date, course type and the areas, sector and equality answers that the
  figures attribute them to.
- ``reach_month``: people reached per month, basis (home, work, delivery), area and course type.
- ``reach_group_month``: people reached per month, course type and group (employer sector, the
  equality answers and the funding stream), per basis and split by whether they count toward the
  target (``counted``), for the tables that are not split by area.
- ``reach_group_area_month``: the same per area, on each basis, for the tables of one chosen area.
- ``reach_spend_month``: spend per funding stream, month and course type, from orders and from the
  delivery costs recorded on courses (the rule is in ``keeping.py``).

They are never edited by hand: the same transaction that changes a completion, certificate or
person updates them, and ``flask mhfa rebuild-reach`` recomputes them from scratch.
"""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from mhfa.db_types import UTCDateTime
from mhfa.extensions import db
from mhfa.timeutil import utcnow

UNKNOWN_AREA = 0  # area key of people whose area is not known ("Unknown", never dropped)
BASES = ("home", "work", "delivery")
PERSON_DIMENSIONS = ("sector", "age_band", "sex", "ethnic_group", "disability")  # from the person's record
GROUP_DIMENSIONS = (*PERSON_DIMENSIONS, "funding_stream")  # funding_stream: of the completion that reached them


class ProgrammeSettings(db.Model):
    """The programme's target: how many people, from when to when (one row).

    The target region is the set of council areas flagged ``in_target_region``.
    """

    __tablename__ = "programme_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    target_people: Mapped[int]
    start_on: Mapped[date]
    end_on: Mapped[date]
    # Said on the dashboard when the target is not the real one (the demo scales it to its size).
    note: Mapped[str] = mapped_column(sa.Text, default="")
    # How employers pay their invoices (printed on every invoice); empty until the programme team sets them.
    bank_account_name: Mapped[str] = mapped_column(sa.String(120), default="", server_default="")
    bank_sort_code: Mapped[str] = mapped_column(sa.String(8), default="", server_default="")
    bank_account_number: Mapped[str] = mapped_column(sa.String(8), default="", server_default="")
    #: Days from an invoice's date to when it is due (none: the MHFA_INVOICE_DUE_DAYS setting).
    payment_terms_days: Mapped[int | None]
    #: A seat freed this many days or fewer before a course is offered to the first person waiting for a limited
    #: time (``offer_hours``) instead of given at once (``mhfa.bookings.offers``).
    offer_window_days: Mapped[int] = mapped_column(default=7, server_default="7")
    offer_hours: Mapped[int] = mapped_column(default=24, server_default="24")
    #: An employer's place whose holder did not come and had not cancelled before the cut-off: spent (True,
    #: the default) or given back to the employer (False).
    no_show_spends_place: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ReachFirst(db.Model):
    """A person's first counting completion, for one variant (awareness courses counted or not)."""

    __tablename__ = "reach_first"
    __table_args__ = (sa.Index("ix_reach_first_month", "include_awareness", "month"),)

    person_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    include_awareness: Mapped[bool] = mapped_column(primary_key=True)
    completion_id: Mapped[int]
    reached_on: Mapped[date]
    month: Mapped[int]  # yyyymm
    course_type_id: Mapped[int]
    home_area: Mapped[int]  # council_area.id, or UNKNOWN_AREA
    work_area: Mapped[int]
    delivery_area: Mapped[int]
    sector: Mapped[str] = mapped_column(sa.String(30))  # "" = unknown
    age_band: Mapped[str] = mapped_column(sa.String(30))
    sex: Mapped[str] = mapped_column(sa.String(30))
    ethnic_group: Mapped[str] = mapped_column(sa.String(30))
    disability: Mapped[str] = mapped_column(sa.String(30))
    # The stream of the completion that reached them: its employer order's, else its course's ("" = not recorded).
    funding_stream: Mapped[str] = mapped_column(sa.String(30), default="", server_default="")


class ReachMonth(db.Model):
    """People first reached in a month, attributed to an area on a basis, by course type."""

    __tablename__ = "reach_month"
    # The headline's months by area are read from this index alone on PostgreSQL, in the order of the groups.
    __table_args__ = (sa.Index("ix_reach_month_area", "include_awareness", "basis", "month", "area",
                               postgresql_include=["course_type_id", "people"]),)

    include_awareness: Mapped[bool] = mapped_column(primary_key=True)
    basis: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    month: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    area: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    course_type_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    people: Mapped[int]


class ReachGroupMonth(db.Model):
    """People first reached in a month, by course type and group (sector or an equality answer), on a basis,
    split by whether they are counted toward the target there (in the target region or area not known)."""

    __tablename__ = "reach_group_month"
    # The breakdown tables' sums are read from this index alone on PostgreSQL, in the order of the groups.
    __table_args__ = (sa.Index("ix_reach_group_month_people", "include_awareness", "basis", "counted", "dimension",
                               "value", "month", "course_type_id", postgresql_include=["people"]),)

    include_awareness: Mapped[bool] = mapped_column(primary_key=True)
    basis: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    counted: Mapped[bool] = mapped_column(primary_key=True)
    dimension: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    value: Mapped[str] = mapped_column(sa.String(30), primary_key=True)
    month: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    course_type_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    people: Mapped[int]


class ReachGroupAreaMonth(db.Model):
    """People first reached in a month, by course type and group, attributed to an area on a basis: the breakdown
    tables of one area read a few of these rows (whether the area counts toward the target is the area's)."""

    __tablename__ = "reach_group_area_month"
    # An area's tables read its rows from this index alone on PostgreSQL (the rows of one area lie together).
    __table_args__ = (sa.Index("ix_reach_group_area_month_area", "include_awareness", "basis", "area", "month",
                               postgresql_include=["course_type_id", "dimension", "value", "people"]),)

    include_awareness: Mapped[bool] = mapped_column(primary_key=True)
    basis: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    area: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    dimension: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    value: Mapped[str] = mapped_column(sa.String(30), primary_key=True)
    month: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    course_type_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    people: Mapped[int]


class ReachSpendMonth(db.Model):
    """Spend per funding stream, month and course type, by source (invoiced orders, recorded course costs).

    ``spend_pence`` adds up what is known; ``uncosted`` counts the courses that should carry a recorded
    delivery cost and do not, so a total with gaps is never shown as complete.
    """

    __tablename__ = "reach_spend_month"

    funding_stream: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    month: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    course_type_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    spend_pence: Mapped[int] = mapped_column(sa.BigInteger)
    items: Mapped[int]  # orders or courses whose money is counted
    uncosted: Mapped[int]  # courses with no delivery cost recorded


class ReachRelease(db.Model):
    """A monthly release of the public progress figures, frozen at the month's end and kept.

    A later change to the figures of a month already released (a late import, a revoked certificate)
    is published as a new revision of that month, never by changing a release: ``2026-11`` stays what
    it was, ``2026-11-r2`` is the correction.
    """

    __tablename__ = "reach_release"
    __table_args__ = (sa.UniqueConstraint("month", "revision", name="uq_reach_release_month_revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[int]  # yyyymm
    revision: Mapped[int] = mapped_column(default=1)
    as_of: Mapped[date]  # the month's last day
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    data: Mapped[dict] = mapped_column(sa.JSON)  # the tables as published: {"tables": {name: {"columns", "rows"}}}

    @property
    def key(self) -> str:
        """How the release is named and addressed: ``2026-11``, a correction ``2026-11-r2``."""
        label = f"{self.month // 100:04d}-{self.month % 100:02d}"
        return label if self.revision == 1 else f"{label}-r{self.revision}"
