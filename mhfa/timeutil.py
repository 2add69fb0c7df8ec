"""Times are stored in UTC and shown in Europe/London."""
from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_london(moment: datetime) -> datetime:
    return moment.astimezone(LONDON)


def london_to_utc(local: datetime) -> datetime:
    """A wall-clock time in London (naive) as an aware UTC datetime."""
    return local.replace(tzinfo=LONDON).astimezone(UTC)


def london_today() -> date:
    return utcnow().astimezone(LONDON).date()


def format_london(moment: datetime | None, fmt: str = "%a %-d %b %Y, %-I:%M%p") -> str:
    if moment is None:
        return ""
    text = to_london(moment).strftime(fmt)
    return text.replace("AM", "am").replace("PM", "pm")
