"""Request logs never hold a private link or a person's search: tokens in paths and personal query values masked.

A calendar feed, a confirmation or reset link, a place voucher, an invitation or an offer is a secret
in its path; a people search carries a name or an email address in its query string. Access logs are
read by more people, and kept longer, than the database, so what they hold is masked where it is
written: in the development server's log (a filter on Werkzeug's logger, installed by the app) and in
gunicorn's access log (``MaskingGunicornLogger``, named by the shipped ``gunicorn.conf.py``).

* A path segment after a private-link prefix (``/calendar/``, ``/places/``, ``/verify/``...), and any
  segment that looks like a random token (20 or more URL-safe characters with a digit or capital), is
  shown as ``…``.
* A query value is kept only for the filters that say nothing about a person (``page``, ``area``,
  ``from``...); every other value is shown as ``…``, its name kept.
"""
from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl, quote

MASK = "…"
#: Path prefixes whose next segment is a secret (a token, a code).
PRIVATE_PREFIXES = ("calendar", "confirm-email", "reset-password", "places", "verify", "invitations", "offers",
                    "account-invitations")
#: Query parameters whose values describe no one (filters, paging, formats): shown as sent.
PLAIN_QUERY_NAMES = frozenset({
    "page", "per_page", "sort", "area", "type", "mode", "from", "to", "from_date", "to_date", "basis",
    "awareness", "group_by", "free_places", "status", "course_type", "fmt", "format", "online", "kind",
    "extra_per_month", "from_month", "entity_type", "action", "width",
})
_TOKEN_LIKE = re.compile(r"^(?=.*[0-9A-Z])[A-Za-z0-9_\-.=~]{20,}$")


def _mask_segment(segment: str, after: str) -> str:
    if not segment:
        return segment
    if after in PRIVATE_PREFIXES or _TOKEN_LIKE.match(segment):
        _, dot, extension = segment.rpartition(".")
        return MASK + (dot + extension if dot and extension in ("ics", "json", "pdf") else "")
    return segment


def mask_path(path: str) -> str:
    """A path with its query string, private parts masked."""
    path, question, query = path.partition("?")
    segments = path.split("/")
    masked = [segments[0]] + [_mask_segment(segment, segments[i]) for i, segment in enumerate(segments[1:])]
    text = "/".join(masked)
    if question:
        pairs = parse_qsl(query, keep_blank_values=True)
        text += "?" + "&".join(
            f"{quote(name, safe='')}={quote(value, safe='') if name in PLAIN_QUERY_NAMES else MASK}"
            for name, value in pairs)
    return text


def mask_request_line(line: str) -> str:
    """``GET /places/abc… HTTP/1.1`` with its target masked."""
    parts = line.split(" ")
    if len(parts) == 3:
        return f"{parts[0]} {mask_path(parts[1])} {parts[2]}"
    return mask_path(line) if line.startswith("/") else line


class MaskingFilter(logging.Filter):
    """Masks the request line in Werkzeug's (the development server's) request log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(mask_request_line(arg) if isinstance(arg, str) and " /" in arg else arg
                                for arg in record.args)
        return True


def install_werkzeug_filter() -> None:
    """Mask the development server's request log (once per process)."""
    logger = logging.getLogger("werkzeug")
    if not any(isinstance(f, MaskingFilter) for f in logger.filters):
        logger.addFilter(MaskingFilter())


def mask_access_atoms(atoms: dict) -> dict:
    """gunicorn's access-log atoms with paths, query strings, referrers and credentials masked."""
    for key in ("r",):
        if isinstance(atoms.get(key), str):
            atoms[key] = mask_request_line(atoms[key])
    for key in ("U", "{raw_uri}e", "{path_info}e", "{request_uri}e", "f", "{referer}i"):
        if isinstance(atoms.get(key), str) and atoms[key] != "-":
            atoms[key] = mask_path(atoms[key])
    for key in ("q", "{query_string}e"):
        if isinstance(atoms.get(key), str) and atoms[key]:
            atoms[key] = mask_path("?" + atoms[key])[1:]
    for key in ("{authorization}i", "{cookie}i", "{http_authorization}e", "{http_cookie}e"):
        if key in atoms:
            atoms[key] = MASK
    return atoms


try:  # gunicorn is how the app is served in production; the development server does without it
    from gunicorn.glogging import Logger as _GunicornLogger
except ImportError:  # pragma: no cover
    _GunicornLogger = None

if _GunicornLogger is not None:
    class MaskingGunicornLogger(_GunicornLogger):
        """gunicorn's logger, its access-log atoms masked (``logger_class`` in ``gunicorn.conf.py``)."""

        def atoms(self, resp, req, environ, request_time):
            return mask_access_atoms(super().atoms(resp, req, environ, request_time))
