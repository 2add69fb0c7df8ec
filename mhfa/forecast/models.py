"""Stored forecast runs, so the board sees the latest and how it was made; and the jobs that make them."""
from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from mhfa.db_types import UTCDateTime, str_enum
from mhfa.extensions import db
from mhfa.timeutil import utcnow


class ForecastRun(db.Model):
    __tablename__ = "forecast_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    data_through: Mapped[date]
    target_people: Mapped[int]
    target_date: Mapped[date]
    #: The programme's start date the run measured from (with ``target_people`` and ``target_date``:
    #: the settings it used). None on runs stored before it was recorded.
    target_start: Mapped[date | None]
    #: Everything else about the programme's settings the run depended on (region, counting course types),
    #: so the page can say when the settings have changed since (see ``services.settings_fingerprint``).
    settings: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    method: Mapped[str] = mapped_column(sa.String(80))
    projected_at_target_date: Mapped[int]
    lower_80: Mapped[int | None]
    upper_80: Mapped[int | None]
    probability_of_target: Mapped[float | None]
    parameters: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    summary: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ForecastJob(db.Model):
    """One request to run the forecast from the page: its state and progress, read by the page as it polls.

    Its states move only through the methods below (``mhfa/forecast/jobs.py`` calls them).
    """

    __tablename__ = "forecast_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    state: Mapped[JobState] = mapped_column(str_enum(JobState), default=JobState.QUEUED)
    progress: Mapped[int] = mapped_column(default=0)       # per cent
    step: Mapped[str] = mapped_column(sa.String(200), default="Waiting to start")
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Written with every progress step: a running job whose heartbeat stopped long ago has died.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(sa.Text)
    run_id: Mapped[int | None] = mapped_column(sa.ForeignKey("forecast_run.id", ondelete="SET NULL"))

    @property
    def is_open(self) -> bool:
        return self.state in (JobState.QUEUED, JobState.RUNNING)

    def start(self) -> None:
        self.state, self.started_at = JobState.RUNNING, utcnow()
        self.heartbeat_at = self.started_at
        self.step, self.progress = "Reading the monthly figures", 1

    def advance(self, progress: int, step: str) -> None:
        self.progress, self.step, self.heartbeat_at = max(self.progress, min(int(progress), 99)), step[:200], utcnow()

    def finish(self, run_id: int) -> None:
        self.state, self.run_id, self.progress, self.step = JobState.DONE, run_id, 100, "Finished"
        self.finished_at = self.heartbeat_at = utcnow()

    def fail(self, message: str) -> None:
        self.state, self.error, self.step = JobState.FAILED, message[:2000], "Stopped"
        self.finished_at = utcnow()
