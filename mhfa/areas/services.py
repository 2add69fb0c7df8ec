"""Council areas and populations: reference data and lookups."""
from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import sqlalchemy as sa

from mhfa.areas.models import AgeGroup, AreaPopulation, CouncilArea, EqualityPopulation, Membership
from mhfa.errors import DomainError
from mhfa.extensions import db

COUNCIL_AREAS_CSV = Path(__file__).parent / "data" / "council_areas.csv"
EQUALITY_POPULATION_CSV = Path(__file__).parent / "data" / "equality_population.csv"
EQUALITY_COLUMNS = ("gss_code", "dimension", "value", "year", "population", "source")
#: The answer codes a population figure can be given for, as the people area stores them.
EQUALITY_VALUES = {
    "age_band": {"16-24", "25-34", "35-44", "45-54", "55-64", "65+"},
    "sex": {"female", "male"},
    "ethnic_group": {"asian", "black", "mixed", "white", "other"},
    "disability": {"yes", "no"},
}
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


def load_equality_populations(path: Path = EQUALITY_POPULATION_CSV) -> dict[str, int]:
    """Add published population figures by equality group (aged 16+) that are missing; leave existing ones.

    Every row is checked first (a known area, dimension and answer code, a year, a whole number and a
    source); any problem refuses the whole file with one ``line N: reason`` per bad row.
    """
    areas = {area.gss_code: area.id for area in db.session.scalars(sa.select(CouncilArea))}
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in EQUALITY_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise DomainError(f"{path.name}: missing column(s) {', '.join(missing)}")
        rows, problems = [], []
        for line, row in enumerate(reader, start=2):
            problem = _equality_problem(row, areas)
            if problem:
                problems.append(f"line {line}: {problem}")
            else:
                rows.append(row)
    if problems:
        raise DomainError("; ".join(problems))
    existing = set(db.session.execute(sa.select(EqualityPopulation.council_area_id, EqualityPopulation.dimension,
                                                EqualityPopulation.value, EqualityPopulation.year)).all())
    added = 0
    for row in rows:
        key = (areas[row["gss_code"].strip()], row["dimension"].strip(), row["value"].strip(), int(row["year"]))
        if key in existing:
            continue
        existing.add(key)
        db.session.add(EqualityPopulation(council_area_id=key[0], dimension=key[1], value=key[2], year=key[3],
                                          population=int(row["population"]), source=row["source"].strip()[:200]))
        added += 1
    db.session.flush()
    return {"equality population figures added": added}


def _equality_problem(row: dict, areas: dict[str, int]) -> str | None:
    dimension, value = (row.get("dimension") or "").strip(), (row.get("value") or "").strip()
    if (row.get("gss_code") or "").strip() not in areas:
        return f"unknown council area {row.get('gss_code')!r}"
    if dimension not in EQUALITY_VALUES:
        return f"dimension must be one of {', '.join(EQUALITY_VALUES)}"
    if value not in EQUALITY_VALUES[dimension]:
        return f"value for {dimension} must be one of {', '.join(sorted(EQUALITY_VALUES[dimension]))}"
    if not re.fullmatch(r"(19|20)\d\d", (row.get("year") or "").strip()):
        return "year must be four digits, like 2021"
    if not re.fullmatch(r"\d{1,9}", (row.get("population") or "").strip()):
        return "population must be a whole number"
    if not (row.get("source") or "").strip():
        return "source must say where the figure was published"
    return None


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


# --- where a postcode is: its district, the council area it lies in, distances between areas ---------

COUNCIL_AREA_CENTRES_CSV = Path(__file__).parent / "data" / "council_area_centres.csv"
POSTCODE_DISTRICTS_CSV = Path(__file__).parent / "data" / "postcode_districts.csv"
_DISTRICT = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")


def postcode_district(text: str | None) -> str | None:
    """The district (outward code) of a full postcode or of a district typed alone: "b15 2tt" → "B15",
    "cv1" → "CV1"; None for anything else."""
    compact = re.sub(r"\s+", "", text or "").upper()
    if _POSTCODE.match(compact):
        return compact[:-3]
    return compact if _DISTRICT.match(compact) else None


def _read(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


_REFERENCE: dict[str, dict] = {}


def _reference(name: str) -> dict:
    if name not in _REFERENCE:
        if name == "centres":
            _REFERENCE[name] = {row["gss_code"]: (float(row["latitude"]), float(row["longitude"]))
                                for row in _read(COUNCIL_AREA_CENTRES_CSV)}
        else:
            _REFERENCE[name] = {row["prefix"]: row["gss_code"] for row in _read(POSTCODE_DISTRICTS_CSV)}
    return _REFERENCE[name]


def district_area_code(district: str) -> str | None:
    """The GSS code of the council area a postcode district is in, from the reference table: the
    district's own line, else its postcode area's (the letters: "CV" for "CV4")."""
    table = _reference("districts")
    letters = re.match(r"[A-Z]+", district)
    return table.get(district) or (table.get(letters.group(0)) if letters else None)


def distance_km(from_code: str, to_code: str) -> float | None:
    """The great-circle distance between two council areas' centres, in kilometres (None if unknown)."""
    centres = _reference("centres")
    if from_code not in centres or to_code not in centres:
        return None
    (lat1, lon1), (lat2, lon2) = centres[from_code], centres[to_code]
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))
