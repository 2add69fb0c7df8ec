"""``GET /api/v1/outcomes``: the funnel, evaluation figures and current first aiders (board and coordinator tokens)."""
from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from mhfa.api import add_paths, api_error, token_required
from mhfa.auth.models import Role
from mhfa.outcomes import board, firstaiders
from mhfa.outcomes.funnel import STEPS, funnel
from mhfa.reach.api import filter_parameters
from mhfa.reach.dashboard import FEWER_THAN_10, areas_in_order, course_types, month_label
from mhfa.reach.forms import parse_filters


def _mean(mean: board.Mean) -> dict | None:
    if not mean.n:
        return None
    interval = mean.interval
    return {"n": mean.n, "mean": None if mean.mean is None else round(mean.mean, 4),
            "ci95": None if interval is None else [round(interval[0], 4), round(interval[1], 4)]}


def _count(shown: int | str) -> int | None:
    """A count as the API gives it: null when it is not shown (1 to 9)."""
    return shown if isinstance(shown, int) else None


@token_required
def outcomes():
    """The funnel (by course type and by month), the evaluation summary and current first aiders today."""
    if not g.api_user.has_role(Role.BOARD, Role.COORDINATOR):
        return api_error("Outcome figures are for the programme board and coordinators.", 403)
    parsed = parse_filters(request.args, areas_in_order(), course_types())
    if parsed.errors:
        return api_error("; ".join(f"{name}: {message}" for name, message in parsed.errors.items()), 400)
    filters = parsed.filters
    result = board.shown_funnels(funnel(filters))
    summary = board.summary(filters)
    shown = summary.answered >= board.SHOWN_FROM
    return jsonify({
        "from": parsed.values.get("from") or None, "to": parsed.values.get("to") or None,
        "area": parsed.values.get("area") or None, "basis": filters.basis,
        "include_awareness": filters.include_awareness, "as_of": result.as_of.isoformat(),
        "funnel": {
            "total": result.total.as_dict(),
            "by_course_type": [{"key": t.code, "label": t.name, **s.as_dict()} for t, s in result.by_course_type],
            "by_month": [{"key": month_label(k), **s.as_dict()} for k, s in result.by_month],
        },
        "evaluation": {
            "invited": _count(summary.shown_invited), "answered": _count(summary.shown_answered),
            "response_rate": summary.shown_response_rate, "suppressed": not shown,
            "confidence_before": _mean(summary.shown_mean("confidence_before")) if shown else None,
            "confidence_now": _mean(summary.shown_mean("confidence_now")) if shown else None,
            "good_or_very_good": summary.shown_good_share if shown else None,
        },
        "follow_up": {
            "sent": _count(summary.shown_follow_ups), "answered": _count(summary.shown_follow_ups_answered),
            "response_rate": summary.shown_follow_up_response_rate,
            "suppressed": not isinstance(summary.shown_follow_ups_answered, int),
            "used_skills_rate": summary.shown_use_rate,
        },
        "current_first_aiders": firstaiders.kept_current_total(),
        "current_first_aiders_by_area": _first_aiders_by_area(filters.basis),
    })


def _first_aiders_by_area(basis: str) -> dict:
    """Each area's current first aiders as the outcomes page shows them (its first aiders table)."""
    work = basis == "work"
    return {"basis": "work" if work else "home", "areas": [
        {"key": row.gss_code or "unknown", "label": row.name, "current": _count(mark),
         "suppressed": None if isinstance(mark, int) else mark,
         "per_1000": None if work or not isinstance(mark, int) else row.per_1000,
         "one_in": None if work or not isinstance(mark, int) else row.one_in}
        for row, mark in board.shown_first_aiders(basis)]}


_REASONS = [FEWER_THAN_10, "hidden"]
_STEP = {"type": "object", "required": [*STEPS, "suppressed"], "properties": {
    **{name: {"type": ["integer", "null"],
              "description": "Places; null when not shown (the reason is under suppressed)"} for name in STEPS},
    **{name: {"type": ["number", "null"], "description": "null when either of its counts is not shown"}
       for name in ("no_show_rate", "completion_rate", "certified_rate", "current_rate")},
    "suppressed": {
        "type": "object", "description": board.FUNNEL_RULE + " Each step not shown, with why: the same text the "
                                                             "outcomes page and its downloads show in its place.",
        "propertyNames": {"enum": list(STEPS)},
        "additionalProperties": {"type": "string", "enum": _REASONS}}}}
_MEAN = {"type": ["object", "null"], "description": "null below 10 answers to the question",
         "properties": {"n": {"type": "integer"}, "mean": {"type": ["number", "null"]},
                        "ci95": {"type": ["array", "null"], "items": {"type": "number"}}}}
_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
_OPENAPI = (
    {
        "/outcomes": {
            "get": {
                "summary": "What the training did: the funnel from booked to certified, evaluations, follow-ups and "
                           "current first aiders",
                "operationId": "getOutcomes",
                "security": [{"bearerAuth": []}],
                "parameters": filter_parameters("Whose area the funnel's area filter reads",
                                                "First month, YYYY-MM (the course's start month)"),
                "responses": {
                    "200": {"description": "Outcome figures", "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Outcomes"}}}},
                    "400": {"description": "A filter was not understood", "content": _ERROR},
                    "401": {"description": "No valid API token", "content": _ERROR},
                    "403": {"description": "The token's user is not board or coordinator", "content": _ERROR},
                },
            }
        }
    },
    {
        "Outcomes": {
            "type": "object",
            "required": ["funnel", "evaluation", "follow_up", "current_first_aiders", "current_first_aiders_by_area",
                         "as_of"],
            "properties": {
                "from": {"type": ["string", "null"]}, "to": {"type": ["string", "null"]},
                "area": {"type": ["string", "null"]}, "basis": {"type": "string"},
                "include_awareness": {"type": "boolean"}, "as_of": {"type": "string", "format": "date"},
                "funnel": {"type": "object", "properties": {
                    "total": _STEP,
                    "by_course_type": {"type": "array", "items": {"allOf": [_STEP, {"type": "object", "properties": {
                        "key": {"type": "string"}, "label": {"type": "string"}}}]}},
                    "by_month": {"type": "array", "items": {"allOf": [_STEP, {"type": "object", "properties": {
                        "key": {"type": "string"}}}]}}}},
                "evaluation": {"type": "object", "properties": {
                    "invited": {"type": ["integer", "null"], "description": "null: 1 to 9 (not shown)"},
                    "answered": {"type": ["integer", "null"], "description": "null: 1 to 9 (not shown)"},
                    "response_rate": {"type": ["number", "null"], "description": "null when answered is"},
                    "suppressed": {"type": "boolean",
                                   "description": "true: fewer than 10 answered, so no figure from the answers"},
                    "confidence_before": _MEAN, "confidence_now": _MEAN,
                    "good_or_very_good": {"type": ["number", "null"]}}},
                "follow_up": {"type": "object", "properties": {
                    "sent": {"type": ["integer", "null"], "description": "null: 1 to 9 (not shown)"},
                    "answered": {"type": ["integer", "null"], "description": "null: 1 to 9 (not shown)"},
                    "response_rate": {"type": ["number", "null"], "description": "null when answered is"},
                    "suppressed": {"type": "boolean", "description": "true: 1 to 9 answered"},
                    "used_skills_rate": {"type": ["number", "null"],
                                         "description": "null below 10 answers to the question"}}},
                "current_first_aiders": {"type": "integer",
                                         "description": "People holding a certificate issued, not revoked and not "
                                                        "expired today; certificates of attendance from awareness "
                                                        "courses are not counted"},
                "current_first_aiders_by_area": {
                    "type": "object", "description": "Current first aiders today by council area, as the outcomes "
                                                     "page's table shows them: counted where they work with basis "
                                                     "work, else where they live; no rate per 1,000 by workplace",
                    "properties": {
                        "basis": {"type": "string", "enum": ["home", "work"]},
                        "areas": {"type": "array", "items": {"type": "object", "properties": {
                            "key": {"type": "string", "description": "GSS code, or unknown"},
                            "label": {"type": "string"},
                            "current": {"type": ["integer", "null"],
                                        "description": "null when not shown (the reason is under suppressed)"},
                            "suppressed": {"type": ["string", "null"], "enum": [*_REASONS, None]},
                            "per_1000": {"type": ["number", "null"],
                                         "description": "Per 1,000 of the population (aged 16 and over where "
                                                        "published)"},
                            "one_in": {"type": ["integer", "null"],
                                       "description": "1 in this many of the population"}}}}}},
            },
        }
    },
)


def register(api: Blueprint) -> None:
    """Add GET /outcomes and its OpenAPI path to the app's API blueprint (called by the factory)."""
    api.add_url_rule("/outcomes", view_func=outcomes)
    add_paths(*_OPENAPI, api=api)
