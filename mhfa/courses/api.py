"""The course finder's JSON twin: ``GET /api/v1/courses`` and ``GET /api/v1/courses/<id>`` (public, read-only)."""
from __future__ import annotations
