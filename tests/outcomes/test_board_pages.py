"""What the board member reads on the outcomes pages: percentages, the filters, which area each figure uses."""
import csv
import io
from urllib.parse import parse_qs, urlsplit

import lxml.html
import openpyxl
import pytest

from mhfa.auth.models import Role
from mhfa.extensions import db
from mhfa.outcomes import board
from mhfa.outcomes.funnel import Step
from mhfa.reach.views import reach_cell
from mhfa.shares import Share, percent
from tests import factories
from tests.outcomes.helpers import GOOD, answer_all, answered_in_areas, completed_course

Figures = board.Figures


@pytest.mark.parametrize(("part", "whole", "shown", "data"), [
    (14, 17, "82.4%", 0.8235), (247, 427, "57.8%", 0.5785), (336, 981, "34.3%", 0.3425), (74, 203, "36.5%", 0.3645),
    (1649, 2000, "82.5%", 0.8245), (0, 5, "0.0%", 0.0), (5, 5, "100.0%", 1.0)])
def test_a_percentage_is_rounded_once_from_the_exact_fraction_and_data_keeps_four_decimals(part, whole, shown, data):
    share = Figures(invited=whole, answered=part).response_rate
    assert share == data and percent(share) == shown == reach_cell(share, "Response rate")
    assert percent(part, whole) == shown
    funnel = Step(booked=whole, attended=whole - part, completed=whole - part)
    assert funnel.no_show_rate == data and percent(funnel.no_show_rate) == shown



def test_an_empty_whole_has_no_share():
    assert Share.of(3, 0) is None and Figures().response_rate is None and Step().completion_rate is None


@pytest.fixture()
def fourteen_of_seventeen(app_ctx):
    course, *_ = completed_course(trainees=17)
    answer_all(course, GOOD, count=14)
    return course


def test_every_page_shows_fourteen_of_seventeen_as_82_4_and_the_downloads_0_8235(client, auth, fourteen_of_seventeen):
    public = client.get("/progress").get_data(as_text=True)
    assert "82.4%" in public and "82.3%" not in public
    auth.login(factories.user(Role.BOARD))
    dashboard = client.get("/reach").get_data(as_text=True)
    assert "82.4% (14 of 17 invited)" in dashboard
    page = client.get("/reach/outcomes").get_data(as_text=True)
    assert "82.4% (14 of 17 invited)" in page and "82.3%" not in page
    tree = lxml.html.fromstring(page)
    cells = tree.xpath('//section[@aria-labelledby="table-outcomes-course_type"]//td[@data-label="Response rate"]')
    assert "82.4%" in [c.text_content().strip() for c in cells]
    rows = list(csv.reader(io.StringIO(client.get("/reach/outcomes/download/outcomes-course_type.csv")
                                       .get_data().decode("utf-8-sig"))))
    assert "0.8235" in [r[3] for r in rows[3:]]


def _nav_links(html: str) -> dict[str, str]:
    tree = lxml.html.fromstring(html)
    return {a.text_content().strip(): a.get("href") for a in tree.xpath('//nav[@class="reach-section-nav"]//a')}


def test_the_outcomes_page_keeps_and_names_the_course_types_chosen(client, auth, fourteen_of_seventeen):
    auth.login(factories.user(Role.BOARD))
    name = factories.course_type("ADULT_2DAY").name
    page = client.get("/reach/outcomes?type=ADULT_2DAY&basis=work").get_data(as_text=True)
    tree = lxml.html.fromstring(page)
    form = tree.xpath('//form[@method="get"]')[0]
    assert form.xpath('.//input[@name="type" and @value="ADULT_2DAY"]/@checked') == ["checked"]
    assert f"course types {name}" in page and "course types ADULT_2DAY" not in page
    funnel = tree.xpath('//section[@aria-labelledby="table-funnel"]//tbody/tr/th')
    assert funnel[-1].text_content().strip() == "All chosen course types"
    assert "All course types" in client.get("/reach/outcomes").get_data(as_text=True)
    dashboard = client.get("/reach?type=ADULT_2DAY").get_data(as_text=True)
    assert f"course types {name}" in dashboard


@pytest.mark.parametrize("path", ["/reach", "/reach/outcomes"])
def test_the_reach_sub_navigation_keeps_the_filters(client, auth, fourteen_of_seventeen, path):
    auth.login(factories.user(Role.BOARD))
    query = "basis=work&type=ADULT_2DAY&type=YOUTH_CHAMPION&from=2024-01"
    links = _nav_links(client.get(f"{path}?{query}").get_data(as_text=True))
    expected = {"basis": ["work"], "type": ["ADULT_2DAY", "YOUTH_CHAMPION"], "from": ["2024-01"]}
    for label in ("Dashboard", "Outcomes", "Download every reach table (Excel)"):
        assert parse_qs(urlsplit(links[label]).query) == expected, label
    assert "?" not in _nav_links(client.get("/reach/outcomes").get_data(as_text=True))["Outcomes"]


def _placed(area, work: bool) -> None:
    course, teacher, bookings = factories.taught_course(trainees=12)
    for b in bookings:
        b.person.home_council_area = area
        if work:
            b.person.work_council_area = area
    factories.mark_everyone(course)
    from mhfa.certificates import services as certificates
    certificates.complete_course_and_issue(course, factories.user(Role.COORDINATOR))
    db.session.commit()
    answer_all(course, GOOD)


def test_with_an_area_the_outcomes_section_says_which_area_basis_each_figure_uses(client, auth, app_ctx):
    birmingham = factories.area("Birmingham")
    _placed(birmingham, work=True)
    auth.login(factories.user(Role.BOARD))
    everywhere = lxml.html.fromstring(client.get("/reach").get_data(as_text=True))
    assert "in every area" in everywhere.get_element_by_id("outcomes-intro").text_content()
    home = lxml.html.fromstring(client.get(f"/reach?area={birmingham.gss_code}").get_data(as_text=True))
    intro = home.get_element_by_id("outcomes-intro").text_content()
    assert "in every area:" not in intro and "in Birmingham (where they live)" in intro
    assert not home.xpath('//*[@id="outcomes-area-basis"]')
    work = lxml.html.fromstring(client.get(f"/reach?area={birmingham.gss_code}&basis=work").get_data(as_text=True))
    note = " ".join(work.get_element_by_id("outcomes-area-basis").text_content().split())
    assert "evaluation and follow-up figures count people by where they live" in note
    assert "the funnel counts places where they work" in note
    assert "Birmingham's current first aiders are counted where they work" in note
    delivery = lxml.html.fromstring(client.get(f"/reach?area={birmingham.gss_code}&basis=delivery")
                                    .get_data(as_text=True))
    note = " ".join(delivery.get_element_by_id("outcomes-area-basis").text_content().split())
    assert "the funnel counts places where the course was held" in note
    assert "current first aiders are shown for every area together" in note


def test_the_first_aiders_table_follows_the_basis_and_gives_no_rate_per_1000_by_workplace(client, auth, app_ctx):
    _placed(factories.area("Birmingham"), work=True)
    home, trend = board.first_aider_tables("home")
    assert "by where they live" in home.note and "Per 1,000 of the population" in home.columns
    work, _ = board.first_aider_tables("work")
    assert "by where they work" in work.note and "by where they live" not in work.note
    assert "residents aged 16 and over" in work.note
    assert "Per 1,000 of the population" not in work.columns and "1 in N of the population" not in work.columns
    assert all(len(row) == len(work.columns) for row in work.rows)
    assert {r[0]: r[2] for r in work.rows}["Birmingham"] == 12
    auth.login(factories.user(Role.BOARD))
    page = client.get("/reach/outcomes?basis=work").get_data(as_text=True)
    section = lxml.html.fromstring(page).xpath('//section[@aria-labelledby="table-first-aiders"]')[0]
    assert "by where they work" in section.text_content() and "Per 1,000" not in section.text_content()


def test_with_an_area_chosen_the_first_aiders_trend_counts_that_area_on_the_basis(client, auth, app_ctx):
    birmingham, coventry = factories.area("Birmingham"), factories.area("Coventry")
    _placed(birmingham, work=False)
    _placed(coventry, work=True)  # 12 live and work in Coventry
    every = board.first_aider_tables("home")[1]
    assert every.title == "Current first aiders at the end of each month" and every.rows[-1][1] == 24
    home = board.first_aider_tables("home", area=birmingham.id)[1]
    assert home.title == "Current first aiders in Birmingham at the end of each month"
    assert home.rows[-1][1] == 12 and "by where they live" in home.note
    assert board.first_aider_tables("work", area=birmingham.id)[1].rows[-1][1] == 0  # nobody works there
    assert board.first_aider_tables("work", area=coventry.id)[1].rows[-1][1] == 12
    auth.login(factories.user(Role.BOARD))
    page = lxml.html.fromstring(client.get(f"/reach/outcomes?area={coventry.gss_code}&basis=work")
                                .get_data(as_text=True))
    section = page.xpath('//section[@aria-labelledby="table-first-aiders-trend"]')[0]
    assert "Current first aiders in Coventry at the end of each month" in section.text_content()


def test_the_outcomes_workbook_is_titled_for_outcomes(client, auth, fourteen_of_seventeen):
    auth.login(factories.user(Role.BOARD))
    for url, title in (("/reach/outcomes/download/all.xlsx", "MHFA Reach: outcomes of the training"),
                       ("/reach/outcomes/download/funnel.xlsx", "MHFA Reach: outcomes of the training"),
                       ("/reach/download/all.xlsx", "MHFA Reach: people reached")):
        workbook = openpyxl.load_workbook(io.BytesIO(client.get(url).data))
        assert workbook["About"]["A1"].value == title, url


def test_a_row_with_its_answers_hidden_shows_the_follow_ups_mark_not_a_dash(client, auth, app_ctx):
    answered_in_areas(("Birmingham", 12), ("Coventry", 11), ("Dudley", 3))
    rows = {r[0]: r for r in board.outcomes_table("area").rows}
    column = board.COLUMNS.index("Follow-ups answered")
    assert rows["Dudley"][column] == "hidden" and rows["Coventry"][column] == "hidden"
    assert rows["Birmingham"][column] == 0
    assert board._row("Few", Figures(answered=3, follow_ups_answered=4), "fewer than 10")[column] == "fewer than 10"
    auth.login(factories.user(Role.BOARD))
    tree = lxml.html.fromstring(client.get("/reach/outcomes").get_data(as_text=True))
    row = tree.xpath('//section[@aria-labelledby="table-outcomes-area"]//tr[th[normalize-space()="Dudley"]]')[0]
    assert row.xpath('string(td[@data-label="Follow-ups answered"])').strip() == "hidden"


def test_the_section_says_current_first_aiders_ignore_a_chosen_period_or_type(client, auth, fourteen_of_seventeen):
    auth.login(factories.user(Role.BOARD))
    said = "the period and course types chosen do not apply to it"
    assert said not in client.get("/reach").get_data(as_text=True)
    assert said in client.get("/reach?from=2024-01").get_data(as_text=True)
    assert said in client.get("/reach?type=ADULT_2DAY").get_data(as_text=True)
