"""The board's dashboard, downloads, public progress and home panel, read from the kept figures."""
from __future__ import annotations

import csv
import io
from datetime import date

import lxml.html
import openpyxl
import pytest

from mhfa.attendance.models import Completion
from mhfa.auth.models import Role
from mhfa.extensions import db
from mhfa.forecast.models import ForecastRun
from mhfa.people.models import AgeBand
from mhfa.reach import dashboard
from mhfa.reach.counts import Filters
from tests import factories


def complete(person, code="ADULT_2DAY", on=date(2024, 3, 5), **fields):
    db.session.add(Completion(person=person, course_type=factories.course_type(code), completed_on=on, **fields))
    db.session.flush()


@pytest.fixture()
def reached(app_ctx):
    """Twelve people in Birmingham, three in Coventry, one in Shropshire (outside), one unknown."""
    for i in range(12):
        complete(factories.person(f"B{i}", age_band=AgeBand.AGE_25_34 if i < 11 else AgeBand.AGE_65_PLUS))
    for i in range(3):
        complete(factories.person(f"C{i}", home_council_area=factories.area("Coventry")), "AWARE", date(2025, 1, 9))
    complete(factories.person("S", home_council_area=factories.area("Shropshire")))
    complete(factories.person("U", home_council_area=None))
    db.session.commit()


def board_login(auth, role=Role.BOARD):
    user = factories.user(role)
    db.session.commit()
    auth.login(user)


def test_headline_counts_the_region_and_unknown_but_not_areas_outside(reached):
    figures = dashboard.headline(Filters(), as_of=date(2026, 12, 1))
    assert figures.counted == 16 and figures.outside == 1  # Shropshire beside it, never added
    assert dashboard.headline(Filters(include_awareness=False), as_of=date(2026, 12, 1)).counted == 13
    assert figures.status in {"green", "amber", "red"}


def test_area_table_shows_unknown_and_outside_areas(reached):
    rows = {row[0]: row for row in dashboard.area_table(Filters()).rows}
    assert rows["Birmingham"][4] == 12 and rows["Unknown"][4] == 1
    assert rows["Shropshire"][2] == "no (outside the target region)" and rows["Shropshire"][4] == 1
    assert rows["Birmingham"][8] > 0  # pro-rata target
    assert rows["Total counted toward the target"][4] == 16
    assert rows["Outside the target region (not counted)"][4] == 1


def test_equality_tables_hide_small_counts_and_one_more_so_none_can_be_worked_out(reached):
    table = dashboard.group_table("age_band", Filters())
    cells = {row[0]: row[1] for row in table.rows}
    assert cells["25 to 34"] == 11
    assert cells["65+"] == dashboard.FEWER_THAN_10
    assert cells["Not answered"] == dashboard.FEWER_THAN_10  # 4 counted people (3 Coventry, unknown)
    assert cells["Total counted toward the target"] == 16  # the headline's figure
    table = dashboard.group_table("age_band", Filters(), include_outside=True)
    cells = {row[0]: row[1] for row in table.rows}
    assert cells["Total (including people outside the region)"] == 17  # Shropshire added, labelled
    assert "outside the target region are included" in table.note


def test_secondary_suppression_hides_the_next_smallest_cell():
    assert dashboard.suppress([40, 3, 25, 0]) == [40, "fewer than 10", "hidden", 0]
    assert dashboard.suppress([40, 3, 2]) == [40, "fewer than 10", "fewer than 10"]
    assert dashboard.suppress([40, 30]) == [40, 30]


def test_board_sees_the_dashboard_with_chart_table_and_rag_rule(client, auth, reached):
    board_login(auth)
    page = client.get("/reach").get_data(as_text=True)
    assert "<svg" in page and "<title id=\"chart-wide-title\">" in page and "chart-narrow-title" in page
    assert "Green: at or above the required path" in page
    assert "Unknown" in page and "Shropshire" in page
    assert "The data behind the chart" in page


def test_filters_by_basis_and_area(client, auth, reached):
    board_login(auth, Role.COORDINATOR)
    response = client.get("/reach?basis=work&area=E08000025&awareness=exclude&from=2024-01&to=2025-12&type=ADULT_2DAY")
    assert response.status_code == 200


@pytest.mark.parametrize("query", [
    "basis=<script>", "from=2024-13", "from=2025-01&to=2024-01", "type=NOPE", "area=E99999999",
    "area=" + "x" * 5000, "awareness=maybe", "type=" + "A" * 300,
])
def test_hostile_filters_get_a_clear_400_never_a_500(client, auth, reached, query):
    board_login(auth)
    response = client.get("/reach?" + query)
    assert response.status_code == 400
    assert "There is a problem with the filters" in response.get_data(as_text=True)
    assert "<script>" not in response.get_data(as_text=True).split("<main")[1]
    assert client.get("/reach/download/areas.csv?" + query).status_code == 400


@pytest.mark.parametrize("path", ["/reach", "/reach/outcomes"])
@pytest.mark.parametrize("query", ["from=2025-12&to=2025-01", "from=2025-13&to=2025-12", "area=E99999999&to=2024-01",
                                   "basis=work&type=NOPE"])
def test_filters_with_a_mistake_apply_none_of_them_and_say_so(client, auth, reached, path, query):
    board_login(auth)
    unfiltered = lxml.html.fromstring(client.get(path).get_data(as_text=True))
    response = client.get(f"{path}?{query}")
    page = lxml.html.fromstring(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "none applied until the ones marked above are corrected" in page.text_content()
    assert "Period from" not in page.text_content()
    main, expected = page.xpath("//main")[0], unfiltered.xpath("//main")[0]
    tables = [" ".join(t.text_content().split()) for t in main.xpath(".//table")]
    assert tables and tables == [" ".join(t.text_content().split()) for t in expected.xpath(".//table")]


def test_a_nul_byte_in_a_filter_is_refused_before_the_dashboard_with_a_clear_400(client, auth, reached):
    board_login(auth)
    for url in ("/reach?from=%00", "/reach/download/areas.csv?from=%00"):
        response = client.get(url)
        assert response.status_code == 400 and "NUL character" in response.get_data(as_text=True), url


def test_csv_and_excel_downloads_carry_the_figures_with_formulas_neutralised(client, auth, reached):
    db.session.add(factories.employer("=HYPERLINK(\"http://evil\")"))
    db.session.commit()
    board_login(auth)
    response = client.get("/reach/download/areas.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    birmingham = next(r for r in rows if r and r[0] == "Birmingham")
    assert birmingham[4] == "12"
    workbook = openpyxl.load_workbook(io.BytesIO(client.get("/reach/download/all.xlsx").data))
    sheet = workbook["areas"]
    values = {sheet.cell(r, 1).value: sheet.cell(r, 5).value for r in range(4, sheet.max_row + 1)}
    assert values["Birmingham"] == 12
    assert client.get("/reach/download/nothing.csv").status_code == 404


def test_neutralise_prefixes_formula_text():
    from mhfa.reach.exports import neutralise

    assert neutralise("=1+1") == "'=1+1" and neutralise("+44") == "'+44" and neutralise("@SUM") == "'@SUM"
    assert neutralise("-3") == "'-3" and neutralise("Birmingham") == "Birmingham" and neutralise(-3) == -3


def test_forecast_bands_are_drawn_when_the_latest_run_has_them(client, auth, reached):
    db.session.add(ForecastRun(data_through=date(2026, 11, 30), target_people=500000, target_date=date(2027, 1, 31),
                               method="test", projected_at_target_date=20, summary={"bands": [
                                   {"month": "2026-12", "median": 18, "lower_80": 17, "upper_80": 19,
                                    "lower_95": 16, "upper_95": 20},
                                   {"month": "2027-01", "median": 19, "lower_80": 17, "upper_80": 21,
                                    "lower_95": 15, "upper_95": 23}]}))
    db.session.commit()
    board_login(auth)
    page = client.get("/reach").get_data(as_text=True)
    assert "<polygon" in page and "Forecast median" in page


def test_public_progress_shows_areas_never_equality_and_caches(client, reached):
    response = client.get("/progress")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Birmingham" in page and "Age band" not in page
    assert "public" in response.headers["Cache-Control"] and response.headers["ETag"]
    again = client.get("/progress", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    data = client.get("/progress/data/datapackage.json")
    assert data.status_code == 200 and "Open Government Licence" in data.get_data(as_text=True)


def test_home_page_board_panel_uses_the_same_figures(client, auth, reached):
    board_login(auth)
    page = client.get("/").get_data(as_text=True)
    assert "16</span> people counted toward the target so far" in page


def test_trainee_cannot_open_the_dashboard(client, auth, reached):
    board_login(auth, Role.TRAINEE)
    assert client.get("/reach").status_code == 403
    assert client.get("/reach/download/all.xlsx").status_code == 403
