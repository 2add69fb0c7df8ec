"""The reach dashboard in a real browser: a board member filters by council area and basis, reads the chart's
data table and downloads the Excel workbook; a coordinator uploads a file of completions with bad rows (nothing
changes, every bad line named), then a good one, and the headline moves by the people added; and records the
delivery cost of a course that has run."""
from __future__ import annotations

import re
from datetime import timedelta

import openpyxl

from tests.browser.conftest import check_page, login, navigate, unique_email, visit


def _number(text: str) -> int:
    return int(re.search(r"\d[\d,]*", text).group(0).replace(",", ""))


def _headline(page) -> int:
    """People counted toward the target, as the headline says it."""
    row = page.locator("#headline .govuk-summary-list__row", has_text="counted toward the target").first
    return _number(row.locator("dd").inner_text())


def _table_row(page, table: str, first_cell: str):
    section = page.locator(f"section[aria-labelledby='table-{table}']")
    return section.locator("tbody tr").filter(has=page.locator("th", has_text=re.compile(f"^{first_cell}$")))


def test_board_member_filters_reads_the_chart_table_and_downloads_the_workbook(page, live_server, width):
    login(page, "board@example.org")
    visit(page, "/reach", "dashboard")
    page.get_by_label("Council area", exact=True).select_option(label="Coventry")
    page.get_by_label("Count people by").select_option(label="Where they work")
    navigate(page.get_by_role("button", name="Apply filters"))
    assert "basis=work" in page.url and "area=E08000026" in page.url
    assert "basis: where they work" in page.content() and "council area Coventry" in page.content()
    check_page(page, "dashboard-coventry-work")

    headline = _headline(page)
    coventry = _table_row(page, "areas", "Coventry")
    assert coventry.count() == 1 and _table_row(page, "areas", "Birmingham").count() == 0  # only the chosen area
    reached_to_date = _number(coventry.locator("td").nth(3).inner_text())
    assert reached_to_date > 0 and headline == reached_to_date  # Coventry is in the target region: all counts

    page.get_by_text("The data behind the chart").click()
    chart_rows = page.locator("section[aria-labelledby='table-trajectory'] tbody tr")
    assert chart_rows.last.is_visible()
    cumulative = _number(chart_rows.last.locator("td").nth(1).inner_text())
    assert cumulative == reached_to_date
    check_page(page, "dashboard-chart-table")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download every table as an Excel workbook").click()
    download = download_info.value
    assert download.suggested_filename == "reach.xlsx"
    with open(download.path(), "rb") as saved:  # the saved download has no .xlsx name, so pass the file
        workbook = openpyxl.load_workbook(saved)
    areas = workbook["areas"]
    in_workbook = {areas.cell(r, 1).value: areas.cell(r, 5).value for r in range(4, areas.max_row + 1)}
    assert in_workbook == {"Coventry": reached_to_date, "Total counted toward the target": reached_to_date,
                           "Outside the target region (not counted)": 0}
    trajectory = workbook["trajectory"]
    assert trajectory.cell(trajectory.max_row, 3).value == cumulative
    assert "basis: where they work" in workbook["About"].cell(2, 1).value


def _upload(page, name: str, body: str) -> None:
    page.get_by_label(re.compile("CSV file", re.I)).set_input_files(
        {"name": name, "mimeType": "text/csv", "buffer": body.encode("utf-8")})
    navigate(page.get_by_role("button", name="Upload"))


def test_coordinator_uploads_bad_rows_then_a_good_file_and_the_headline_follows(page, live_server, width):
    login(page, "coordinator@example.org")
    visit(page, "/reach", "dashboard-before")
    before = _headline(page)
    visit(page, "/reach/import", "import")

    day = (live_server.today - timedelta(days=3)).isoformat()
    first, second = unique_email("imported"), unique_email("imported")
    header = "first_name,last_name,email,course_type,completed_on,council_area\n"
    bad = header + (f"Ada,Lovelace,{first},ADULT_2DAY,{day},Birmingham\n"
                    f",Nobody,{second},ADULT_2DAY,{day},Birmingham\n"
                    f"Bob,Builder,bob-at-example,NOT_A_COURSE,{day},Birmingham\n"
                    f"Cy,Twombly,{unique_email('cy')},ADULT_2DAY,2999-01-01,Atlantis\n")
    _upload(page, "bad.csv", bad)
    problems = page.locator("#problems li").all_inner_texts()
    assert [p.split(":")[0] for p in problems] == ["line 3", "line 4", "line 5"], problems
    assert "first_name is empty" in problems[0]
    assert "is not an email address" in problems[1] and "is not a course type" in problems[1]
    assert "completed_on must be between" in problems[2] and "'Atlantis' is not a council area" in problems[2]
    assert "Nothing was imported" in page.content()
    check_page(page, "import-refused")
    visit(page, "/reach", "dashboard-unchanged")
    assert _headline(page) == before

    visit(page, "/reach/import", "import-again")
    good = header + (f"Ada,Lovelace,{first},ADULT_2DAY,{day},Birmingham\n"
                     f"Grace,Hopper,{second},ADULT_2DAY,{day},Coventry\n")
    _upload(page, "good.csv", good)
    summary = page.locator("ul.govuk-list--bullet").first.inner_text()
    assert "Completions imported" in page.content()
    assert "People added: 2" in summary and "Completions added: 2" in summary, summary
    check_page(page, "import-summary")
    visit(page, "/reach", "dashboard-after")
    assert _headline(page) == before + 2


def test_coordinator_records_the_delivery_cost_of_a_course_that_has_run(page, live_server, width):
    login(page, "coordinator@example.org")
    visit(page, "/manage/courses?status=completed&from_date=2017-01-01", "completed-courses")
    navigate(page.locator("main table tbody a").first)
    check_page(page, "completed-course")
    navigate(page.get_by_role("link", name="Change the funding stream or delivery cost"))
    check_page(page, "course-funding")
    page.get_by_label("Delivery cost, in pounds (optional)").fill("lots")
    navigate(page.get_by_role("button", name="Save funding"))
    assert "Enter the delivery cost in pounds" in page.locator(".govuk-error-summary").inner_text()
    check_page(page, "course-funding-refused")
    page.get_by_label("Publicly funded").check()
    page.get_by_label("Delivery cost, in pounds (optional)").fill("1,250.50")
    navigate(page.get_by_role("button", name="Save funding"))
    assert "Funding stream and delivery cost saved" in page.content()
    assert "£1,250.50" in page.content() and "Publicly funded" in page.content()
    check_page(page, "course-funding-saved")
