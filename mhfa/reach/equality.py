"""The equality tables' shares: each answer's share of the people reached who answered (hidden where a
share would give a hidden count away), beside its share of the target region's residents aged 16 and
over, from the published figures loaded for every area of the region."""
from __future__ import annotations

import sqlalchemy as sa

from mhfa.areas.models import EqualityPopulation
from mhfa.extensions import db
from mhfa.reach import counted


def reached_shares(counts: list[int], cells: list, answered: list[int]) -> list:
    """Each answered cell's share (%) of the people who answered, or "hidden" where shares would give a
    hidden count away: visible shares reveal the answered total, so they are shown only when neither the
    answered cells nor the others hold exactly one hidden cell (else that cell is a subtraction away)."""
    hidden = [not isinstance(cell, int) for cell in cells]
    others = [i for i in range(len(counts)) if i not in answered]
    base = sum(counts[i] for i in answered)
    if sum(hidden[i] for i in answered) == 1 or sum(hidden[i] for i in others) == 1:
        return ["hidden" if i in answered else "" for i in range(len(counts))]
    return [("hidden" if hidden[i] else round(100 * counts[i] / base, 1)) if i in answered and base else
            (None if i in answered else "") for i in range(len(counts))]


def _region_equality_population() -> dict[str, tuple[int, dict[str, int], str]]:
    """dimension → (year, value → residents, source): the latest year with a figure for every target-region area."""
    region = counted.region()
    rows = db.session.execute(sa.select(EqualityPopulation.council_area_id, EqualityPopulation.dimension,
                                        EqualityPopulation.value, EqualityPopulation.year,
                                        EqualityPopulation.population, EqualityPopulation.source)).all()
    by_year: dict[tuple[str, int], dict] = {}
    for area_id, dimension, value, year, population, source in rows:
        if area_id not in region:
            continue
        entry = by_year.setdefault((dimension, year), {"areas": set(), "values": {}, "sources": set()})
        entry["areas"].add(area_id)
        entry["values"][value] = entry["values"].get(value, 0) + population
        entry["sources"].add(source)
    out: dict[str, tuple[int, dict[str, int], str]] = {}
    for (dimension, year), entry in sorted(by_year.items()):
        if region and entry["areas"] == region:
            out[dimension] = (year, entry["values"], "; ".join(sorted(entry["sources"])))
    return out


def region_equality_population() -> dict[str, tuple[int, dict[str, int], str]]:
    return counted.memo("equality_population", _region_equality_population)


def population_shares(dimension: str) -> dict[str, float] | None:
    """value → share (%) of the target region's residents aged 16+, or None when no figure is known."""
    known = region_equality_population().get(dimension)
    if known is None:
        return None
    total = sum(known[1].values())
    return {value: round(100 * n / total, 1) for value, n in known[1].items()} if total else None


def population_source(dimension: str) -> str:
    known = region_equality_population().get(dimension)
    if known is None:
        return ("Population share: not known (no published figure for every area of the target region is "
                "loaded).")
    return f"Population share: {known[2]}, {known[0]}, the target region's areas added together."
