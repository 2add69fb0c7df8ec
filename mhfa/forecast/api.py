"""The latest forecast in the JSON API: ``GET /api/v1/forecast/latest`` (API token, board and coordinators)."""
from __future__ import annotations

from flask import Blueprint, g, jsonify

from mhfa.api import add_paths, api_error, error_response, token_required
from mhfa.auth.models import Role
from mhfa.forecast.runs import latest_run
from mhfa.forecast.services import settings_changed_since

READERS = (Role.BOARD, Role.COORDINATOR)


def run_json(run) -> dict:
    summary = run.summary or {}
    changed = settings_changed_since(run)
    return {
        "id": run.id,
        "created_at": run.created_at.isoformat(),
        "data_through": run.data_through.isoformat(),
        "target_people": run.target_people,
        "target_date": run.target_date.isoformat(),
        "target": {"people": run.target_people,
                   "start": run.target_start.isoformat() if run.target_start else None,
                   "deadline": run.target_date.isoformat()},
        "up_to_date": not changed,
        "settings_changed": changed,
        "method": run.method,
        "probability_of_target": run.probability_of_target,
        "projected_at_target_date": run.projected_at_target_date,
        "lower_80": run.lower_80,
        "upper_80": run.upper_80,
        "summary": summary,
    }


@token_required
def latest_forecast():
    """The most recent stored forecast run, with its summary and monthly bands."""
    if not g.api_user.has_role(*READERS):
        return api_error("The forecast is for the programme board and coordinators.", 403)
    run = latest_run()
    if run is None:
        return api_error("No forecast has been run yet: a coordinator or board member can run it from "
                         "/forecast/method.", 404)
    return jsonify(run_json(run))


_BAND = {
    "type": "object",
    "required": ["month", "median", "lower_80", "upper_80", "lower_95", "upper_95"],
    "properties": {"month": {"type": "string", "description": "YYYY-MM"},
                   **{key: {"type": "integer"} for key in ("median", "lower_80", "upper_80", "lower_95", "upper_95")}},
}

_OPENAPI = (
    {
        "/forecast/latest": {
            "get": {
                "summary": "The latest forecast of reach against the target",
                "description": "Probability of reaching the target by the deadline, projected reach at the deadline "
                               "with 80% interval, the chosen model and its backtest scores, council areas, and "
                               "the monthly cumulative bands (summary.bands), the target it measured against (target: "
                               "the programme settings when it ran) and whether those settings have changed since "
                               "(up_to_date, settings_changed). Board and coordinator tokens only.",
                "security": [{"bearerAuth": []}],
                "responses": {
                    "200": {"description": "The latest run", "content": {"application/json": {"schema": {
                        "$ref": "#/components/schemas/ForecastRun"}}}},
                    "401": error_response("No valid personal API token"),
                    "403": error_response("The token holder is neither board nor coordinator"),
                    "404": error_response("No forecast run yet"),
                },
            }
        }
    },
    {
        "ForecastBand": _BAND,
        "ForecastRun": {
            "type": "object",
            "required": ["id", "data_through", "target_people", "target_date", "target", "up_to_date",
                         "settings_changed", "method", "projected_at_target_date", "summary"],
            "properties": {
                "id": {"type": "integer"},
                "created_at": {"type": "string", "format": "date-time"},
                "data_through": {"type": "string", "format": "date"},
                "target_people": {"type": "integer"},
                "target_date": {"type": "string", "format": "date"},
                "target": {"type": "object", "required": ["people", "start", "deadline"],
                           "description": "The programme's target, start and deadline this run measured against",
                           "properties": {"people": {"type": "integer"},
                                          "start": {"type": ["string", "null"], "format": "date"},
                                          "deadline": {"type": "string", "format": "date"}}},
                "up_to_date": {"type": "boolean",
                               "description": "False when the programme settings have changed since this run"},
                "settings_changed": {"type": "array", "items": {"type": "string"},
                                     "description": "Which settings changed since this run, in words"},
                "method": {"type": "string"},
                "probability_of_target": {"type": ["number", "null"]},
                "projected_at_target_date": {"type": "integer"},
                "lower_80": {"type": ["integer", "null"]},
                "upper_80": {"type": ["integer", "null"]},
                "summary": {"type": "object", "properties": {
                    "bands": {"type": "array", "items": {"$ref": "#/components/schemas/ForecastBand"}},
                    "coverage": {"type": "object", "description": "Share of past outcomes the chosen model's "
                                 "calibrated 80% and 95% intervals held in the rolling-origin backtest",
                                 "properties": {"coverage_80": {"type": ["number", "null"]},
                                                "coverage_95": {"type": ["number", "null"]}}}}},
            },
        },
    },
)


def register(api: Blueprint) -> None:
    """Add the forecast route and its OpenAPI path to the app's API blueprint (called by the factory)."""
    api.add_url_rule("/forecast/latest", view_func=latest_forecast)
    add_paths(*_OPENAPI, api=api)
