"""The forecast page: the latest run's figures and how they were made, a what-if, and a button to run it again."""
from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_login import current_user

from mhfa import flow
from mhfa.auth.access import role_required
from mhfa.auth.models import Role
from mhfa.errors import DomainError, show_on_form
from mhfa.forecast import jobs
from mhfa.forecast.forms import RunForecastForm, WhatIfForm
from mhfa.forecast.runs import latest_run
from mhfa.forecast.services import chance_status, settings_changed_since, what_if_for_run

bp = Blueprint("forecast", __name__, url_prefix="/forecast")

#: Seconds between the page's refreshes while a run goes on.
REFRESH_SECONDS = 3


@bp.route("/method")
@role_required(Role.BOARD, Role.COORDINATOR)
def method():
    """The latest forecast, how it is made, its backtest and calibration; what-ifs; a run in progress."""
    run = latest_run()
    asked = "extra_per_month" in request.args
    form = WhatIfForm(formdata=request.args if asked else None)
    answer = None
    status = 200
    if run is not None and asked:
        if form.validate():
            try:
                answer = what_if_for_run(run, extra_per_month=form.extra_per_month.data,
                                         from_month=form.from_month.data)
            except DomainError as error:
                show_on_form(form, error)
                status = 422
        else:
            status = 422
    job = jobs.latest_job()
    summary = run.summary if run else {}
    return render_template(
        "forecast/method.html", run=run, summary=summary, form=form, answer=answer, job=job,
        run_form=RunForecastForm(), changed=settings_changed_since(run) if run else [],
        chance=chance_status(summary.get("probability_of_target")) if run else None,
        answer_chance=chance_status(answer["probability_of_target"]) if answer else None,
        refresh=REFRESH_SECONDS if job is not None and job.is_open else None,
    ), status


@bp.route("/run", methods=["POST"])
@role_required(Role.BOARD, Role.COORDINATOR)
def run_forecast():
    """Start a forecast run in the background (or show the one already going) and go back to the page."""
    form = RunForecastForm()
    if not form.validate_on_submit():
        flow.say("The request to run the forecast had expired: press the button again.", "error")
        return redirect(url_for(".method"))
    outcome = flow.attempt(jobs.request_run, by=current_user)
    jobs.start_in_background(current_app._get_current_object(), outcome.value)
    outcome.done("The forecast is running. This page shows how far it has got.")
    return redirect(url_for(".method", _anchor="run"))
