"""One page of a long list, for the GOV.UK pagination component (templates/macros/pagination.html)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import sqlalchemy as sa
from flask import request, url_for

from mhfa.extensions import db


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(math.ceil(self.total / self.per_page), 1)

    @property
    def first(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.items else 0

    @property
    def last(self) -> int:
        return self.first + len(self.items) - 1 if self.items else 0

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    def numbers(self) -> list[int | None]:
        """Page numbers to link to: the first, the last, and the current one with its neighbours;
        None where numbers are left out."""
        wanted = sorted({1, self.pages, *range(max(self.page - 1, 1), min(self.page + 1, self.pages) + 1)})
        shown: list[int | None] = []
        for number in wanted:
            if shown and number - shown[-1] > 1:
                shown.append(None)
            shown.append(number)
        return shown


# No list has this many pages; a larger number in a link is read as a page past the end (empty).
MAX_PAGE = 10**9


def paginate(query: sa.Select, page: int, per_page: int) -> Page:
    """One page of ``query``'s rows (entities), with the total counted in SQL."""
    page = min(max(page, 1), MAX_PAGE)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery())) or 0
    offset = (page - 1) * per_page
    # A page past the end is empty (and its offset, however large, never reaches the database).
    items = list(db.session.scalars(query.limit(per_page).offset(offset)).unique()) if offset < total else []
    return Page(items=items, page=page, per_page=per_page, total=total)


def page_url(endpoint: str, **values):
    """For views: a function giving the address of page ``n`` of a list, keeping the request's filters."""
    args = {key: value for key, value in request.args.items() if key != "page"}
    return lambda n: url_for(endpoint, **values, **args, page=n)
