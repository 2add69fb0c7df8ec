"""Hostile input is refused at the door with a 4xx, so no view sees a value the database cannot hold.

* ``<int:…>`` in a URL matches only numbers that fit a primary key (a larger one is a 404).
* A NUL byte or a lone surrogate in the path, the query string or a form is a 400: no text column
  stores them (PostgreSQL refuses NUL outright) and no person types them.
* JSON bodies under ``/api/`` are parsed strictly before the view runs: not valid JSON, nested too
  deeply, or holding NUL/surrogates is a 400, and the body is capped at ``MHFA_API_MAX_BODY`` bytes.
* No body is read past its route's cap, before anything else looks at it: ``MHFA_FORM_MAX_BODY`` for a
  form, the upload's own cap for a route marked ``@body_limit(...)``, never above ``MAX_CONTENT_LENGTH``
  (a little above the largest import). Beyond it the answer is 413, a page saying so (JSON under /api/).
"""
from __future__ import annotations

from typing import Any

from flask import Flask, Request, request
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter
from wtforms.validators import NumberRange as _WTFormsNumberRange
from wtforms.validators import ValidationError

from mhfa.db_types import MAX_ID

MAX_JSON_DEPTH = 32


class BoundedIntegerConverter(IntegerConverter):
    """``<int:…>`` limited to what a primary key holds: larger numbers name no row, so the route does not match."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 (Werkzeug's argument name)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def unreadable(text: str) -> bool:
    """True for text holding a NUL byte or a lone surrogate (which UTF-8 cannot encode)."""
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def json_value_problem(value: Any) -> str | None:
    """Why a parsed JSON value is refused (too deep, or unreadable text), walked without recursion."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return f"JSON nested more than {MAX_JSON_DEPTH} levels deep"
        if isinstance(item, str):
            if unreadable(item):
                return "JSON text must not hold NUL characters or unpaired surrogates"
        elif isinstance(item, dict):
            for key, child in item.items():
                if unreadable(key):
                    return "JSON text must not hold NUL characters or unpaired surrogates"
                stack.append((child, depth + 1))
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return None


class GuardedRequest(Request):
    """A request whose JSON body is parsed once, strictly: a bad body is a 400, never "no body"."""

    def on_json_loading_failed(self, e: ValueError | None) -> Any:
        raise BadRequest("The body is not valid JSON.")

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        try:
            value = super().get_json(force=force, silent=silent, cache=cache)
        except RecursionError as error:
            if silent:
                return None
            raise BadRequest(f"JSON nested more than {MAX_JSON_DEPTH} levels deep") from error
        problem = json_value_problem(value) if value is not None else None
        if problem:
            if silent:
                return None
            raise BadRequest(problem)
        return value


def _refuse_unreadable_input() -> None:
    texts = [request.path, *(request.view_args or {}).values()]
    for source in (request.args, request.form if request.mimetype in _FORM_TYPES else None):
        if source:
            for key, values in source.lists():
                texts.append(key)
                texts.extend(values)
    for text in texts:
        if isinstance(text, str) and unreadable(text):
            raise BadRequest("The request holds a NUL character or an unpaired surrogate, which no field accepts.")


_FORM_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}


def body_limit(max_bytes: int | None = None):
    """Mark a route that takes a file upload: its body may be ``max_bytes`` long (None: ``MAX_CONTENT_LENGTH``)."""

    def mark(view):
        view.max_body = max_bytes if max_bytes is not None else "upload"
        return view

    return mark


def _cap_body() -> None:
    """Every route reads at most its own cap (werkzeug answers 413 beyond it, without reading the rest)."""
    from flask import current_app

    config = current_app.config
    view = current_app.view_functions.get(request.endpoint or "")
    cap = getattr(view, "max_body", None)
    if request.path.startswith("/api/"):
        cap = config["MHFA_API_MAX_BODY"]
    elif cap == "upload":
        cap = config["MAX_CONTENT_LENGTH"]
    elif cap is None:
        cap = config["MHFA_FORM_MAX_BODY"]
    request.max_content_length = min(cap, config["MAX_CONTENT_LENGTH"] or cap)


def _parse_api_body() -> None:
    """Under /api/: refuse a body that claims to be JSON but is not a valid JSON value."""
    if not request.path.startswith("/api/"):
        return
    if request.method in {"POST", "PUT", "PATCH", "DELETE"} and request.is_json and request.get_data(cache=True):
        request.get_json()  # raises BadRequest for malformed, too-deep or unreadable JSON


def register_input_guards(app: Flask) -> None:
    """Install the guards; call before any blueprint registers its routes (the converter applies to them)."""
    app.url_map.converters["int"] = BoundedIntegerConverter
    app.request_class = GuardedRequest
    app.before_request_funcs.setdefault(None, []).insert(0, _parse_api_body)
    app.before_request_funcs[None].insert(0, _refuse_unreadable_input)
    app.before_request_funcs[None].insert(0, _cap_body)  # first: nothing reads a body before its cap is set
    app.after_request(_no_store_for_personal_pages)


def _no_store_for_personal_pages(response):
    """Personal pages are never kept by a browser or proxy cache: anything a signed-in user sees, any
    page reached by a private token, and any API answer to a token holder."""
    from flask import current_app, session

    view = current_app.view_functions.get(request.endpoint or "")
    access = getattr(view, "access", "public")
    if session.get("_user_id") or access != "public" or request.headers.get("Authorization"):
        response.headers["Cache-Control"] = "no-store"
        response.headers.setdefault("Pragma", "no-cache")
    return response


class NumberRange(_WTFormsNumberRange):
    """WTForms' ``NumberRange`` that refuses integers too large for a float (WTForms' own raises
    OverflowError on them, a 500), with the field's own message."""

    def __call__(self, form, field):
        data = field.data
        if isinstance(data, int) and not isinstance(data, bool) and abs(data) > 2**63:
            message = self.message or field.gettext("Number must be between %(min)s and %(max)s.")
            raise ValidationError(message % {"min": self.min, "max": self.max} if "%(" in message else message)
        super().__call__(form, field)
