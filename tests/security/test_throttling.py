"""Sign-in throttling (OWASP): strict per account and address, never locking the owner out; loose per address;
shared by every worker through the database (or Redis); fail-safe."""
from __future__ import annotations

import http.cookiejar
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa

from mhfa.auth.models import Role
from mhfa.extensions import db
from mhfa.notify.models import OutboxMessage
from tests import factories
from tests.conftest import csrf_token
from tests.servers import free_port, stop

REDIS = "redis://127.0.0.1:6379"


def _redis_answers() -> bool:
    import redis

    try:
        return redis.Redis.from_url(REDIS, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        return False


def _sign_in(client, email, password="wrong password"):  # noqa: S107
    token = csrf_token(client, "/login")
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token}).status_code


def _from(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _failed_sign_in_alerts() -> int:
    return db.session.scalar(sa.select(sa.func.count(OutboxMessage.id)).where(
        OutboxMessage.subject == "Failed attempts to sign in to your MHFA Reach account"))


@pytest.mark.parametrize("storage", ["memory://", "database://"])
def test_wrong_passwords_slow_that_address_and_never_lock_the_owner_out(throttled, storage):
    app = throttled(storage, MHFA_LOGIN_ACCOUNT_RATE_LIMIT="3 per minute")
    with app.app_context():
        user = factories.user(Role.TRAINEE)
        db.session.commit()
        attacker = _from(app, "10.0.0.66")
        answers = [_sign_in(attacker, user.email.upper()) for _ in range(4)]  # however it is typed
        assert answers == [401, 401, 401, 429]
        token = csrf_token(attacker, "/login")
        refused = attacker.post("/login", data={"email": user.email, "password": factories.PASSWORD,
                                                "csrf_token": token})
        assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= 60
        assert "too many wrong passwords for this account from where you are" in refused.get_data(as_text=True)
        assert _sign_in(_from(app, "192.0.2.10"), user.email, factories.PASSWORD) == 302  # the owner, at home
        assert _failed_sign_in_alerts() == 1


@pytest.mark.parametrize("storage", ["memory://", "database://"])
def test_a_guesser_on_many_addresses_gets_one_guess_each_once_the_account_total_is_reached(throttled, storage):
    app = throttled(storage, MHFA_LOGIN_ACCOUNT_RATE_LIMIT="3 per minute",
                    MHFA_LOGIN_ACCOUNT_TOTAL_RATE_LIMIT="4 per hour")
    with app.app_context():
        user = factories.user(Role.TRAINEE)
        db.session.commit()
        assert [_sign_in(_from(app, f"10.1.0.{n}"), user.email) for n in range(1, 5)] == [401] * 4
        assert _sign_in(_from(app, "10.1.0.1"), user.email) == 429  # failed here recently
        fresh = _from(app, "10.1.0.5")
        assert [_sign_in(fresh, user.email), _sign_in(fresh, user.email)] == [401, 429]
        assert _sign_in(_from(app, "10.1.0.6"), user.email, factories.PASSWORD) == 302  # the owner gets in
        assert _failed_sign_in_alerts() == 1  # emailed once, however many limits were reached


def test_the_alert_email_goes_at_most_once_a_day(throttled):
    app = throttled("database://", MHFA_LOGIN_ACCOUNT_RATE_LIMIT="1 per minute")
    with app.app_context():
        user = factories.user(Role.TRAINEE)
        db.session.commit()
        for n in range(6):
            _sign_in(_from(app, f"10.2.0.{n}"), user.email)
        assert _failed_sign_in_alerts() == 1
        mail = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.recipient == user.email)).one()
        assert b"Your account is not locked" in mail.raw


def test_an_unknown_address_is_slowed_without_an_email(throttled):
    app = throttled("database://", MHFA_LOGIN_ACCOUNT_RATE_LIMIT="2 per minute")
    with app.app_context():
        client = _from(app, "10.3.0.1")
        assert [_sign_in(client, "nobody@example.org") for _ in range(3)] == [401, 401, 429]
        assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0


def test_a_training_room_behind_one_address_can_all_sign_in(throttled):
    app = throttled()
    with app.app_context():
        users = [factories.user(Role.TRAINEE) for _ in range(25)]
        db.session.commit()
        answers = [_sign_in(app.test_client(), user.email, factories.PASSWORD) for user in users]
        assert answers == [302] * 25


def test_one_address_trying_many_accounts_is_slowed_loosely(throttled):
    app = throttled(MHFA_LOGIN_IP_RATE_LIMIT="5 per minute")
    with app.app_context():
        client = app.test_client()
        answers = [_sign_in(client, f"guess{n}@example.org") for n in range(6)]
        assert answers == [401] * 5 + [429]


@pytest.mark.skipif(not _redis_answers(), reason="Redis is not running on 127.0.0.1:6379")
def _shared_by_two_workers(throttled, storage: str, kind: str, **config) -> None:
    """Two wrong passwords on one worker and three on another: the fifth is refused, under a limit of four."""
    first = throttled(storage, MHFA_LOGIN_ACCOUNT_RATE_LIMIT="4 per minute", **config)
    with first.app_context():
        user = factories.user(Role.TRAINEE)
        db.session.commit()
        email = user.email
        assert [_sign_in(first.test_client(), email) for _ in range(2)] == [401, 401]
        assert first.test_client().get("/healthz").json["rate_limits"] == kind
    # A second worker (another app, so another process's view of the limiter) sees the same counts.
    second = throttled(storage, MHFA_LOGIN_ACCOUNT_RATE_LIMIT="4 per minute", **config)
    with second.app_context():
        assert [_sign_in(second.test_client(), email) for _ in range(3)] == [401, 401, 429]


def test_counts_are_shared_by_every_worker_through_redis(throttled):
    _shared_by_two_workers(throttled, REDIS, "redis", RATELIMIT_KEY_PREFIX=f"shared-{uuid.uuid4().hex[:8]}")


def test_counts_are_shared_by_every_worker_through_the_database(throttled):
    _shared_by_two_workers(throttled, "database://", "database")


def test_the_database_is_the_default_store(throttled, monkeypatch):
    monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    from mhfa.config import from_environment

    assert from_environment("/tmp")["RATELIMIT_STORAGE_URI"] == "database://"  # noqa: S108 (not written to)


def test_per_process_counts_are_refused_when_several_workers_serve_the_app(throttled, monkeypatch):
    monkeypatch.setenv("MHFA_WORKERS", "4")
    with pytest.raises(RuntimeError, match="memory:// keeps each process's own counts, and 4 processes"):
        throttled("memory://")
    throttled("database://")  # shared: fine
    monkeypatch.setenv("MHFA_WORKERS", "1")
    throttled("memory://")  # one process: its memory is every worker's


def test_with_redis_down_sign_in_still_works_and_healthz_says_so(throttled):
    app = throttled("redis://127.0.0.1:1", MHFA_LOGIN_ACCOUNT_RATE_LIMIT="3 per minute")
    with app.app_context():
        user = factories.user(Role.TRAINEE)
        db.session.commit()
        client = app.test_client()
        answers = [_sign_in(client, user.email) for _ in range(4)]
        assert 500 not in answers and answers[:3] == [401, 401, 401]
        assert answers[3] == 429  # still limited, in this process's memory
        assert _sign_in(app.test_client(), factories.user(Role.TRAINEE).email or "", "x") != 500
        health = client.get("/healthz")
        assert health.status_code == 200
        assert health.json["rate_limits"] == "memory (redis unreachable)" and health.json["status"] == "degraded"


# --- under gunicorn, four workers ----------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _gunicorn(app_ctx, tmp_path, workers: int, **extra) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAIL_", "RATELIMIT", "REDIS_URL", "MHFA_"))}
    env.update({"DATABASE_URL": app_ctx.config["SQLALCHEMY_DATABASE_URI"], "MHFA_INSTANCE_PATH": str(tmp_path),
                "SECRET_KEY": "gunicorn-throttle-test", "MHFA_PASSWORD_HASH_METHOD": factories.CHEAP_HASH_METHOD,
                "RATELIMIT_ENABLED": "true", "MHFA_LOGIN_ACCOUNT_RATE_LIMIT": "5 per minute; 20 per hour", **extra})
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}", "--timeout", "120",
         "wsgi:app"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return process, f"http://127.0.0.1:{port}"


def _wait_until_up(process, base):
    for _ in range(300):
        if process.poll() is not None:
            raise AssertionError("gunicorn stopped: " + process.stderr.read()[-3000:])
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as answer:  # noqa: S310 (our own server)
                return json.loads(answer.read())
        except OSError:
            time.sleep(0.2)
    raise AssertionError("gunicorn did not answer")


def test_four_gunicorn_workers_count_wrong_passwords_once_in_the_database(app_ctx, tmp_path):
    user = factories.user(Role.TRAINEE)
    db.session.commit()
    process, base = _gunicorn(app_ctx, tmp_path, 4)
    try:
        assert _wait_until_up(process, base)["rate_limits"] == "database"
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = opener.open(base + "/login", timeout=30).read().decode()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode({"email": user.email, "password": "wrong password",
                                       "csrf_token": token}).encode()

        def attempt(_):
            try:
                request = urllib.request.Request(base + "/login", data=body)  # noqa: S310 (our own server)
                return opener.open(request, timeout=60).status
            except urllib.error.HTTPError as error:
                return error.code

        with ThreadPoolExecutor(max_workers=12) as pool:
            answers = Counter(pool.map(attempt, range(24)))
        assert answers == {401: 5, 429: 19}  # five processed, however the workers shared them
    finally:
        stop(process, timeout=30)
        app_ctx.extensions["test_written_tables"].everything = True  # gunicorn wrote rows this process never saw


def test_gunicorn_refuses_per_process_counts_with_four_workers(app_ctx, tmp_path):
    process, _ = _gunicorn(app_ctx, tmp_path, 4, RATELIMIT_STORAGE_URI="memory://")
    try:
        process.wait(timeout=120)
        error = process.stderr.read()
    finally:
        stop(process, timeout=30)
    assert process.returncode != 0
    assert "RATELIMIT_STORAGE_URI=memory:// keeps each process's own counts, and 4 processes" in error
