"""MHFA Reach: running a regional Mental Health First Aid training programme."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, render_template, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

from mhfa import config as settings
from mhfa import flow, money
from mhfa.extensions import csrf, db, limiter, login_manager, migrate, refuse_per_process_limits
from mhfa.security.files import private_folder, private_sqlite
from mhfa.security.logs import install_werkzeug_filter

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    """Build the application; ``config`` overrides settings read from the environment."""
    instance_path = (config or {}).get("INSTANCE_PATH") or os.environ.get("MHFA_INSTANCE_PATH") or ROOT / "instance"
    app = Flask(
        __name__,
        instance_path=str(Path(instance_path).resolve()),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    private_folder(app.instance_path)  # the database, keys, outbox and backups: the owner's alone
    app.config.from_mapping(settings.from_environment(app.instance_path))
    if config:
        app.config.from_mapping(config)
    install_werkzeug_filter()  # the development server's request log masks private links and searches

    register_extensions(app)
    from mhfa.security.input import register_input_guards

    register_input_guards(app)  # before the blueprints: their <int:…> routes use its bounded converter
    register_blueprints(app)
    register_listeners(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_commands(app)
    register_security_headers(app)
    return app


# The one inline script (GOV.UK Frontend's js-enabled class in base.html), allowed by its hash.
_INLINE_SCRIPT_HASH = "sha256-GUQ5ad8JK5KmEWmROf3LZd9ge94daqNvd8xy9YS1iDw="
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self' '" + _INLINE_SCRIPT_HASH + "'; style-src 'self'; "
        "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # Links carry private tokens (calendar feeds, confirmation and reset links): never send them on.
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def register_security_headers(app: Flask) -> None:
    @app.after_request
    def add_security_headers(response):
        for header, value in SECURITY_HEADERS.items():
            response.headers.setdefault(header, value)
        if app.config["SESSION_COOKIE_SECURE"]:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response


def register_extensions(app: Flask) -> None:
    import mhfa.models  # noqa: F401  (every table on the metadata)
    from mhfa.security.faults import with_postgres_timeouts

    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = with_postgres_timeouts(app.config)
    from sqlalchemy.engine import make_url

    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        private_sqlite(url.database, app.instance_path)
    db.init_app(app)
    from mhfa.db_types import render_item

    migrate.init_app(
        app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True, render_item=render_item
    )
    csrf.init_app(app)
    refuse_per_process_limits(app.config)
    limiter.init_app(app)
    if app.config["MHFA_TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["MHFA_TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Sign in to see that page."
    login_manager.login_message_category = "info"

    from mhfa.auth.sessions import load_signed_in_user
    from mhfa.auth.sessions import register as register_sessions

    login_manager.user_loader(load_signed_in_user)
    register_sessions(app)

    from mhfa.outcomes.keeping import register as keep_outcome_figures
    from mhfa.reach.upkeep import register as keep_reach_figures

    keep_reach_figures(app)
    keep_outcome_figures()

    @login_manager.unauthorized_handler
    def unauthorized():
        from flask import flash, redirect, url_for

        if request.path.startswith("/api/"):
            return {"error": "Authentication required: send a personal API token as 'Authorization: Bearer …'"}, 401
        flash(login_manager.login_message, login_manager.login_message_category)
        return redirect(url_for(login_manager.login_view, next=request.full_path.rstrip("?")))


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """SQLite enforces foreign keys and waits for a busy writer instead of failing."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()


def register_blueprints(app: Flask) -> None:
    from mhfa.admin.views import bp as admin_bp
    from mhfa.api import create_blueprint as create_api_blueprint
    from mhfa.attendance.views import bp as attendance_bp
    from mhfa.auth.access import undeclared_endpoints
    from mhfa.auth.views import bp as auth_bp
    from mhfa.bookings import api as bookings_api
    from mhfa.bookings.views import bp as bookings_bp
    from mhfa.certificates.views import bp as certificates_bp
    from mhfa.courses import api as courses_api
    from mhfa.courses.calendar_views import bp as calendars_bp
    from mhfa.courses.views import bp as courses_bp
    from mhfa.employers import api as employers_api
    from mhfa.employers.commitment_pages import bp as commitments_bp
    from mhfa.employers.manage import bp as employers_manage_bp
    from mhfa.employers.place_views import bp as places_bp
    from mhfa.employers.views import bp as employers_bp
    from mhfa.forecast import api as forecast_api
    from mhfa.forecast.views import bp as forecast_bp
    from mhfa.main.views import bp as main_bp
    from mhfa.outcomes import api as outcomes_api
    from mhfa.people.views import bp as people_bp
    from mhfa.reach import api as reach_api
    from mhfa.reach.views import bp as reach_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(people_bp)
    app.register_blueprint(courses_bp)
    app.register_blueprint(calendars_bp)
    app.register_blueprint(bookings_bp)
    app.register_blueprint(attendance_bp)
    app.register_blueprint(certificates_bp)
    app.register_blueprint(employers_bp)
    app.register_blueprint(employers_manage_bp)
    app.register_blueprint(places_bp)
    app.register_blueprint(commitments_bp)
    api_bp = create_api_blueprint()  # each area adds its JSON routes and OpenAPI paths, explicitly
    courses_api.register(api_bp)
    bookings_api.register(api_bp)
    forecast_api.register(api_bp)
    reach_api.register(api_bp)
    employers_api.register(api_bp)
    outcomes_api.register(api_bp)
    app.register_blueprint(forecast_bp)
    app.register_blueprint(reach_bp)
    app.register_blueprint(api_bp)
    from mhfa.outcomes.views import bp as outcomes_bp
    from mhfa.privacy.views import bp as privacy_bp

    app.register_blueprint(privacy_bp)
    app.register_blueprint(outcomes_bp)

    missing = undeclared_endpoints(app)
    if missing:
        raise RuntimeError(f"routes without an access declaration: {', '.join(missing)}")


def register_listeners(app: Flask) -> None:
    """Higher areas follow the changes of lower ones they never get called by (see ``mhfa.courses.signals``)."""
    from mhfa.bookings import listeners as booking_listeners
    from mhfa.employers import listeners as employer_listeners
    from mhfa.notify import outbox  # noqa: F401  (delivers right after commit when MHFA_DELIVER_AFTER_COMMIT)
    from mhfa.outcomes import listeners as outcome_listeners

    booking_listeners.register()
    employer_listeners.register()
    outcome_listeners.register()


def _too_large_detail() -> str:
    """What a 413 says: the most this address takes, and what to do."""
    limit = request.max_content_length or 0
    size = f"{limit / (1024 * 1024):.0f} MB" if limit >= 1024 * 1024 else f"{max(1, limit // 1024)} KB"
    if request.path.startswith("/api/"):
        return f"The request body is larger than this API accepts ({size} at most)."
    return (f"What you sent is larger than this page accepts ({size} at most). If you were uploading a file, "
            "split it into smaller files and upload each one; otherwise go back and try again.")


def register_errorhandlers(app: Flask) -> None:
    from mhfa.errors import DomainError

    messages = {
        400: ("Bad request", "The request could not be understood. Go back and try again."),
        403: ("You do not have access to this page", "Your account does not have permission to see this page."),
        404: ("Page not found", "If you typed the web address, check it is correct."),
        405: ("Method not allowed", "That action cannot be done from this page."),
        413: ("Request too large", "What was sent is larger than this service accepts."),
        429: ("Too many attempts", "For your security, wait a few minutes and then try again."),
        500: ("Sorry, there is a problem with the service", "Try again later."),
    }

    def render_error(error):
        code = getattr(error, "code", 500) or 500
        title, detail = messages.get(code, messages[500])
        if code == 400 and getattr(error, "description", None) and not str(error.description).startswith("The browser"):
            detail = error.description  # our own guards say what was wrong (bad JSON, a NUL character...)
        if code == 404 and getattr(error, "description", None) and not str(error.description).startswith(
                "The requested URL"):
            detail = error.description  # a service's NotFound, e.g. an invitation link replaced by a newer one
        if code == 413:
            detail = _too_large_detail()
        if request.path.startswith("/api/"):
            return {"error": detail if code in (400, 413) else title}, code
        extra = {}
        if code >= 500:
            # The failed request's transaction and user may be what broke: start clean, show the page signed out.
            from flask_login import AnonymousUserMixin

            db.session.rollback()
            extra["current_user"] = AnonymousUserMixin()
        try:
            return render_template("errors/error.html", code=code, title=title, detail=detail, **extra), code
        except Exception:  # noqa: BLE001 (the error page must go out, with the security headers)
            app.logger.exception("the error page could not be rendered")
            return f"<!DOCTYPE html><title>{title}</title><h1>{title}</h1><p>{detail}</p>", code

    for code in messages:
        app.register_error_handler(code, render_error)

    def render_domain_error(error: DomainError):
        if request.path.startswith("/api/"):
            return {"error": error.message}, flow.http_status(error)
        return render_template(
            "errors/error.html", code=flow.http_status(error), title="That cannot be done", detail=error.message
        ), flow.http_status(error)

    app.register_error_handler(DomainError, render_domain_error)

    from flask_wtf.csrf import CSRFError

    def render_csrf_error(error):
        return render_template(
            "errors/error.html",
            code=400,
            title="Your form has expired",
            detail="For your security the form timed out. Go back, reload the page and try again.",
        ), 400

    app.register_error_handler(CSRFError, render_csrf_error)

    from mhfa.security.faults import register_fault_handlers

    register_fault_handlers(app)


def register_template_helpers(app: Flask) -> None:
    from mhfa.main.navigation import navigation_for, section_links_for
    from mhfa.shares import percent
    from mhfa.timeutil import format_london

    app.jinja_env.filters["london"] = format_london
    app.jinja_env.filters["percent"] = percent  # rounded once from the exact fraction: {{ share|percent }}
    app.jinja_env.filters["pounds"] = lambda pence: money.pounds(pence) if pence else "Free"
    app.jinja_env.globals["navigation_for"] = navigation_for
    app.jinja_env.globals["section_links_for"] = section_links_for
    # {{ plural(n, "draft course") }}: "draft course" for 1, "draft courses" otherwise (or the plural given).
    app.jinja_env.globals["plural"] = lambda count, singular, many=None: (
        singular if count == 1 else (many or singular + "s"))


def register_commands(app: Flask) -> None:
    from mhfa.cli import mhfa_cli

    app.cli.add_command(mhfa_cli)
