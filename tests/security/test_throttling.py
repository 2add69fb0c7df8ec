"""Sign-in throttling (OWASP): strict per account, loose per address, shared through Redis, fail-safe."""
from __future__ import annotations

import uuid

import pytest
from flask import g

from mhfa import create_app
from mhfa.auth.models import Role
from mhfa.extensions import db, limiter
from tests import factories
from tests.conftest import csrf_token

REDIS = "redis://127.0.0.1:6379"


def _redis_answers() -> bool:
    import redis

    try:
        return redis.Redis.from_url(REDIS, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        return False


@pytest.fixture()
def throttled(app_ctx, tmp_path):
    """Build apps with the (shared) limiter switched on; switched off again afterwards."""

    def build(storage="memory://", **config):
        app = create_app({
            "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x", "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": app_ctx.config["SQLALCHEMY_DATABASE_URI"],
            "MHFA_PASSWORD_HASH_METHOD": factories.CHEAP_HASH_METHOD,
            "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": storage,
            "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex[:8]}", **config,
        })

        @app.before_request
        def _fresh_request_state():  # one app context spans many requests here, as in conftest's app
            g.pop("_login_user", None)
            g.pop("csrf_token", None)

        return app

    yield build
    limiter.enabled = False


def _sign_in(client, email, password="wrong password"):  # noqa: S107
    token = csrf_token(client, "/login")
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token}).status_code


def test_failures_for_one_account_are_limited_whatever_the_address(throttled):
    app = throttled(MHFA_LOGIN_ACCOUNT_RATE_LIMIT="3 per minute")
    with app.app_context():
        user = factories.user(Role.TRAINEE)
        db.session.commit()
        answers = []
        for n in range(4):
            client = app.test_client()
            client.environ_base["REMOTE_ADDR"] = f"10.0.0.{n + 1}"  # a new address each time
            answers.append(_sign_in(client, user.email.upper()))  # however it is typed
        assert answers == [401, 401, 401, 429]
        other = factories.user(Role.TRAINEE)
        db.session.commit()
        assert _sign_in(app.test_client(), other.email, factories.PASSWORD) == 302  # other accounts unaffected


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
def test_counts_are_shared_by_every_worker_through_redis(throttled):
    prefix = f"shared-{uuid.uuid4().hex[:8]}"
    first = throttled(REDIS, MHFA_LOGIN_ACCOUNT_RATE_LIMIT="4 per minute", RATELIMIT_KEY_PREFIX=prefix)
    with first.app_context():
        user = factories.user(Role.TRAINEE)
        db.session.commit()
        email = user.email
        assert [_sign_in(first.test_client(), email) for _ in range(2)] == [401, 401]
        assert first.test_client().get("/healthz").json["rate_limits"] == "redis"
    # A second worker (another app, so another process's view of the limiter) sees the same counts.
    second = throttled(REDIS, MHFA_LOGIN_ACCOUNT_RATE_LIMIT="4 per minute", RATELIMIT_KEY_PREFIX=prefix)
    with second.app_context():
        assert [_sign_in(second.test_client(), email) for _ in range(3)] == [401, 401, 429]


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
