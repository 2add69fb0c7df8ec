"""The booking API's request and response bodies, as pydantic models.

The view validates with these models and the OpenAPI document's components are generated from them
(``model_json_schema``), so what the docs say and what the API does cannot drift apart.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mhfa.bookings.models import BookingSource, BookingStatus

REF_TEMPLATE = "#/components/schemas/{model}"
_MOMENT = {"format": "date-time"}


class BookingRequest(BaseModel):
    """What a caller may send when booking; an empty body books at the course's own price."""

    model_config = ConfigDict(extra="forbid", strict=True, title="BookingRequest")

    voucher_code: str | None = Field(default=None, min_length=1, max_length=64,
                                     description="Employer place voucher (for a closed course, or a paid place)")


class BookedCourse(BaseModel):
    model_config = ConfigDict(title="BookedCourse")

    id: int
    course_type: str
    name: str
    status: str
    starts_at: str | None = Field(json_schema_extra=_MOMENT)
    ends_at: str | None = Field(json_schema_extra=_MOMENT)
    delivery_mode: str
    venue: str | None


class BookingResponse(BaseModel):
    """One booking as the API answers it (times ISO 8601 with the London offset)."""

    model_config = ConfigDict(title="Booking")

    id: int
    status: Literal[tuple(s.value for s in BookingStatus)]  # type: ignore[valid-type]
    waiting_list_position: int | None = Field(description="1 = next to get a place")
    source: Literal[tuple(s.value for s in BookingSource)]  # type: ignore[valid-type]
    course: BookedCourse
    created_at: str | None = Field(json_schema_extra=_MOMENT)
    confirmed_at: str | None = Field(json_schema_extra=_MOMENT)
    waitlisted_at: str | None = Field(json_schema_extra=_MOMENT)
    cancelled_at: str | None = Field(json_schema_extra=_MOMENT)
    cancellable_online_until: str | None = Field(json_schema_extra=_MOMENT)


def first_problem(error: ValidationError) -> str:
    """The first validation problem as one sentence for the API's ``error`` field."""
    problem = error.errors()[0]
    where = ".".join(str(part) for part in problem["loc"]) or "body"
    if problem["type"] == "extra_forbidden":
        return f"{where} is not a field this call accepts (send voucher_code, or no body)"
    return f"{where}: {problem['msg']}"


def component_schemas(*models: type[BaseModel]) -> dict:
    """OpenAPI components for ``models`` and every model they use, referenced as #/components/schemas/…."""
    schemas: dict = {}
    for model in models:
        schema = model.model_json_schema(ref_template=REF_TEMPLATE)
        schemas.update(schema.pop("$defs", {}))
        schemas[schema["title"]] = schema
    return schemas
