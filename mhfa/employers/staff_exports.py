"""An organisation's staff table as files to download: CSV (UTF-8 with a byte-order mark, for Excel) and
an Excel workbook; every cell is text, never a formula or a link."""
from __future__ import annotations

import csv
import io

from mhfa import names
from mhfa.employers.models import (
    Employer,
)
from mhfa.employers.reports import StaffRow, staff

HEADER = ["First name", "Last name", "Email", "Place", "Next course", "Booking", "Last course", "Completed on",
          "Certificate", "Certificate number", "Certificate issued on", "Certificate expires on", "Certificate status"]


def neutralise(value) -> str:
    """A cell a spreadsheet will show as text: one starting like a formula gets a leading apostrophe."""
    return names.spreadsheet_text("" if value is None else str(value))


def _rows(rows: list[StaffRow]) -> list[list[str]]:
    return [[neutralise(v) for v in (
        r.first_name, r.last_name, r.email, r.place, r.course, r.booking, r.attendance,
        r.completed_on.isoformat() if r.completed_on else "", r.certificate_title, r.certificate_number,
        r.certificate_issued_on.isoformat() if r.certificate_issued_on else "",
        r.certificate_expires_on.isoformat() if r.certificate_expires_on else "",
        ("Expired" if r.certificate_expired else "Current") if r.certificate_number else "")] for r in rows]


def staff_csv(employer: Employer) -> str:
    """The staff table as CSV, UTF-8 with a byte-order mark (without one, Excel shows "Zoë" as "ZoÃ«")."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows(_rows(staff(employer)))
    return out.getvalue()


def staff_xlsx(employer: Employer) -> bytes:
    """The same table as an Excel workbook; no cell is ever a formula or a link."""
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                     "strings_to_numbers": False})
    sheet = book.add_worksheet("Staff")
    bold = book.add_format({"bold": True})
    sheet.write_row(0, 0, HEADER, bold)
    for i, row in enumerate(_rows(staff(employer)), start=1):
        for j, value in enumerate(row):
            sheet.write_string(i, j, value)
    sheet.set_column(0, len(HEADER) - 1, 18)
    book.close()
    return out.getvalue()
