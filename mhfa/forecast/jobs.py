"""Forecast runs started from the forecast page: a job row, the run in a background thread, its progress.

The page's POST only records a ``ForecastJob`` (queued) and, once that is committed, starts a thread
that runs the forecast in its own app context and database session, writing its progress to the
job row as it goes (each step committed, so the page, polling, sees it from any worker). The request
returns at once; other requests are never held up by the run. One run at a time: asking again
while one is queued or running shows that one. A running job whose heartbeat has not moved for
``STALE_AFTER`` (the process stopped, say a restart) counts as failed, so a new run can start.
"""
from __future__ import annotations

import logging
import threading
from datetime import timedelta

import sqlalchemy as sa
from flask import Flask

from mhfa.errors import DomainError
from mhfa.extensions import db
from mhfa.forecast.models import ForecastJob, JobState
from mhfa.forecast.runs import store_run
from mhfa.forecast.services import Options, forecast_from_database
from mhfa.timeutil import utcnow

STALE_AFTER = timedelta(minutes=10)

#: Threads started by this process, newest last (tests join them; nothing else reads this).
started: list[threading.Thread] = []


def latest_job() -> ForecastJob | None:
    job = db.session.scalar(sa.select(ForecastJob).order_by(ForecastJob.id.desc()).limit(1))
    if job is not None and job.is_open and _stale(job):
        job.fail("The run stopped without finishing (the server may have restarted). Run it again.")
        db.session.flush()
    return job


def _stale(job: ForecastJob) -> bool:
    last = job.heartbeat_at or job.created_at
    return last is not None and utcnow() - last > STALE_AFTER


def request_run(*, by=None) -> ForecastJob:
    """A queued job for a new forecast run, or the one already queued or running (flush only)."""
    job = latest_job()
    if job is not None and job.is_open:
        return job
    job = ForecastJob(requested_by_id=getattr(by, "id", None))
    db.session.add(job)
    db.session.flush()
    return job


def run_job(job_id: int, options: Options = Options()) -> ForecastJob:
    """Run a queued job to the end in the current app context, committing its progress as it goes."""
    # Claim it in one statement: of two threads (or workers) handed the same job, one runs it.
    claimed = db.session.execute(
        sa.update(ForecastJob).where(ForecastJob.id == job_id, ForecastJob.state == JobState.QUEUED)
        .values(state=JobState.RUNNING)
    ).rowcount
    db.session.commit()
    job = db.session.get(ForecastJob, job_id)
    if not claimed:
        return job
    job.start()
    db.session.commit()

    def progress(percent: int, step: str) -> None:
        job.advance(percent, step)
        db.session.commit()

    try:
        forecast = forecast_from_database(options, progress=progress)
        run = store_run(forecast)
        job.finish(run.id)
        db.session.commit()
    except Exception as error:  # noqa: BLE001 (any failure must end the job, with a message the page shows)
        db.session.rollback()
        job = db.session.get(ForecastJob, job_id)
        job.fail(error.message if isinstance(error, DomainError) else
                 f"The forecast failed: {type(error).__name__}. The log has the details.")
        db.session.commit()
        if not isinstance(error, DomainError):
            logging.getLogger(__name__).exception("forecast job %s failed", job_id)
    return job


def start_in_background(app: Flask, job: ForecastJob) -> threading.Thread | None:
    """Start the job's run in a daemon thread (after the request committed the job); None when it is not queued."""
    if job.state != JobState.QUEUED:
        return None
    options = app.config.get("MHFA_FORECAST_OPTIONS") or Options()

    def work(job_id=job.id):
        with app.app_context():
            try:
                run_job(job_id, options)
            finally:
                db.session.remove()

    thread = threading.Thread(target=work, name=f"forecast-job-{job.id}", daemon=True)
    started.append(thread)
    thread.start()
    return thread
