"""Stored forecast runs: a forecast kept as a ``ForecastRun`` (what it used, what it found), and the
latest one, which the dashboard, the API, the method page and the board pack read."""
from __future__ import annotations

import sqlalchemy as sa

from mhfa.extensions import db
from mhfa.forecast.models import ForecastRun
from mhfa.forecast.services import Forecast, settings_fingerprint


def store_run(forecast: Forecast):
    """Keep the forecast as a ``ForecastRun`` (the dashboard, the API and the method page read the latest)."""

    summary = forecast.summary
    programme = forecast.programme
    used = {"target_people": programme.target_people, "start": programme.start.isoformat(),
            "end": programme.end.isoformat()}
    if forecast.series.source == "database":
        now = settings_fingerprint()
        used.update(region=now["region"], counting=now["counting"])
    run = ForecastRun(
        data_through=forecast.series.last_month.end_time.date(),
        target_people=programme.target_people,
        target_date=programme.end,
        target_start=programme.start,
        settings=used,
        method=summary["model"]["name"],
        projected_at_target_date=summary["at_deadline"]["median"],
        lower_80=summary["at_deadline"]["lower_80"],
        upper_80=summary["at_deadline"]["upper_80"],
        probability_of_target=summary["probability_of_target"],
        parameters={"seed": forecast.options.seed, "paths": forecast.options.paths,
                    "model": summary["model"]["parameters"]},
        summary=summary,
    )
    db.session.add(run)
    db.session.flush()
    return run


def latest_run():
    """The newest stored forecast run, or None."""
    return db.session.scalar(sa.select(ForecastRun).order_by(ForecastRun.created_at.desc(), ForecastRun.id.desc())
                             .limit(1))
