"""Every route declares who may use it, and the live answers match an independent table for every role.

The expected access of each endpoint is written out in ``tests/access_table.py``, not read from the
route's own declaration, so widening a route (say, giving trainees a coordinator page) fails here
unless the table is changed too.
"""
import re

import pytest

from mhfa.auth.access import ACCESS_ATTRIBUTE, undeclared_endpoints
from mhfa.auth.models import Role
from mhfa.extensions import db
from tests import factories
from tests.access_table import EXPECTED_ACCESS
from tests.conftest import csrf_token

SIGN_OUT = {"auth.logout", "auth.logout_everywhere"}  # called last: they end the session the test drives


def test_every_endpoint_declares_its_access(app):
    assert undeclared_endpoints(app) == []


def test_every_endpoint_is_in_the_access_table_with_the_access_it_declares(app):
    declared = {
        endpoint: getattr(view, ACCESS_ATTRIBUTE)
        for endpoint, view in app.view_functions.items()
        if endpoint != "static"
    }
    assert sorted(set(declared) - set(EXPECTED_ACCESS)) == [], "endpoints missing from tests/access_table.py"
    assert sorted(set(EXPECTED_ACCESS) - set(declared)) == [], "tests/access_table.py names endpoints that are gone"
    differ = {
        endpoint: (access, EXPECTED_ACCESS[endpoint])
        for endpoint, access in declared.items()
        if _comparable(access) != _comparable(EXPECTED_ACCESS[endpoint])
    }
    assert differ == {}, "declared access differs from tests/access_table.py (declared, expected)"


def _comparable(access):
    return access if isinstance(access, str) else frozenset(access)


def _concrete_urls(app):
    """Each endpoint once, with placeholder values for its URL arguments."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        url = re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: "1" if (m.group(1) or "") in ("int", "") else "x", rule.rule)
        method = "GET" if "GET" in rule.methods else sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
        yield rule.endpoint, url, method


def _call(client, method, url, token):
    data = {} if method == "GET" else {"csrf_token": token}
    return client.open(url, method=method, data=data, headers={"Accept": "text/html"})


@pytest.mark.parametrize("role", [None, *Role])
def test_each_role_gets_exactly_the_routes_it_is_allowed(client, auth, app, role):
    """Anonymous visitors are sent to sign in; a role without access gets 403; allowed roles pass the gate."""
    if role is not None:
        user = factories.user(role)
        db.session.commit()
        auth.login(user)
    token = csrf_token(client, "/" if role else "/login")
    urls = sorted(_concrete_urls(app), key=lambda item: item[0] in SIGN_OUT)  # sign out last
    for endpoint, url, method in urls:
        access = EXPECTED_ACCESS[endpoint]
        if endpoint in SIGN_OUT and role is not None and client.get("/account").status_code != 200:
            auth.login(user)  # the previous sign-out ended the session
            token = csrf_token(client, "/")
        response = _call(client, method, url, token)
        if access == "api_token":
            assert response.status_code == 401, f"{endpoint} answered without an API token (as {role})"
        elif access in ("public", "token"):
            assert response.status_code != 403, f"{endpoint} is public but refused {role}"
            assert "/login?next" not in response.headers.get("Location", ""), endpoint
        elif role is None:
            if url.startswith("/api/"):
                assert response.status_code == 401, f"{endpoint} let an anonymous API call through"
            else:
                assert response.status_code == 302 and "/login" in response.headers["Location"], endpoint
        elif access == "login" or role in access:
            assert response.status_code not in (401, 403), f"{endpoint} refused {role}, which it allows"
            assert "/login?next" not in response.headers.get("Location", ""), f"{endpoint} sent {role} to sign in"
        else:
            allowed = sorted(r.value for r in access)
            assert response.status_code == 403, f"{endpoint} let {role} through; it allows {allowed}"
