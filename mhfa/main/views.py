"""The home page that leads each role to its work, and the health check."""
from flask import Blueprint, current_app, render_template
from flask_login import current_user

from mhfa.auth.access import public
from mhfa.auth.models import Role
from mhfa.employers import claims
from mhfa.employers.forms import ConfirmForm
from mhfa.extensions import rate_limit_storage_state
from mhfa.main import services
from mhfa.reach.dashboard import home_summary

bp = Blueprint("main", __name__)


@bp.route("/")
@public
def home():
    """Start page for visitors; for a signed-in user, a panel for each of their roles."""
    panels, offers = {}, []
    if current_user.is_authenticated:
        offers = claims.offers_for(current_user)
        roles = current_user.roles
        if Role.TRAINEE in roles:
            panels["trainee"] = services.trainee_summary(current_user)
        if Role.INSTRUCTOR in roles:
            panels["instructor"] = services.instructor_summary(current_user)
        if Role.EMPLOYER in roles:
            panels["employer"] = services.employer_summary(current_user)
        if Role.COORDINATOR in roles:
            panels["coordinator"] = services.coordinator_summary()
        if Role.BOARD in roles:
            panels["board"] = home_summary()
        if Role.ADMIN in roles:
            panels["admin"] = services.admin_summary()
    return render_template("main/home.html", panels=panels, offers=offers, offer_form=ConfirmForm())


@bp.route("/accessibility")
@public
def accessibility():
    """The accessibility statement, as UK public-sector websites publish one."""
    return render_template("main/accessibility.html", contact=current_app.config["MHFA_CONTACT_EMAIL"])


@bp.route("/healthz")
@public
def healthz():
    """200 when the app and its database answer, 503 otherwise."""

    limits = rate_limit_storage_state()
    if services.database_answers():
        return {"status": "degraded" if "unreachable" in limits else "ok", "database": "ok",
                "rate_limits": limits}, 200
    return {"status": "error", "database": "unavailable", "rate_limits": limits}, 503
