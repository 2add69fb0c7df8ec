"""Council areas and populations: reference data and lookups."""
from __future__ import annotations

import csv
import re
from pathlib import Path

import sqlalchemy as sa

from mhfa.areas.models import AgeGroup, AreaPopulation, CouncilArea, Membership
from mhfa.errors import DomainError
from mhfa.extensions import db

COUNCIL_AREAS_CSV = Path(__file__).parent / "data" / "council_areas.csv"
CENSUS_2021_SOURCE = "ONS Census 2021 usual residents (TS001), rounded to the nearest hundred"


def load_council_areas(path: Path = COUNCIL_AREAS_CSV) -> dict[str, int]:
    """Add the council areas and Census 2021 populations that are missing; leave existing ones."""
    existing = {area.gss_code: area for area in db.session.scalars(sa.select(CouncilArea))}
    added_areas = added_populations = 0
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            area = existing.get(row["gss_code"])
            if area is None:
                area = CouncilArea(
                    gss_code=row["gss_code"],
                    name=row["name"],
                    membership=Membership(row["wmca_membership"]),
                    in_target_region=row["in_target_region"] == "yes",
                )
                db.session.add(area)
                existing[area.gss_code] = area
                added_areas += 1
            if row["population_census_2021"]:
                known = any(p.year == 2021 and p.age_group is AgeGroup.ALL_AGES for p in area.populations)
                if not known:
                    area.populations.append(
                        AreaPopulation(
                            year=2021,
                            age_group=AgeGroup.ALL_AGES,
                            population=int(row["population_census_2021"]),
                            source=CENSUS_2021_SOURCE,
                        )
                    )
                    added_populations += 1
    db.session.flush()
    return {"council areas added": added_areas, "populations added": added_populations}


def all_areas() -> list[CouncilArea]:
    query = sa.select(CouncilArea).order_by(CouncilArea.in_target_region.desc(), CouncilArea.name)
    return list(db.session.scalars(query))


def find_area(code_or_name: str) -> CouncilArea | None:
    """An area by GSS code or by name (case-insensitive)."""
    text = code_or_name.strip()
    return db.session.scalar(
        sa.select(CouncilArea).where(
            sa.or_(CouncilArea.gss_code == text.upper(), sa.func.lower(CouncilArea.name) == text.lower())
        )
    )


def latest_populations(prefer_16_plus: bool = True) -> dict[int, int]:
    """Each area's most recent population: aged 16+ where known for that year, else all ages."""
    rows = db.session.execute(
        sa.select(
            AreaPopulation.council_area_id, AreaPopulation.year, AreaPopulation.age_group, AreaPopulation.population
        ).order_by(AreaPopulation.council_area_id, AreaPopulation.year)
    ).all()
    best: dict[int, tuple[int, int, int]] = {}
    for area_id, year, age_group, population in rows:
        rank = (year, 1 if (age_group is AgeGroup.AGED_16_PLUS) == prefer_16_plus else 0)
        if area_id not in best or rank > best[area_id][:2]:
            best[area_id] = (*rank, population)
    return {area_id: value[2] for area_id, value in best.items()}


# --- postcodes ---------------------------------------------------------------------------------

# A UK postcode as Royal Mail allocates them (spaces ignored): the outward code's area letters, its
# district, then the inward code (a digit and two letters that are never C, I, K, M, O or V).
_POSTCODE = re.compile(
    r"^(GIR0AA|[A-PR-UWYZ](\d{1,2}|[A-HK-Y]\d{1,2}|\d[A-HJKPSTUW]|[A-HK-Y]\d[ABEHMNPRV-Y])\d[ABD-HJLNP-UW-Z]{2})$"
)


def postcode_is_valid(text: str | None) -> bool:
    return bool(_POSTCODE.match(re.sub(r"\s+", "", text or "").upper()))


def normalise_postcode(text: str | None, *, required: bool = False) -> str | None:
    """``" b12nd "`` → ``"B1 2ND"``: capitals, one space before the inward code.

    Empty gives None (or "Enter the postcode" when ``required``); anything that is not a UK postcode
    is refused. Every postcode the service keeps (venues, people) goes through here.
    """
    compact = re.sub(r"\s+", "", text or "").upper()
    if not compact:
        if required:
            raise DomainError("Enter the postcode", field="postcode")
        return None
    if not _POSTCODE.match(compact):
        raise DomainError("Enter a real postcode, like B1 2ND", field="postcode")
    return f"{compact[:-3]} {compact[-3:]}"
