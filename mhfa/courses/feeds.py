"""Private calendar feeds: each behind a random token its owner can reset (the old address then stops working).
"""
from __future__ import annotations

import hashlib
import secrets

import sqlalchemy as sa

from mhfa.areas.models import CouncilArea
from mhfa.audit import services as audit
from mhfa.auth.models import User
from mhfa.courses.models import (
    CalendarFeed,
    FeedKind,
)
from mhfa.errors import DomainError, NotFound
from mhfa.extensions import db


def new_feed_token() -> str:
    return secrets.token_urlsafe(32)


def feed_token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_for(user: User, kind: FeedKind, council_area: CouncilArea | None = None) -> CalendarFeed | None:
    query = sa.select(CalendarFeed).where(CalendarFeed.owner_user_id == user.id, CalendarFeed.kind == kind)
    if kind is FeedKind.AREA:
        query = query.where(CalendarFeed.council_area_id == council_area.id)
    return db.session.scalar(query.order_by(CalendarFeed.id).limit(1))


def reset_feed(user: User, kind: FeedKind, council_area: CouncilArea | None = None) -> CalendarFeed:
    """The user's feed of this kind with a new token (made if there is none): the old link stops working."""
    if kind is FeedKind.AREA and council_area is None:
        raise DomainError("Choose a council area", field="council_area")
    feed = feed_for(user, kind, council_area)
    if feed is None:
        feed = CalendarFeed(owner_user_id=user.id, kind=kind,
                            council_area_id=council_area.id if kind is FeedKind.AREA else None)
        db.session.add(feed)
    feed.token = new_feed_token()
    feed.token_hash = feed_token_digest(feed.token)
    db.session.flush()
    audit.record("calendar_feed.reset", feed, user, kind=kind.value)
    return feed


def area_feeds(user: User) -> dict[int, CalendarFeed]:
    rows = db.session.scalars(
        sa.select(CalendarFeed).where(CalendarFeed.owner_user_id == user.id, CalendarFeed.kind == FeedKind.AREA)
    )
    return {feed.council_area_id: feed for feed in rows}


def feed_by_token(token: str) -> CalendarFeed:
    feed = db.session.scalar(
        sa.select(CalendarFeed).where(CalendarFeed.token_hash == feed_token_digest(token))) if token else None
    if feed is None:
        raise NotFound("There is no such calendar.")
    return feed
