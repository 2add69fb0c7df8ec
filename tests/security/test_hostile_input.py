"""Every route, as every role, driven with hostile input: never a 5xx, always the security headers.

The routes come from the live URL map and the field names from each page's own forms, so a route
another engineer adds is driven too, without touching this file. Hostile values: huge and negative
numbers, NUL bytes, lone surrogates, very long strings, odd Unicode, SQL- and HTML-looking text, and
JSON that is deep, truncated or not an object.
"""
from __future__ import annotations

import json
import re
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from mhfa import SECURITY_HEADERS
from mhfa.auth.models import Role
from mhfa.extensions import db
from tests import factories
from tests.conftest import csrf_token

# Signing out (here or everywhere) would end the session the rest of the run drives.
SIGN_OUT = {"auth.logout", "auth.logout_everywhere"}

HOSTILE_TEXT = st.one_of(
    st.sampled_from([
        "99999999999999999999", "-1", "0", "9" * 400, "1e309", "NaN", "9999-12-31", "0001-01-01", "31/02/2027",
        "\x00", "a\x00b", "\ud800", "x\udfff", "' OR 1=1 --", "'; DROP TABLE person; --", "<script>alert(1)</script>",
        "{{ 7*7 }}", "%00", "../../etc/passwd", "//evil.example", "\u202e\u0301", "ﬀ\u00df\u0130", "🙂" * 50,
        "a" * 5000, " ", "", "true", "null", "[]",
    ]),
    st.text(max_size=40),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)
PATH_INT = st.one_of(st.just(1), st.integers(min_value=0, max_value=2**70))
PATH_TEXT = st.one_of(st.sampled_from(["x", "%00", "a\x00", "\ud800", "9" * 300, "..", "' OR 1=1"]),
                      st.text(max_size=20))


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


HOSTILE_JSON = st.one_of(
    st.sampled_from([
        '{"voucher_code": ', '{"voucher_code": "x\\u0000"}', '{"voucher_code": "\\ud800"}', "[]", "1", "null",
        '"text"', "{", '{"voucher_code": 99999999999999999999}', '{"voucher_code": ["a"]}', _deep(5000),
        '{"a":' * 3000 + "1" + "}" * 3000, "\x00", '{"voucher_code": "' + "v" * 70000 + '"}',
    ]),
    st.dictionaries(st.sampled_from(["voucher_code", "email", "name", "id", "page"]),
                    st.one_of(HOSTILE_TEXT, st.integers(), st.none(), st.booleans()), max_size=3).map(json.dumps),
)

_FIELD = re.compile(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"')


def _wire(text: str) -> bytes:
    """Text as bytes on the wire: a lone surrogate goes out as the invalid UTF-8 a client could send."""
    return text.encode("utf-8", "surrogatepass")


def _url(rule, draw) -> str:
    def fill(match):
        converter = match.group(1) or ""
        return str(draw(PATH_INT)) if converter == "int" else quote(_wire(draw(PATH_TEXT)), safe="")

    return re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", fill, rule.rule)


_NAMES: dict = {}


def _field_names(client, role, rule) -> list[str]:
    """The names of the fields on the page a route shows (read once per role and route)."""
    if "GET" not in rule.methods:
        return ["q", "voucher_code", "email"]
    key = (role, rule.rule)
    if key not in _NAMES:
        _NAMES[key] = _read_field_names(client, re.sub(r"<[^>]+>", "1", rule.rule))
    return _NAMES[key]


def _read_field_names(client, url: str) -> list[str]:
    response = client.get(url)
    names = sorted(set(_FIELD.findall(response.get_data(as_text=True)))) if response.status_code == 200 else []
    return [name for name in names if name != "csrf_token"] or ["q", "page", "id"]


def _assert_fine(response, what: str) -> None:
    assert response.status_code < 500, f"{what} answered {response.status_code}"
    for header in SECURITY_HEADERS:
        assert header in response.headers, f"{what} answered without {header}"


@pytest.fixture()
def world(app_ctx):
    """A little of everything, so routes with ids find real rows as well as missing ones."""
    coordinator = factories.user(Role.COORDINATOR)
    course = factories.course()
    trainee = factories.user(Role.TRAINEE)
    factories.booking_on(course, trainee.person)
    users = {None: None, **{role: factories.user(role) for role in Role}}
    db.session.commit()
    return {"users": users, "coordinator": coordinator}


PARTS = 4  # every route is driven, a quarter of them in each test


@pytest.mark.slow
@pytest.mark.parametrize("part", range(PARTS), ids=lambda n: f"routes-{n + 1}-of-{PARTS}")
@pytest.mark.parametrize("role", [None, *Role], ids=lambda r: getattr(r, "value", "anonymous"))
@settings(max_examples=5, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.large_base_example])
@given(data=st.data())
def test_no_route_answers_a_server_error_to_hostile_input(app, client, auth, world, role, part, data):
    user = world["users"][role]
    client.delete_cookie("session")
    if user is not None:
        auth.login(user)
    token = csrf_token(client, "/" if user else "/login")
    rules = sorted((r for r in app.url_map.iter_rules() if r.endpoint != "static" and r.endpoint not in SIGN_OUT),
                   key=lambda r: r.rule)[part::PARTS]  # a share of the routes per test: each example's draws stay small
    failures: list[str] = []
    for rule in rules:
        try:
            _drive(client, role, rule, token, data)
        except Exception as error:  # noqa: BLE001 (collected, so every route is driven and the draws stay the same)
            failures.append(f"{rule.endpoint}: {type(error).__name__}: {error}"[:500])
    assert failures == []


def _drive(client, role, rule, token, data) -> None:
    """Every method of one route with hostile values (all drawn first, so a failing case replays exactly)."""
    url = _url(rule, data.draw)
    methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
    drawn = {method: (data.draw(st.lists(HOSTILE_TEXT, min_size=6, max_size=6)), data.draw(HOSTILE_JSON))
             for method in methods}
    names = _field_names(client, role, rule)
    form = "application/x-www-form-urlencoded"
    for method, (texts, body_json) in drawn.items():
        what = f"{method} {url} ({rule.endpoint}) as {role}"
        pairs = [(name, _wire(texts[i % len(texts)])) for i, name in enumerate(names)]
        query = urlencode(pairs)
        if method == "GET":
            _assert_fine(client.get(f"{url}?{query}"), what)
        elif url.startswith("/api/"):
            _assert_fine(client.open(url, method=method, data=body_json, content_type="application/json"), what)
            _assert_fine(client.open(url, method=method, data=query, content_type=form), what)
        else:
            _assert_fine(client.open(url, method=method, data=urlencode([("csrf_token", token), *pairs]),
                                     content_type=form), what)
            _assert_fine(client.open(f"{url}?{query}", method=method, data=urlencode([("csrf_token", token)]),
                                     content_type=form), what)
