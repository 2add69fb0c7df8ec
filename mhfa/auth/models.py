"""User accounts and their roles."""
from __future__ import annotations

import enum
import hashlib
import hmac
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from mhfa.db_types import UTCDateTime, str_enum
from mhfa.extensions import db
from mhfa.people.models import Person
from mhfa.timeutil import utcnow


class Role(enum.Enum):
    TRAINEE = "trainee"
    EMPLOYER = "employer"
    INSTRUCTOR = "instructor"
    COORDINATOR = "coordinator"
    BOARD = "board"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return {
            Role.TRAINEE: "Trainee",
            Role.EMPLOYER: "Employer contact",
            Role.INSTRUCTOR: "Instructor",
            Role.COORDINATOR: "Coordinator",
            Role.BOARD: "Programme board",
            Role.ADMIN: "Administrator",
        }[self]


class UserRole(db.Model):
    __tablename__ = "user_role"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[Role] = mapped_column(str_enum(Role), primary_key=True)


class User(UserMixin, db.Model):
    """A login. Linked to the person it belongs to; holds one or more roles."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    person_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    api_token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    person: Mapped[Person | None] = relationship()
    role_rows: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    @property
    def roles(self) -> set[Role]:
        return {row.role for row in self.role_rows}

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))

    def grant(self, role: Role) -> None:
        if role not in self.roles:
            self.role_rows.append(UserRole(role=role))

    def revoke(self, role: Role) -> None:
        self.role_rows = [row for row in self.role_rows if row.role != role]

    def get_id(self) -> str:
        """The session's user id, bound to the current password: changing it signs out every other session."""
        return f"{self.id}:{self.password_fingerprint()}"

    def password_fingerprint(self) -> str:
        from flask import current_app

        key = current_app.config["SECRET_KEY"].encode()
        return hmac.new(key, self.password_hash.encode(), hashlib.sha256).hexdigest()[:20]

    def set_password(self, password: str) -> None:
        from flask import current_app

        self.password_hash = generate_password_hash(password, method=current_app.config["MHFA_PASSWORD_HASH_METHOD"])

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def display_name(self) -> str:
        return self.person.full_name if self.person else self.email

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class UserSession(db.Model):
    """One signed-in browser session, kept server-side so it can be ended wherever its cookie went.

    The cookie carries a random token; only its SHA-256 is stored. Signing out ends the row, so a copy
    of the cookie stops working too; ended rows are never revived (reactivating an account included).
    """

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_reason: Mapped[str | None] = mapped_column(sa.String(40))
    user_agent: Mapped[str | None] = mapped_column(sa.String(200))
