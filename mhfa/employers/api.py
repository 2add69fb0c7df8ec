"""``GET /api/v1/employers/summary``: Workplace Wellbeing Commitment awards by level and by sector, with the
staff each group has had trained, its current first aiders and the share meeting the 5% ask (board and
coordinator tokens)."""
from __future__ import annotations

from flask import Blueprint, g, jsonify

from mhfa.api import add_paths, api_error, error_response, token_required
from mhfa.auth.models import Role
from mhfa.employers import summary


@token_required
def employers_summary():
    """The board's employer summary, as of today."""
    if not g.api_user.has_role(Role.BOARD, Role.COORDINATOR):
        return api_error("Employer figures are for the programme board and coordinators.", 403)
    return jsonify(summary.as_json(summary.summary()))


_GROUP = {
    "type": "object",
    "required": ["key", "label", "employers", "headcount", "staff_trained", "current_first_aiders",
                 "employers_with_headcount", "meeting_ask", "share_meeting_ask"],
    "additionalProperties": False,
    "properties": {
        "key": {"type": "string", "description": "An award level (gold, silver, bronze, foundation), 'none' "
                                                 "(no current verified award), a sector, or 'all'"},
        "label": {"type": "string"},
        "employers": {"type": "integer", "minimum": 0, "description": "Approved organisations in the group"},
        "headcount": {"type": "integer", "minimum": 0, "description": "Their staff, added up (where recorded)"},
        "staff_trained": {"type": "integer", "minimum": 0,
                          "description": "People who completed a course the organisation arranged (its places "
                                         "or its closed courses)"},
        "current_first_aiders": {"type": "integer", "minimum": 0,
                                 "description": "Of those, people whose certificate from it is not revoked and "
                                                "not expired today (certificates of attendance from awareness "
                                                "courses are not counted)"},
        "employers_with_headcount": {"type": "integer", "minimum": 0},
        "meeting_ask": {"type": "integer", "minimum": 0,
                        "description": "Organisations whose current first aiders are at least 5% of headcount "
                                       "(rounded up)"},
        "share_meeting_ask": {"type": ["number", "null"],
                              "description": "meeting_ask ÷ employers_with_headcount (null: none has a headcount)"},
    },
}

_OPENAPI = (
    {
        "/employers/summary": {
            "get": {
                "summary": "Employers by Workplace Wellbeing Commitment award level and by sector, against the 5% ask",
                "operationId": "getEmployersSummary",
                "security": [{"bearerAuth": []}],
                "responses": {
                    "200": {"description": "The employer summary, as of today",
                            "content": {"application/json": {
                                "schema": {"$ref": "#/components/schemas/EmployersSummary"}}}},
                    "401": error_response("No valid API token"),
                    "403": error_response("The token's user is not board or coordinator"),
                },
            }
        }
    },
    {
        "EmployersSummary": {
            "type": "object",
            "required": ["as_of", "ask_share", "total", "by_level", "by_sector"],
            "additionalProperties": False,
            "properties": {
                "as_of": {"type": "string", "format": "date"},
                "ask_share": {"type": "number", "description": "The action plan's ask: 0.05 (5% of staff)"},
                "total": {"$ref": "#/components/schemas/EmployerGroup"},
                "by_level": {"type": "array", "items": {"$ref": "#/components/schemas/EmployerGroup"},
                             "description": "Gold, Silver, Bronze, Foundation, then 'none'"},
                "by_sector": {"type": "array", "items": {"$ref": "#/components/schemas/EmployerGroup"}},
            },
        },
        "EmployerGroup": _GROUP,
    },
)


def register(api: Blueprint) -> None:
    """Add GET /employers/summary and its OpenAPI path to the app's API blueprint (called by the factory)."""
    api.add_url_rule("/employers/summary", view_func=employers_summary)
    add_paths(*_OPENAPI, api=api)
