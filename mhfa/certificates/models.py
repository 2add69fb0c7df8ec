"""Certificates issued on completion, verifiable by a public code."""
from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mhfa.courses.models import CourseType
from mhfa.db_types import UTCDateTime
from mhfa.extensions import db
from mhfa.timeutil import utcnow

if TYPE_CHECKING:
    from mhfa.attendance.models import Completion
    from mhfa.people.models import Person

STATUS_LIST_MIN_BITS = 131_072  # the Bitstring Status List spec's minimum size (16 KB), for herd privacy


def status_list_size(certificates: int) -> int:
    """The bits a status list of this many certificates draws indexes from: a multiple of 131,072, at least
    twice the count, so a random pick is free more often than not and the list grows in whole blocks."""
    return -(-2 * (certificates + 1) // STATUS_LIST_MIN_BITS) * STATUS_LIST_MIN_BITS


def random_index(size: int) -> int:
    """A uniformly random index below ``size`` (a module function, so a test can make picks collide)."""
    return secrets.randbelow(size)


def unused_status_indexes(connection, count: int, taken_here: set[int] | frozenset[int] = frozenset()) -> list[int]:
    """``count`` random status-list indexes no certificate holds, none in ``taken_here`` (given to rows of the
    same insert) and no two alike, for ``count`` certificates about to be inserted (``connection``: a Session or
    Connection, in the inserting transaction, under ``mhfa.locks.lock_status_indexes``).

    Random rather than the sequential id, so an index reveals nothing about issue order (as the Bitstring
    Status List spec recommends). The highest id is read once, and the picks are checked against the table
    together, one query a round: a pick already taken is drawn again. The unique constraint refuses the rare
    pick a concurrent transaction took first.
    """
    if count <= 0:
        return []
    # The highest id bounds the number of certificates from above and is read from the primary key's index
    # (a count would read the whole table at every insert); a larger bound only means a larger list. Each
    # certificate is drawn from the list as it would be sized with those before it inserted.
    bound = connection.scalar(sa.text("SELECT coalesce(max(id), 0) FROM certificate")) + len(taken_here)
    sizes = [status_list_size(bound + n) for n in range(count)]
    picks = [0] * count
    drawn = set(taken_here)  # every pick so far, taken in the table or not: never drawn twice
    to_draw = list(range(count))
    while to_draw:
        for n in to_draw:
            while (index := random_index(sizes[n])) in drawn:
                pass
            picks[n] = index
            drawn.add(index)
        held = set(connection.scalars(sa.select(Certificate.status_index).where(
            Certificate.status_index.in_([picks[n] for n in to_draw]))))
        to_draw = [n for n in to_draw if picks[n] in held]
    return picks


def _unused_status_index(context) -> int:
    """A random status-list index no certificate holds (the column default, so every insert gets one; issuing
    gives a whole register's indexes at once, with :func:`unused_status_indexes`)."""
    taken_here = context.__dict__.setdefault("_mhfa_status_indexes", set())
    [index] = unused_status_indexes(context.connection, 1, taken_here)
    taken_here.add(index)
    return index


class Certificate(db.Model):
    __tablename__ = "certificate"

    __table_args__ = (
        # The revocation list reads only the revoked few of every certificate ever issued.
        sa.Index("ix_certificate_revoked", "revoked_at", postgresql_where=sa.text("revoked_at IS NOT NULL"),
                 sqlite_where=sa.text("revoked_at IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(30), unique=True)
    verification_token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    completion_id: Mapped[int] = mapped_column(sa.ForeignKey("completion.id"), index=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), index=True)
    course_type_id: Mapped[int] = mapped_column(sa.ForeignKey("course_type.id"))
    title: Mapped[str] = mapped_column(sa.String(120))
    issued_on: Mapped[date]
    expires_on: Mapped[date | None] = mapped_column(index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(sa.Text)
    # The certificate's bit in the revocation status list: random and unique, assigned at issue.
    status_index: Mapped[int] = mapped_column(unique=True, default=_unused_status_index)
    replaces_id: Mapped[int | None] = mapped_column(sa.ForeignKey("certificate.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Reissues (e.g. a name correction) keep the number and token and count up the revision.
    revision: Mapped[int] = mapped_column(default=1, server_default="1")
    # A refresher's certificate names the certificate it refreshed, and that certificate's expiry before.
    refreshes_id: Mapped[int | None] = mapped_column(sa.ForeignKey("certificate.id"), index=True)
    refreshed_expiry_was: Mapped[date | None]

    completion: Mapped[Completion] = relationship()
    person: Mapped[Person] = relationship()
    course_type: Mapped[CourseType] = relationship()
    refreshes: Mapped[Certificate | None] = relationship(remote_side="Certificate.id", foreign_keys=[refreshes_id])
    reissues: Mapped[list[CertificateReissue]] = relationship(
        back_populates="certificate", order_by="CertificateReissue.id", cascade="all, delete-orphan"
    )

    def is_valid_on(self, day: date) -> bool:
        return self.revoked_at is None and (self.expires_on is None or self.expires_on >= day)


def makes_a_first_aider(course_type_id=None):
    """A condition on a certificate's course type (``Certificate.course_type_id`` unless given, e.g. a table's
    column): not an awareness course, whose certificate of attendance makes no one a first aider."""
    column = Certificate.course_type_id if course_type_id is None else course_type_id
    return column.in_(sa.select(CourseType.id).where(CourseType.is_awareness.is_(False)))


class CertificateReissue(db.Model):
    """One reissue of a certificate (same number), with who did it, when and why."""

    __tablename__ = "certificate_reissue"

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(sa.ForeignKey("certificate.id"), index=True)
    revision: Mapped[int]
    reason: Mapped[str] = mapped_column(sa.Text)
    reissued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reissued_by_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))

    certificate: Mapped[Certificate] = relationship(back_populates="reissues")
