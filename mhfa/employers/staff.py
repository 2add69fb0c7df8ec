"""The staff an organisation names for its places: each name, email address and date of birth checked
by the one rule for each (``mhfa.names``, ``mhfa.dates``), one by one or from a CSV file whose every line
is checked before any place is used (problems come back as ``line N: reason``)."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

from mhfa import dates, names
from mhfa.errors import DomainError
from mhfa.names import normalise_email

MAX_CSV_BYTES = 512 * 1024


@dataclass
class StaffMember:
    first_name: str
    last_name: str
    email: str
    date_of_birth: date | None = None  # optional: the contact can book them directly only with it (age rules)
    line: int | None = None  # the CSV line that named them


class CsvRejected(DomainError):
    """The file was refused: ``lines`` says what is wrong, one line per problem (``line N: reason``)."""

    def __init__(self, lines: list[str]):
        super().__init__(f"The file has {len(lines)} problem{'s' if len(lines) != 1 else ''}: no places were "
                         "allocated. Correct the file and upload it again", field="file")
        self.lines = lines


# --- checking names and emails ----------------------------------------------------------------------

def _email_problem(email: str) -> str | None:
    if not email:
        return "enter the email address"
    local, at, domain = email.partition("@")
    if (not at or not local or "." not in domain or len(email) > 254 or email.startswith(names.FORMULA_STARTS)
            or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in email)):
        shown = "".join(ch if ch.isprintable() else "?" for ch in email[:60])
        return f"{shown} is not an email address in the correct format, like name@example.org"
    return None


def _date_of_birth(text: str) -> date:
    day = dates.parse(text)
    if day is None:
        raise DomainError(f"Date of birth {text[:20]} is not a real date, like 1985-06-15", field="date_of_birth")
    return dates.BIRTH.check(day, "Date of birth", field="date_of_birth")


def check_member(first_name: str, last_name: str, email: str, date_of_birth: date | str | None = None) -> StaffMember:
    first = names.check(first_name, "First name", field="first_name")
    last = names.check(last_name, "Last name", field="last_name")
    email = normalise_email(email or "")
    problem = _email_problem(email)
    if problem:
        raise DomainError(problem[0].upper() + problem[1:], field="email")
    if isinstance(date_of_birth, str):
        date_of_birth = _date_of_birth(date_of_birth) if date_of_birth.strip() else None
    elif date_of_birth is not None:
        dates.BIRTH.check(date_of_birth, "Date of birth", field="date_of_birth")
    return StaffMember(first, last, email, date_of_birth)


def _records(reader):
    """Each record with the line it starts on (a quoted line break makes a record span several lines)."""
    start = reader.line_num + 1
    for row in reader:
        yield start, row
        start = reader.line_num + 1


def parse_staff_csv(data: bytes) -> list[StaffMember]:
    """The staff a CSV file names (header ``first_name,last_name,email``), or CsvRejected listing every problem."""
    if not data:
        raise CsvRejected(["the file is empty"])
    if len(data) > MAX_CSV_BYTES:
        raise CsvRejected([f"the file is larger than {MAX_CSV_BYTES // 1024} KB"])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CsvRejected(["the file is not UTF-8 text: save it from your spreadsheet as \"CSV UTF-8\""]) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower().replace(" ", "_") for h in next(reader)]
    except (StopIteration, csv.Error):
        raise CsvRejected(["line 1: the first line must be the header first_name,last_name,email"]) from None
    missing = [name for name in ("first_name", "last_name", "email") if name not in header]
    if missing:
        raise CsvRejected([f"line 1: the header has no {', '.join(missing)} column"
                           " (it needs first_name,last_name,email)"])
    index = {name: header.index(name) for name in ("first_name", "last_name", "email", "date_of_birth")
             if name in header}
    members, problems, seen = [], [], {}
    try:
        for line, row in _records(reader):
            if not any(cell.strip() for cell in row):
                continue
            values = {name: (row[i].strip() if i < len(row) else "") for name, i in index.items()}
            try:
                member = check_member(values["first_name"], values["last_name"], values["email"],
                                      values.get("date_of_birth", ""))
            except DomainError as error:
                problems.append(f"line {line}: {error.message[0].lower() + error.message[1:]}")
                continue
            if member.email in seen:
                problems.append(f"line {line}: {member.email} is already on line {seen[member.email]}")
                continue
            seen[member.email] = line
            member.line = line
            members.append(member)
    except csv.Error as error:
        problems.append(f"line {reader.line_num}: the file is not valid CSV ({error})")
    if problems:
        raise CsvRejected(problems)
    if not members:
        raise CsvRejected(["the file names nobody: add a line per member of staff under the header"])
    return members
