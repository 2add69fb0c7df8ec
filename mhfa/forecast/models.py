"""Stored forecast runs, so the board sees the latest and how it was made."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from mhfa.db_types import UTCDateTime
from mhfa.extensions import db
from mhfa.timeutil import utcnow


class ForecastRun(db.Model):
    __tablename__ = "forecast_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    data_through: Mapped[date]
    target_people: Mapped[int]
    target_date: Mapped[date]
    method: Mapped[str] = mapped_column(sa.String(80))
    projected_at_target_date: Mapped[int]
    lower_80: Mapped[int | None]
    upper_80: Mapped[int | None]
    probability_of_target: Mapped[float | None]
    parameters: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    summary: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
