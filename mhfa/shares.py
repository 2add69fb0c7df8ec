"""Shares of a whole (a response rate, a no-show rate), each rounded once from the exact fraction, half up.

A :class:`Share` is a float holding the exact fraction rounded to 4 decimals, as data gives it (CSV, Excel, the
API), and keeps the two counts it came from, so a page's percentage (:func:`percent`, one decimal) is rounded
from the exact fraction too, never from the 4-decimal figure (14 of 17 is 82.4%, not 82.3% from 0.8235).
"""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

DATA_PLACES = 4


def half_up(value: Fraction, places: int) -> Decimal:
    """``value`` rounded once to ``places`` decimals, a half away from zero."""
    scaled = abs(value) * 10 ** places
    whole = (2 * scaled.numerator + scaled.denominator) // (2 * scaled.denominator)
    return (Decimal(-whole if value < 0 else whole)).scaleb(-places)


class Share(float):
    """``part`` of ``whole`` (not zero): the exact fraction rounded once to 4 decimals, with both counts kept."""

    part: int
    whole: int

    def __new__(cls, part: int, whole: int) -> Share:
        share = super().__new__(cls, float(half_up(Fraction(part, whole), DATA_PLACES)))
        share.part, share.whole = part, whole
        return share

    def __reduce__(self):
        return (Share, (self.part, self.whole))

    @classmethod
    def of(cls, part: int, whole: int) -> Share | None:
        """The share, or None when the whole is 0."""
        return cls(part, whole) if whole else None

    @property
    def exact(self) -> Fraction:
        return Fraction(self.part, self.whole)


def percent(value, whole: int | None = None, places: int = 1) -> str:
    """A percentage to show on a page, rounded once, half up, from the exact fraction: a :class:`Share`, or a
    part with its ``whole`` (``{{ part|percent(whole) }}``); any other number (a share kept at 4 decimals, as a
    release froze it) from its decimal value."""
    if whole is not None:
        exact = Fraction(value, whole)
    elif isinstance(value, Share):
        exact = value.exact
    else:
        exact = Fraction(str(value))
    return f"{half_up(exact * 100, places)}%"
