"""Historical completions from CSV: every row checked first, then written in bulk, reach kept in step.

The format (``docs/coordinator.md``, "Historical import"): a header row with at least
``first_name,last_name,email,course_type,completed_on,council_area`` and optionally
``date_of_birth,work_council_area,employer,delivery_council_area``, in any order.

- ``course_type`` by code or name; council areas by GSS code or name (empty: not known);
  ``employer`` by the name of an employer the programme knows (empty: none); dates as
  ``YYYY-MM-DD`` or ``DD/MM/YYYY``.
- People are matched by normalised email (trimmed, lower case); a row without an email is matched by
  first name, last name (both without regard to case) and date of birth. Unmatched rows add a
  person (source "import"); the records of matched people are left as they are.
- A completion already held (same person, course type and date) is not added again, so importing
  the same file twice adds nothing.
- UTF-8 with or without a byte-order mark, Windows or Unix line endings; any other encoding is
  refused. Any bad row rejects the whole file, with every problem as ``line N: reason`` (line
  numbers as a spreadsheet shows them, the header being line 1).
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from mhfa import dates, names
from mhfa.areas.models import CouncilArea
from mhfa.attendance.models import Completion, CompletionSource
from mhfa.audit.models import AuditEvent
from mhfa.courses.models import CourseType
from mhfa.db_types import plan_for_bulk_writes
from mhfa.employers.models import Employer
from mhfa.errors import DomainError
from mhfa.extensions import db
from mhfa.people.models import Person, PersonSource
from mhfa.reach.keeping import refresh_people
from mhfa.reach.reached import among
from mhfa.timeutil import london_today, utcnow

REQUIRED = ("first_name", "last_name", "email", "course_type", "completed_on", "council_area")
OPTIONAL = ("date_of_birth", "work_council_area", "employer", "delivery_council_area")
MAX_PROBLEMS = 200
MAX_BYTES = 64 * 1024 * 1024
CHUNK = 5000
NULL = "\\N"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ImportRejected(DomainError):
    """The file was refused; ``lines`` lists every bad row as ``line N: reason``."""

    def __init__(self, problems: list[str]):
        shown = problems[:MAX_PROBLEMS]
        more = len(problems) - len(shown)
        super().__init__("The file was not imported: " + "; ".join(shown[:3]) + ("…" if len(shown) > 3 else ""),
                         field="file")
        self.lines = shown + ([f"and {more:,} more problems"] if more > 0 else [])


@dataclass
class ImportSummary:
    rows: int = 0
    people_added: int = 0
    people_matched: int = 0
    completions_added: int = 0
    completions_already_held: int = 0
    dry_run: bool = False
    problems: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        verb = "would be" if self.dry_run else "were"
        return [f"Rows read: {self.rows:,}",
                f"People added: {self.people_added:,}" + (" (would be)" if self.dry_run else ""),
                f"People matched to existing records: {self.people_matched:,}",
                f"Completions added: {self.completions_added:,}" + (" (would be)" if self.dry_run else ""),
                f"Completions already held (not added again): {self.completions_already_held:,}",
                f"Nothing {verb} written." if self.dry_run else "Reach figures updated."]


@dataclass
class _Row:
    line: int
    first_name: str
    last_name: str
    email: str | None
    date_of_birth: date | None
    course_type_id: int
    completed_on: date
    home_area_id: int | None
    work_area_id: int | None
    delivery_area_id: int | None
    employer_id: int | None

    @cached_property
    def identity(self):
        if self.email:
            return ("email", self.email)
        return ("name", self.first_name.lower(), self.last_name.lower(), self.date_of_birth)


def decode(data: bytes) -> str:
    """UTF-8 text (a byte-order mark is dropped), or a clear refusal."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportRejected(["The file is UTF-16: save it as 'CSV UTF-8 (comma delimited)' and upload it again"])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportRejected([
            f"The file is not UTF-8 text (byte {error.start + 1} cannot be read): save it as "
            "'CSV UTF-8 (comma delimited)' and upload it again"]) from None
    if "\x00" in text:
        raise ImportRejected(["The file holds null characters: it is not a CSV text file"])
    return text


def _date(text: str) -> date | None:
    return dates.parse(text)


class _Lookups:
    def __init__(self):
        self.types = {}
        for kind in db.session.scalars(sa.select(CourseType)):
            self.types[kind.code.lower()] = kind.id
            self.types[kind.name.lower()] = kind.id
        self.areas = {}
        for area in db.session.scalars(sa.select(CouncilArea)):
            self.areas[area.gss_code.lower()] = area.id
            self.areas[area.name.lower()] = area.id
        self.employers = {name.lower(): i for i, name in db.session.execute(sa.select(Employer.id, Employer.name))}


def parse(text: str, today: date | None = None) -> list[_Row]:
    """Every row checked; raises ImportRejected listing every problem, or returns the rows."""
    today = today or london_today()
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ImportRejected(["line 1: the file is empty; it needs a header row"]) from None
    except csv.Error as error:
        raise ImportRejected([f"line 1: {error}"]) from None
    names = [h.strip().lower() for h in header]
    missing = [c for c in REQUIRED if c not in names]
    unknown = [h for h in names if h not in REQUIRED + OPTIONAL]
    if missing or unknown or len(set(names)) != len(names):
        problems = []
        if missing:
            problems.append(f"line 1: the header lacks the column(s) {', '.join(missing)}")
        if unknown:
            problems.append(f"line 1: unknown column(s) {', '.join(h[:40] for h in unknown[:5])}")
        if len(set(names)) != len(names):
            problems.append("line 1: a column is named twice")
        raise ImportRejected(problems)
    lookups = _Lookups()
    latest = min(today, dates.PROGRAMME.last())
    rows: list[_Row] = []
    problems: list[str] = []
    line = 1
    try:
        for record in reader:
            line += 1
            if not any(cell.strip() for cell in record):
                continue
            if len(record) != len(names):
                problems.append(f"line {line}: expected {len(names)} columns, found {len(record)}")
                continue
            row = dict(zip(names, (cell.strip() for cell in record), strict=True))
            reasons: list[str] = []
            parsed = _check_row(row, line, lookups, latest, reasons)
            if reasons:
                problems.append(f"line {line}: " + "; ".join(reasons))
            elif parsed is not None:
                rows.append(parsed)
    except csv.Error as error:
        problems.append(f"line {line}: {error}")
    if problems:
        raise ImportRejected(problems)
    if not rows:
        raise ImportRejected(["line 2: the file has no rows of completions under its header"])
    return rows


def _check_row(row: dict, line: int, lookups: _Lookups, latest: date, reasons: list[str]) -> _Row | None:
    first, last = row["first_name"], row["last_name"]
    for column, value in (("first_name", first), ("last_name", last)):
        if not value:
            reasons.append(f"{column} is empty")
        elif problem := names.problem(value, column):
            reasons.append(problem)
    first, last = names.normalise(first), names.normalise(last)
    if "\\N" in (first, last):
        reasons.append("a name cannot be \\N")
    email = names.normalise_email(row["email"]) or None
    if email and (len(email) > 254 or not _EMAIL.match(email)):
        reasons.append(f"email {row['email'][:60]!r} is not an email address")
    dob = None
    if row.get("date_of_birth"):
        dob = _date(row["date_of_birth"])
        if dob is None:
            reasons.append("date_of_birth is not a date (use YYYY-MM-DD)")
        elif problem := dates.BIRTH.problem(dob, "date_of_birth"):
            reasons.append(problem)
    if not email and dob is None and not row.get("date_of_birth"):
        reasons.append("give an email address or a date of birth, so the person can be recognised")
    type_id = lookups.types.get(row["course_type"].lower())
    if type_id is None:
        reasons.append(f"course_type {row['course_type'][:60]!r} is not a course type (use its code, e.g. ADULT_2DAY)")
    completed = _date(row["completed_on"])
    if completed is None:
        reasons.append("completed_on is not a date (use YYYY-MM-DD)")
    elif not dates.PROGRAMME.earliest <= completed <= latest:
        reasons.append(f"completed_on must be between {dates.spoken(dates.PROGRAMME.earliest)} and today")
    areas = {}
    for column in ("council_area", "work_council_area", "delivery_council_area"):
        value = row.get(column, "")
        areas[column] = lookups.areas.get(value.lower()) if value else None
        if value and areas[column] is None:
            reasons.append(f"{column} {value[:60]!r} is not a council area (use its GSS code or name)")
    employer_id = None
    if row.get("employer"):
        employer_id = lookups.employers.get(row["employer"].lower())
        if employer_id is None:
            reasons.append(f"employer {row['employer'][:60]!r} is not an employer the programme knows")
    if reasons:
        return None
    return _Row(line, first, last, email, dob, type_id, completed, areas["council_area"],
                areas["work_council_area"], areas["delivery_council_area"], employer_id)


def _existing_people(rows: list[_Row]) -> dict:
    """identity → person id, for the rows' people already known."""
    found: dict = {}
    emails = sorted({r.email for r in rows if r.email})
    if db.session.connection().dialect.name == "postgresql":
        found.update({("email", e): i for e, i in db.session.execute(
            sa.select(sa.func.lower(Person.email), Person.id).where(sa.func.lower(Person.email).in_(
                sa.select(sa.func.unnest(sa.literal(emails, ARRAY(sa.String)))).scalar_subquery())))})
    elif len(emails) > CHUNK:
        pairs = db.session.execute(sa.select(sa.func.lower(Person.email), Person.id).where(Person.email.is_not(None)))
        wanted = set(emails)
        found.update({("email", e): i for e, i in pairs if e in wanted})
    else:
        for start in range(0, len(emails), 1000):
            chunk = emails[start:start + 1000]
            found.update({("email", e): i for e, i in db.session.execute(
                sa.select(sa.func.lower(Person.email), Person.id).where(sa.func.lower(Person.email).in_(chunk)))})
    named = sorted({r.identity for r in rows if not r.email}, key=repr)
    if named:
        query = sa.select(sa.func.lower(Person.first_name), sa.func.lower(Person.last_name), Person.date_of_birth,
                          Person.id).where(Person.date_of_birth.is_not(None)).order_by(Person.id)
        if len(named) <= CHUNK:
            query = query.where(sa.func.lower(Person.last_name).in_(sorted({k[2] for k in named})))
        wanted = set(named)
        for first, last, dob, person_id in db.session.execute(query):
            key = ("name", first, last, dob)
            if key in wanted and key not in found:
                found[key] = person_id
    return found


def _copy(table: str, columns: tuple[str, ...], rows: Iterable[tuple]) -> None:
    """COPY rows into PostgreSQL (table and columns from this module; None is written as NULL).

    The import refuses a name that is ``\\N``, the NULL marker, so no value can be read as NULL by mistake.
    """
    raw = db.session.connection().connection.driver_connection
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows(tuple(NULL if value is None else value for value in row) for row in rows)
    names = ", ".join(f'"{c}"' for c in columns)
    statement = f"COPY \"{table}\" ({names}) FROM STDIN WITH (FORMAT csv, NULL '{NULL}')"
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        copy.write(buffer.getvalue())


_PERSON_COLUMNS = ("first_name", "last_name", "email", "date_of_birth", "home_council_area_id",
                   "work_council_area_id", "employer_id", "source", "created_at")


def _add_people(rows: list[_Row]) -> list[int]:
    """Insert the new people (COPY with ids taken from the sequence on PostgreSQL); their ids in order."""
    now = utcnow()
    values = [(r.first_name, r.last_name, r.email, r.date_of_birth, r.home_area_id, r.work_area_id, r.employer_id)
              for r in rows]
    if db.session.connection().dialect.name != "postgresql":
        table = Person.__table__
        return list(db.session.execute(
            sa.insert(table).returning(table.c.id, sort_by_parameter_order=True),
            [dict(zip(_PERSON_COLUMNS, (*v, PersonSource.IMPORT, now), strict=True)) for v in values]).scalars())
    ids = db.session.scalar(sa.text(  # one array, not a row per id
        "SELECT array_agg(nextval(pg_get_serial_sequence('person', 'id'))) FROM generate_series(1, :n)"),
        {"n": len(rows)})
    source, stamp = PersonSource.IMPORT.value, _stamp(now)
    _copy("person", ("id", *_PERSON_COLUMNS),
          ((person_id, first, last, email, dob.isoformat() if dob else None, home, work, employer, source, stamp)
           for person_id, (first, last, email, dob, home, work, employer) in zip(ids, values, strict=True)))
    return ids


_COMPLETION_COLUMNS = ("person_id", "course_type_id", "completed_on", "delivery_council_area_id", "source",
                       "import_batch", "created_at")


def _add_completions(fresh: list, batch: str) -> None:
    now = utcnow()
    if db.session.connection().dialect.name != "postgresql":
        db.session.execute(sa.insert(Completion.__table__), [
            dict(zip(_COMPLETION_COLUMNS, (k[0], k[1], k[2], r.delivery_area_id, CompletionSource.IMPORT, batch, now),
                     strict=True)) for k, r in fresh])
        return
    source, stamp = CompletionSource.IMPORT.value, _stamp(now)
    _copy("completion", _COMPLETION_COLUMNS,
          ((k[0], k[1], k[2].isoformat(), r.delivery_area_id, source, batch, stamp) for k, r in fresh))


def _stamp(moment) -> str:
    """A moment as PostgreSQL reads it in a COPY (naive UTC, as the column stores it)."""
    return moment.replace(tzinfo=None).isoformat(sep=" ")


def import_completions(data: bytes, *, dry_run: bool = False, by=None, today: date | None = None) -> ImportSummary:
    """Check every row, then add the people and completions that are new; reach kept in the same transaction."""
    if len(data) > MAX_BYTES:
        raise ImportRejected([f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB: split it into parts"])
    rows = parse(decode(data), today)
    plan_for_bulk_writes(db.session.connection())
    batch = hashlib.sha256(data).hexdigest()[:16]
    summary = ImportSummary(rows=len(rows), dry_run=dry_run)
    known = _existing_people(rows)
    summary.people_matched = len({known[r.identity] for r in rows if r.identity in known})
    new_people: dict = {}
    for row in rows:
        if row.identity not in known and row.identity not in new_people:
            new_people[row.identity] = row
    summary.people_added = len(new_people)
    added = []
    if new_people and not dry_run:
        added = _add_people(list(new_people.values()))
        known.update(zip(new_people, added, strict=True))
    wanted = {}
    for row in rows:
        key = (known.get(row.identity, row.identity), row.course_type_id, row.completed_on)
        if key not in wanted:
            wanted[key] = row
    matched = set(known.values()) - set(added)  # the people just added hold no completions yet
    person_ids = sorted({k[0] for k in wanted if k[0] in matched})
    held = set()
    for start in range(0, len(person_ids), CHUNK):
        chunk = person_ids[start:start + CHUNK]
        held.update(db.session.execute(
            sa.select(Completion.person_id, Completion.course_type_id, Completion.completed_on)
            .where(among(Completion.person_id, chunk, db.session.connection().dialect.name))))
    fresh = [(k, r) for k, r in wanted.items() if k not in held]
    summary.completions_already_held = len(wanted) - len(fresh)
    summary.completions_added = len(fresh)
    if dry_run or not fresh:
        return summary
    _add_completions(fresh, batch)
    refresh_people(k[0] for k, _r in fresh)
    db.session.add(AuditEvent(action="completions.imported", entity_type="completion", entity_id=None,
                              actor_user_id=getattr(by, "id", None),
                              details={"batch": batch, "rows": summary.rows, "people_added": summary.people_added,
                                       "people_matched": summary.people_matched,
                                       "completions_added": summary.completions_added}))
    db.session.flush()
    return summary
