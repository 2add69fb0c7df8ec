"""``GET /api/v1/reach``: the kept reach figures for the board's analysts (board and coordinator tokens)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, g, jsonify, request

from mhfa.api import add_paths, api_error, error_response, token_required
from mhfa.areas.models import CouncilArea
from mhfa.auth.models import Role
from mhfa.courses.models import CourseType, FundingStream
from mhfa.extensions import db
from mhfa.reach import counted
from mhfa.reach.counts import Spend, kept_area_group_counts, kept_counts, kept_group_counts, kept_spend
from mhfa.reach.dashboard import areas_in_order, course_types, month_label
from mhfa.reach.dashboard import headline as position_of
from mhfa.reach.forms import parse_filters

GROUP_BY = ("council_area", "month", "course_type", "sector", "funding_stream")


def filter_parameters(basis: str = "Whose area counts: where they live, work or were trained",
                      first_month: str = "First month, YYYY-MM") -> list[dict]:
    """The OpenAPI query parameters of the dashboard's filters, shared by every figure endpoint."""
    month = {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}
    return [
        {"name": "basis", "in": "query", "description": basis,
         "schema": {"type": "string", "enum": ["home", "work", "delivery"], "default": "home"}},
        {"name": "awareness", "in": "query",
         "schema": {"type": "string", "enum": ["include", "exclude"], "default": "include"}},
        {"name": "from", "in": "query", "description": first_month, "schema": month},
        {"name": "to", "in": "query", "description": "Last month, YYYY-MM", "schema": month},
        {"name": "type", "in": "query", "description": "Course type codes (repeat)", "explode": True,
         "schema": {"type": "array", "items": {"type": "string"}}},
        {"name": "area", "in": "query", "description": "A council area's GSS code, or 'unknown'",
         "schema": {"type": "string"}},
    ]


@token_required
def reach():
    """People reached, grouped by council area, month, course type, employer sector or funding stream."""
    if not g.api_user.has_role(Role.BOARD, Role.COORDINATOR):
        return api_error("Reach figures are for the programme board and coordinators.", 403)
    group_by = (request.args.get("group_by") or "council_area").strip()
    if group_by not in GROUP_BY:
        return api_error(f"group_by must be one of {', '.join(GROUP_BY)}", 400)
    parsed = parse_filters(request.args, areas_in_order(), course_types())
    if parsed.errors:
        return api_error("; ".join(f"{name}: {message}" for name, message in parsed.errors.items()), 400)
    filters = parsed.filters
    position = position_of(filters)
    # The rows count the people first reached in the filters' months, up to the as-of date's month.
    window = filters.with_months(filters.start_month, counted.month_key(position.as_of))
    outside = parsed.include_outside
    scope = None if outside else counted.counted_keys()
    rows = []
    if group_by == "council_area":
        areas = {a.id: a for a in db.session.scalars(sa.select(CouncilArea))}
        for key, n in sorted(kept_counts("area", window, areas=scope).items()):
            area = areas.get(key)
            rows.append({"key": area.gss_code if area else "unknown", "label": area.name if area else "Unknown",
                         "in_target_region": bool(area and area.in_target_region),
                         "counted_toward_target": counted.is_counted(key), "people": n})
    elif group_by == "month":
        rows = [{"key": month_label(k), "label": month_label(k), "people": n}
                for k, n in sorted(kept_counts("month", window, areas=scope).items())]
    elif group_by == "course_type":
        types = {t.id: t for t in db.session.scalars(sa.select(CourseType))}
        rows = [{"key": types[k].code, "label": types[k].name, "people": n}
                for k, n in sorted(kept_counts("course_type", window, areas=scope).items()) if k in types]
    elif group_by == "sector":
        rows = [{"key": k or "unknown", "label": k or "Not known", "people": n}
                for k, n in sorted(_groups(window, outside)["sector"].items())]
    else:
        rows = _funding_rows(window, outside)
    return jsonify({
        "group_by": group_by,
        "basis": filters.basis,
        "include_awareness": filters.include_awareness,
        "from": parsed.values.get("from") or None,
        "to": parsed.values.get("to") or None,
        "course_types": parsed.values.get("type") or [],
        "area": parsed.values.get("area") or None,
        "include_outside": outside,
        "headline": headline_json(position),
        "total": sum(r["people"] for r in rows),
        "rows": rows,
    })


def headline_json(position) -> dict:
    """The figure set against the target and its position (``mhfa.reach.counted``), as the API gives it."""
    return {
        "counted_toward_target": position.counted,
        "outside_region": position.outside,
        "target_people": position.target,
        "required_to_date": position.required,
        "rate_needed_per_month": None if position.rate_needed is None else round(position.rate_needed, 1),
        "status": position.status,
        "as_of": position.as_of.isoformat(),
    }


def _groups(filters, include_outside: bool) -> dict[str, dict[str, int]]:
    if filters.area is not None:
        return kept_area_group_counts(filters, areas=None if include_outside else counted.counted_keys())
    return {"sector": kept_group_counts("sector", filters, include_outside=include_outside),
            "funding_stream": kept_group_counts("funding_stream", filters, include_outside=include_outside)}


def _funding_rows(filters, include_outside: bool) -> list[dict]:
    """One row per funding stream (and "unknown" for completions with no course or order): people and spend."""
    people = _groups(filters, include_outside)["funding_stream"]
    spend = kept_spend(filters)
    rows = []
    for stream in FundingStream:
        money = spend.get(stream.value, Spend())
        rows.append({"key": stream.value, "label": stream.label, "people": people.get(stream.value, 0),
                     "spend_pence": money.pence, "courses_without_cost": money.uncosted})
    if people.get(""):
        rows.append({"key": "unknown", "label": "Not recorded", "people": people[""], "spend_pence": None,
                     "courses_without_cost": 0})
    return rows


_OPENAPI = (
    {
        "/reach": {
            "get": {
                "summary": "People reached (unique people, counted once at their first counting course)",
                "operationId": "getReach",
                "security": [{"bearerAuth": []}],
                "parameters": [
                    {"name": "group_by", "in": "query", "schema": {"type": "string", "enum": list(GROUP_BY),
                                                                   "default": "council_area"}},
                    *filter_parameters(),
                    {"name": "include_outside", "in": "query",
                     "description": "true: the rows also count people outside the target region (then total is "
                                    "more than headline.counted_toward_target); default: only people counted "
                                    "toward the target",
                     "schema": {"type": "string", "enum": ["true", "false"], "default": "false"}},
                ],
                "responses": {
                    "200": {"description": "Reach figures",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Reach"}}}},
                    "400": error_response("A filter was not understood"),
                    "401": error_response("No valid API token"),
                    "403": error_response("The token's user is not board or coordinator"),
                },
            }
        }
    },
    {
        "Reach": {
            "type": "object",
            "required": ["group_by", "basis", "include_awareness", "include_outside", "headline", "total", "rows"],
            "properties": {
                "group_by": {"type": "string"}, "basis": {"type": "string"}, "include_awareness": {"type": "boolean"},
                "include_outside": {"type": "boolean"},
                "headline": {"$ref": "#/components/schemas/ReachHeadline"},
                "from": {"type": ["string", "null"]}, "to": {"type": ["string", "null"]},
                "course_types": {"type": "array", "items": {"type": "string"}},
                "area": {"type": ["string", "null"]},
                "total": {"type": "integer", "description": "The rows added up: equal to "
                          "headline.counted_toward_target (with no from month) unless include_outside=true"},
                "rows": {"type": "array", "items": {
                    "type": "object", "required": ["key", "label", "people"],
                    "properties": {"key": {"type": "string"}, "label": {"type": "string"},
                                   "people": {"type": "integer"}, "in_target_region": {"type": "boolean"},
                                   "counted_toward_target": {"type": "boolean"},
                                   "spend_pence": {
                                       "type": ["integer", "null"],
                                       "description": "funding_stream only: orders net invoiced less credit notes "
                                                      "plus recorded delivery costs of completed publicly funded "
                                                      "and other courses, in pence (null: not known)"},
                                   "courses_without_cost": {
                                       "type": "integer",
                                       "description": "funding_stream only: completed courses in the stream "
                                                      "with no delivery cost recorded (spend incomplete)"}}}},
            },
        },
        "ReachHeadline": {
            "type": "object",
            "description": "The one figure set against the target (people reached in the target region plus those "
                           "whose area is not known) and its position, under the same filters; with an area chosen, "
                           "against the area's pro-rata share of the target; with a to month, at that month's end",
            "required": ["counted_toward_target", "outside_region", "target_people", "required_to_date",
                         "rate_needed_per_month", "status", "as_of"],
            "additionalProperties": False,
            "properties": {
                "counted_toward_target": {"type": "integer", "minimum": 0},
                "outside_region": {"type": "integer", "minimum": 0,
                                   "description": "People reached in areas outside the target region (not counted)"},
                "target_people": {"type": ["integer", "null"],
                                  "description": "null: the chosen area has no share of the target"},
                "required_to_date": {"type": ["integer", "null"],
                                     "description": "Needed by as_of on the linear required path"},
                "rate_needed_per_month": {"type": ["number", "null"],
                                          "description": "People still to reach ÷ months left (30.4375 days a "
                                                         "month); null when there is no target or the end has "
                                                         "passed short of it"},
                "status": {"type": "string", "enum": ["green", "amber", "red", "none"]},
                "as_of": {"type": "string", "format": "date"},
            },
        },
    },
)


def register(api: Blueprint) -> None:
    """Add GET /reach and its OpenAPI path to the app's API blueprint (called by the factory)."""
    api.add_url_rule("/reach", view_func=reach)
    add_paths(*_OPENAPI, api=api)
