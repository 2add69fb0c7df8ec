"""The forecast's pages: how it is made, in plain words, with the latest run's figures."""
from __future__ import annotations

from flask import Blueprint, render_template

from mhfa.auth.access import role_required
from mhfa.auth.models import Role
from mhfa.forecast.services import latest_run

bp = Blueprint("forecast", __name__, url_prefix="/forecast")


@bp.route("/method")
@role_required(Role.BOARD, Role.COORDINATOR)
def method():
    """How this forecast is made: the model, its backtest scores and what the intervals mean."""
    run = latest_run()
    return render_template("forecast/method.html", run=run, summary=(run.summary if run else {}))
