"""The application shell: health check, error pages, settings and the secret key."""
import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from flask import Blueprint

from mhfa import create_app
from mhfa.auth.access import public
from mhfa.config import database_url


def test_healthz_answers_when_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "rate_limits": "off"}


def test_healthz_fails_when_database_is_down(tmp_path):
    app = create_app({
        "INSTANCE_PATH": str(tmp_path),
        "SECRET_KEY": "x",
        "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1",
    })
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "unavailable"


def test_unknown_page_is_a_404_in_the_site_layout(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Page not found" in html
    assert "Skip to main content" in html


def test_server_error_page_hides_the_details(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x"})
    broken = Blueprint("broken", __name__)

    @broken.route("/boom")
    @public
    def boom():
        raise RuntimeError("secret internals")

    app.register_blueprint(broken)
    response = app.test_client().get("/boom")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "Sorry, there is a problem with the service" in html
    assert "secret internals" not in html


def test_secret_key_is_generated_once_into_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = create_app({"INSTANCE_PATH": str(tmp_path)})
    second = create_app({"INSTANCE_PATH": str(tmp_path)})
    key_file = tmp_path / "secret_key"
    assert key_file.exists()
    assert len(first.config["SECRET_KEY"]) >= 64
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert key_file.stat().st_mode & 0o077 == 0


def test_secret_key_from_environment_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert not (tmp_path / "secret_key").exists()


def test_database_url_defaults_to_sqlite_in_instance_and_normalises_postgres():
    assert database_url(None, "/srv/instance") == "sqlite:////srv/instance/mhfa.db"
    assert database_url("postgres://u@h/db", "/x") == "postgresql+psycopg://u@h/db"
    assert database_url("postgresql://u@h/db", "/x") == "postgresql+psycopg://u@h/db"
    assert database_url("postgresql+psycopg://u@h/db", "/x") == "postgresql+psycopg://u@h/db"


def test_sqlite_enforces_foreign_keys(app_ctx):
    from mhfa.extensions import db

    if db.engine.dialect.name != "sqlite":
        return
    assert db.session.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1


def test_pages_use_the_vendored_front_end_without_crown_or_gov_uk_typeface(client, app):
    html = client.get("/").get_data(as_text=True)
    assert "vendor/govuk-frontend/govuk-frontend.min.css" in html
    css = client.get("/static/vendor/govuk-frontend/govuk-frontend.min.css").get_data(as_text=True)
    assert "GDS Transport" not in css
    assert "govuk-crest" not in html and "govuk-logo" not in html


def test_pages_carry_security_headers_and_the_inline_script_matches_its_hash(client):
    import base64
    import hashlib
    import re

    response = client.get("/")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "default-src 'self'" in policy
    inline = re.findall(r"<script>(.*?)</script>", response.get_data(as_text=True), re.S)
    assert len(inline) == 1
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    assert f"'sha256-{digest}'" in policy


def test_the_served_app_is_out_of_the_garbage_collectors_reach(tmp_path):
    """``wsgi.py`` (what gunicorn serves) freezes what the app holds, so no full collection walks it mid-request."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAIL_", "DATABASE_URL"))}
    env.update({"MHFA_INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "gc-freeze-test"})
    frozen = subprocess.run([sys.executable, "-c", "import gc, wsgi; print(gc.get_freeze_count())"],
                            cwd=Path(__file__).resolve().parents[1], env=env, capture_output=True, text=True,
                            check=True)
    assert int(frozen.stdout.split()[-1]) > 100_000

