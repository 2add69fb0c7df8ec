"""The forecast's pages: how it is made, in plain words, with the latest run's figures and a what-if."""
from __future__ import annotations

from flask import Blueprint, render_template, request

from mhfa.auth.access import role_required
from mhfa.auth.models import Role
from mhfa.errors import DomainError, show_on_form
from mhfa.forecast.forms import WhatIfForm
from mhfa.forecast.services import latest_run, what_if_for_run

bp = Blueprint("forecast", __name__, url_prefix="/forecast")


@bp.route("/method")
@role_required(Role.BOARD, Role.COORDINATOR)
def method():
    """How this forecast is made: the model, its backtest scores and what the intervals mean; what-ifs."""
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
    return render_template("forecast/method.html", run=run, summary=(run.summary if run else {}), form=form,
                           answer=answer), status
