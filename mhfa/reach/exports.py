"""Tables as CSV and as Excel workbooks, with spreadsheet formula injection neutralised.

OWASP CSV injection guidance: a text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return is run as a formula by spreadsheets, so it is written with a leading apostrophe.
Numbers stay numbers. XlsxWriter writes every string as a string (formula, URL and number
conversion off), and the same neutralising applies.
"""
from __future__ import annotations

import csv
import io
from datetime import date

import xlsxwriter

from mhfa import names
from mhfa.reach.dashboard import Table

OGL = "Contains public sector information licensed under the Open Government Licence v3.0."


def neutralise(value):
    return names.spreadsheet_text(value) if isinstance(value, str) else value


def table_csv(table: Table, preface: list[str] | None = None) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for line in preface or []:
        writer.writerow([neutralise(line)])
    writer.writerow([neutralise(c) for c in table.columns])
    for row in table.rows:
        writer.writerow(["" if v is None else neutralise(v) for v in row])
    return buffer.getvalue()


def tables_xlsx(tables: list[Table], *, filters_text: str, title: str = "MHFA Reach: people reached") -> bytes:
    """The tables as one workbook: an About sheet (``title``, the filters, the day, each table) and a sheet each."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {
        "in_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
    })
    bold = workbook.add_format({"bold": True})
    about = workbook.add_worksheet("About")
    about.write_string(0, 0, neutralise(title), bold)
    about.write_string(1, 0, neutralise(filters_text))
    about.write_string(2, 0, f"Downloaded {date.today().isoformat()}")
    for row, table in enumerate(tables, start=4):
        about.write_string(row, 0, neutralise(f"{table.name}: {table.title}"))
    for table in tables:
        sheet = workbook.add_worksheet(table.name[:31])
        sheet.write_string(0, 0, neutralise(table.title), bold)
        if table.note:
            sheet.write_string(1, 0, neutralise(table.note))
        for col, heading in enumerate(table.columns):
            sheet.write_string(2, col, neutralise(heading), bold)
            sheet.set_column(col, col, max(12, min(40, len(heading) + 2)))
        for r, row in enumerate(table.rows, start=3):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, bool):
                    sheet.write_string(r, c, "yes" if value else "no")
                elif isinstance(value, int | float):
                    sheet.write_number(r, c, value)
                else:
                    sheet.write_string(r, c, neutralise(str(value)))
    workbook.close()
    return buffer.getvalue()
