"""Bodies, files and logs: a cap on every body (413, said plainly), owner-only files, masked request logs."""
from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import stat
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa

from mhfa import create_app
from mhfa.auth.models import Role
from mhfa.extensions import db
from mhfa.notify.services import Message, deliver
from mhfa.security.logs import MASK, MaskingFilter, mask_access_atoms, mask_path
from tests import factories
from tests.conftest import csrf_token
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- bodies ----------------------------------------------------------------------------------------------

def test_a_large_body_to_a_form_is_refused_before_it_is_read(client):
    token = csrf_token(client, "/login")
    response = client.post("/login", data={"email": "a@example.org", "password": "x" * (1024 * 1024),
                                           "csrf_token": token})
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "Request too large" in html and "larger than this page accepts (256 KB at most)" in html


def test_the_api_says_413_in_json(client):
    response = client.post("/api/v1/courses/1/bookings", data="[" + "1," * 60_000 + "1]",
                           content_type="application/json", headers={"Authorization": "Bearer x"})
    assert response.status_code == 413
    assert response.json == {"error": "The request body is larger than this API accepts (64 KB at most)."}


def test_the_import_takes_a_file_larger_than_a_form_but_not_past_its_cap(client, auth, app_ctx):
    user = factories.user(Role.COORDINATOR)
    db.session.commit()
    auth.login(user)
    rows = "first_name,last_name,email,course_type,completed_on,council_area\n" + \
        "Ann,Bee,ann@example.org,AWARE,2099-01-01,Birmingham\n" * 40_000  # about 2 MB, every row refused
    response = client.post("/reach/import", data={"file": (io.BytesIO(rows.encode()), "big.csv"),
                                                  "csrf_token": csrf_token(client, "/reach/import")},
                           content_type="multipart/form-data")
    assert response.status_code == 422 and "completed_on must be between" in response.get_data(as_text=True)
    app_ctx.config["MAX_CONTENT_LENGTH"] = 1024 * 1024  # the cap itself, made small for the test
    try:
        response = client.post("/reach/import", data={"file": (io.BytesIO(rows.encode()), "big.csv"),
                                                      "csrf_token": csrf_token(client, "/reach/import")},
                               content_type="multipart/form-data")
    finally:
        app_ctx.config["MAX_CONTENT_LENGTH"] = 65 * 1024 * 1024
    assert response.status_code == 413 and "split it into smaller files" in response.get_data(as_text=True)


# --- files -----------------------------------------------------------------------------------------------

def test_the_instance_folder_and_what_the_app_writes_there_are_the_owners_alone(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("MHFA_SIGNING_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    instance = tmp_path / "instance"
    old_umask = os.umask(0o022)  # the usual umask: files 644, folders 755 unless the app says otherwise
    try:
        app = create_app({"INSTANCE_PATH": str(instance), "TESTING": True, "MAIL_SERVER": ""})
        with app.app_context():
            with db.engine.begin() as connection:
                connection.execute(sa.text("CREATE TABLE probe (id INTEGER PRIMARY KEY)"))
            deliver([Message(to="someone@example.org", subject="Hello", text="Hello")])
            from mhfa.certificates.signing import load_or_create_key

            load_or_create_key(app.instance_path, "")
    finally:
        os.umask(old_umask)
    assert _mode(instance) == 0o700
    assert _mode(instance / "mhfa.db") == 0o600
    assert _mode(instance / "secret_key") == 0o600
    assert _mode(instance / "signing-key") == 0o600
    outbox = instance / "outbox"
    assert _mode(outbox) == 0o700
    assert [_mode(p) for p in outbox.glob("*.eml")] == [0o600]


def test_an_existing_instance_folder_and_database_are_tightened(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    (instance / "mhfa.db").touch(mode=0o644)
    os.chmod(instance, 0o755)  # noqa: S103 (the loose mode the app must tighten)
    os.chmod(instance / "mhfa.db", 0o644)
    create_app({"INSTANCE_PATH": str(instance), "TESTING": True, "SECRET_KEY": "x"})
    assert (_mode(instance), _mode(instance / "mhfa.db")) == (0o700, 0o600)


# --- logs ------------------------------------------------------------------------------------------------

TOKEN = "Zx9" + "a" * 40


@pytest.mark.parametrize("path,masked", [
    (f"/calendar/{TOKEN}.ics", f"/calendar/{MASK}.ics"),
    (f"/confirm-email/{TOKEN}.abc.def", f"/confirm-email/{MASK}"),
    (f"/reset-password/{TOKEN}", f"/reset-password/{MASK}"),
    (f"/places/{TOKEN}", f"/places/{MASK}"),
    (f"/verify/{TOKEN}", f"/verify/{MASK}"),
    (f"/employers/invitations/{TOKEN}/renew", f"/employers/invitations/{MASK}/renew"),
    (f"/offers/{TOKEN}", f"/offers/{MASK}"),
    ("/manage/people?q=laura%40example.org", f"/manage/people?q={MASK}"),
    ("/verify?number=MR2026-7K3Q-9XHD&last_name=Smith", f"/verify?number={MASK}&last_name={MASK}"),
    ("/courses?area=E08000025&page=2", "/courses?area=E08000025&page=2"),
    ("/login?next=%2Fplaces%2Fabc", f"/login?next={MASK}"),
    ("/courses/12", "/courses/12"),
    (f"/something/{TOKEN}", f"/something/{MASK}"),
])
def test_private_links_and_personal_searches_are_masked(path, masked):
    assert mask_path(path) == masked


def test_the_development_server_log_masks_them(app_ctx, caplog):
    """Werkzeug's own request handler, serving the app on a real socket, logs through the filter."""
    from werkzeug.serving import make_server

    token = TOKEN
    server = make_server("127.0.0.1", 0, app_ctx, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            for path in (f"/calendar/{token}.ics", "/manage/people?q=laura%40example.org",
                         f"/reset-password/{TOKEN}"):
                with contextlib.suppress(urllib.error.HTTPError):
                    urllib.request.urlopen(base + path, timeout=10).read()  # noqa: S310 (our own server)
    finally:
        server.shutdown()
    lines = [record.getMessage() for record in caplog.records if record.name == "werkzeug"]
    assert len(lines) >= 3, lines
    text = "\n".join(lines)
    assert TOKEN not in text and "laura" not in text
    assert f"/calendar/{MASK}.ics" in text and f"q={MASK}" in text


def test_the_filter_leaves_other_log_lines_alone():
    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, "%s %s", ("Press CTRL+C to quit", 3), None)
    assert MaskingFilter().filter(record) and record.getMessage() == "Press CTRL+C to quit 3"


def test_gunicorn_access_atoms_are_masked():
    atoms = mask_access_atoms({"r": f"GET /places/{TOKEN}?voucher_code=abc HTTP/1.1", "U": f"/places/{TOKEN}",
                               "q": "voucher_code=abc", "f": f"http://x/reset-password/{TOKEN}",
                               "{raw_uri}e": f"/places/{TOKEN}", "{authorization}i": "Bearer mhfa_x",
                               "{cookie}i": "session=abc", "h": "127.0.0.1", "s": "200"})
    assert TOKEN not in repr(atoms) and "abc" not in repr(atoms) and "mhfa_x" not in repr(atoms)
    assert atoms["r"] == f"GET /places/{MASK}?voucher_code={MASK} HTTP/1.1" and atoms["h"] == "127.0.0.1"


def test_gunicorn_with_the_shipped_config_writes_a_masked_access_log(tmp_path):
    instance = tmp_path / "instance"
    log = tmp_path / "access.log"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAIL_", "DATABASE_URL", "RATELIMIT"))}
    env.update({"MHFA_INSTANCE_PATH": str(instance), "SECRET_KEY": "access-log-test", "MHFA_ACCESS_LOG": str(log),
                "RATELIMIT_ENABLED": "false"})
    subprocess.run([str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    server = subprocess.Popen([str(BIN / "gunicorn"), "--workers", "1", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2).read()  # noqa: S310 (our own server)
                break
            except OSError:
                time.sleep(0.2)
        for path in (f"/calendar/{TOKEN}.ics", f"/places/{TOKEN}", "/courses?area=E08000025&q=laura%40example.org"):
            with contextlib.suppress(urllib.error.HTTPError):
                urllib.request.urlopen(base + path, timeout=10).read()  # noqa: S310 (our own server)
    finally:
        server.terminate()
        server.wait(timeout=20)
    text = log.read_text()
    assert text.count("\n") >= 4, text
    assert TOKEN not in text and "laura" not in text, text
    assert f'"GET /calendar/{MASK}.ics HTTP/1.1" 404' in text
    assert re.search(rf"/courses\?area=E08000025&q={MASK}", text)
