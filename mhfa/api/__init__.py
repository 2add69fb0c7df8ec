"""The JSON API at /api/v1: the same services as the web pages, for scripts and HR systems.

Routes that act for somebody take a personal API token (``Authorization: Bearer …``) and nothing
else: a browser's session cookie never authorises an API call, so the API needs no CSRF token.
The factory builds the blueprint (``create_blueprint``) and hands it to each area's ``register(api)``
in its ``api.py``, which adds that area's routes and its OpenAPI paths (``add_paths``): nothing is
added by importing a module, and every app gets its own blueprint and document.
"""
from __future__ import annotations

import copy
from functools import wraps

from flask import Blueprint, current_app, g, jsonify, request

from mhfa.auth.access import public
from mhfa.auth.services import user_for_api_token
from mhfa.extensions import csrf

#: The document every app's API starts from (its own copy gets each area's paths).
OPENAPI: dict = {
    "openapi": "3.1.0",
    "info": {
        "title": "MHFA Reach API",
        "version": "1.0.0",
        "description": "Courses, bookings and reach of the MHFA Reach programme. Times are ISO 8601 with offset.",
    },
    "servers": [{"url": "/api/v1"}],
    "components": {
        "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "description": "Personal API token"}},
        "schemas": {
            "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
        },
    },
    "paths": {},
}


def create_blueprint() -> Blueprint:
    """The ``/api/v1`` blueprint of one app, with its OpenAPI document, before the areas register on it."""
    api = Blueprint("api", __name__, url_prefix="/api/v1")
    csrf.exempt(api)
    api.openapi = copy.deepcopy(OPENAPI)
    api.add_url_rule("/openapi.json", view_func=openapi)
    return api


def add_paths(paths: dict, schemas: dict | None = None, *, api: Blueprint | None = None) -> None:
    """An area's contribution to the OpenAPI document: of the blueprint ``api`` it registers on (else the
    document every app starts from)."""
    document = api.openapi if api is not None else OPENAPI
    document["paths"].update(paths)
    document["components"]["schemas"].update(schemas or {})


def error_response(description: str) -> dict:
    """An OpenAPI response whose body is the ``Error`` schema (``{"error": "…"}``), as :func:`api_error` answers."""
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def api_error(message: str, status: int):
    return jsonify({"error": message}), status


def token_required(view):
    """Callers must send a valid personal API token; the user is then ``g.api_user``."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        user = user_for_api_token(token.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            response = jsonify({"error": "Send a valid personal API token as 'Authorization: Bearer <token>'."})
            response.headers["WWW-Authenticate"] = 'Bearer realm="mhfa-reach"'
            return response, 401
        g.api_user = user
        return view(*args, **kwargs)

    wrapped.access = "api_token"
    return wrapped


@public
def openapi():
    """The OpenAPI description of this API."""
    document = dict(current_app.blueprints["api"].openapi)
    document["servers"] = [{"url": current_app.config["MHFA_BASE_URL"] + "/api/v1"}]
    return jsonify(document)
