"""The board's outcomes page, its downloads and GET /api/v1/outcomes: the same figures, suppressed below 10."""
import csv
import io
from urllib.parse import parse_qsl

import lxml.html
import pytest
from werkzeug.datastructures import MultiDict

from mhfa.auth.models import Role
from mhfa.auth.services import issue_api_token
from mhfa.extensions import db
from mhfa.outcomes import board
from mhfa.outcomes.funnel import STEPS, Step, counted_funnel, funnel
from mhfa.reach.counts import Filters
from mhfa.reach.dashboard import areas_in_order, course_types, month_label
from mhfa.reach.forms import parse_filters
from mhfa.timeutil import london_today
from tests import factories
from tests.outcomes import bare as raw
from tests.outcomes.helpers import GOOD, answer_all, answered_in_areas, completed_course


def _token(role):
    token = issue_api_token(factories.user(role))
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture()
def answered(app_ctx):
    """Twelve trainees on one course, eleven of whom answered (confidence 4 before, 8 after; rated very good)."""
    course, *_ = completed_course(trainees=12)
    answer_all(course, GOOD, count=11)
    return course


def test_the_api_gives_the_funnel_and_figures_and_matches_its_openapi_schema(client, answered):
    import jsonschema

    response = client.get("/api/v1/outcomes", headers=_token(Role.BOARD))
    assert response.status_code == 200
    body = response.get_json()
    document = client.get("/api/v1/openapi.json").get_json()
    jsonschema.validate(body, {**document["components"]["schemas"]["Outcomes"], "components": document["components"]})
    assert body["funnel"]["total"]["booked"] == 12 and body["funnel"]["total"]["completion_rate"] == 1.0
    assert body["funnel"]["by_course_type"][0]["key"] == "ADULT_2DAY"
    assert body["evaluation"]["answered"] == 11 and body["evaluation"]["invited"] == 12
    assert body["evaluation"]["confidence_before"]["mean"] == 4.0
    assert body["evaluation"]["confidence_now"]["ci95"] == [8.0, 8.0]
    assert body["evaluation"]["good_or_very_good"] == 1.0
    assert body["current_first_aiders"] == 12
    assert {**funnel(Filters()).total.as_dict(), "suppressed": {}} == body["funnel"]["total"]
    by_area = body["current_first_aiders_by_area"]  # as the outcomes page's first aiders table shows them
    table = board.first_aider_tables("home")[0]
    assert by_area["basis"] == "home"
    assert [(a["label"], a["current"] if a["current"] is not None else a["suppressed"], a["per_1000"])
            for a in by_area["areas"]] == [(row[0], row[2], row[5]) for row in table.rows[:-1]]
    assert sum(a["current"] or 0 for a in by_area["areas"]) == 12
    work = client.get("/api/v1/outcomes?basis=work", headers=_token(Role.BOARD)).get_json()
    assert work["current_first_aiders_by_area"]["basis"] == "work"
    assert all(a["per_1000"] is None and a["one_in"] is None for a in work["current_first_aiders_by_area"]["areas"])


def test_the_api_refuses_bad_filters_and_other_roles(client, answered):
    assert client.get("/api/v1/outcomes").status_code == 401
    assert client.get("/api/v1/outcomes", headers=_token(Role.TRAINEE)).status_code == 403
    headers = _token(Role.COORDINATOR)
    for query in ("from=2024-13", "basis=moon", "area=NOWHERE", "type=X" * 50):
        response = client.get(f"/api/v1/outcomes?{query}", headers=headers)
        assert response.status_code == 400 and "error" in response.get_json()


def test_fewer_than_ten_answers_are_suppressed_in_the_api(client):
    course, *_ = completed_course(trainees=9)
    answer_all(course, GOOD)
    body = client.get("/api/v1/outcomes", headers=_token(Role.BOARD)).get_json()
    assert body["evaluation"]["suppressed"] is True and body["evaluation"]["confidence_before"] is None
    hidden = [a for a in body["current_first_aiders_by_area"]["areas"] if a["suppressed"]]
    assert [a["suppressed"] for a in hidden].count("fewer than 10") == 1  # the nine first aiders' area
    assert all(a["current"] is None and a["per_1000"] is None and a["one_in"] is None for a in hidden)


def test_the_board_reads_the_outcomes_page_and_downloads_it(client, auth, answered):
    auth.login(factories.user(Role.BOARD))
    page = client.get("/reach/outcomes")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Outcomes: what the training did" in html
    assert "4.0 (95% interval 4.0 to 4.0) out of 10" in html and "8.0 (95% interval" in html and "100.0%" in html
    response = client.get("/reach/outcomes/download/funnel.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows[2][0] == "Group" and rows[-1][:2] == ["All course types", "12"]
    workbook = client.get("/reach/outcomes/download/all.xlsx")
    assert workbook.status_code == 200 and workbook.data[:2] == b"PK"
    assert client.get("/reach/outcomes/download/nothing.csv").status_code == 404
    assert client.get("/reach/outcomes/download/funnel.csv?from=2024-99").status_code == 400
    bad = client.get("/reach/outcomes?from=soon")
    assert bad.status_code == 400 and "Enter a month as YYYY-MM" in bad.get_data(as_text=True)


def test_by_area_a_group_under_ten_is_suppressed_with_one_more_so_it_cannot_be_recovered(app_ctx):
    answered_in_areas(("Birmingham", 12), ("Coventry", 11), ("Dudley", 3))
    table = board.outcomes_table("area")
    rows = {r[0]: r for r in table.rows}
    assert rows["Dudley"][2] == "fewer than 10" and rows["Dudley"][4] is None
    assert rows["Coventry"][2] == "hidden" and rows["Coventry"][4] is None  # the smallest other group goes too
    assert rows["Birmingham"][2] == 12 and rows["Birmingham"][4] == 4.0


#: Only this month's expiries are read from ``first_aider_kept`` (an indexed range of it).
RAW_TABLES = ("outcome_answer", "outcome_invite", "certificate", "outcome_kept")


def _raw_reads(statements) -> list[str]:
    """Statements reading the raw answers or certificates (or the kept per-invitation rows)."""
    return [s for s in statements if s.lstrip().upper().startswith("SELECT")
            and any(f"FROM {t}" in s or f"JOIN {t}" in s for t in RAW_TABLES)]


def test_the_reach_dashboard_shows_the_outcomes_section_and_the_public_page_the_region(
        client, auth, answered, count_queries):
    """Both pages read the kept outcome figures only: never the answers, invitations or certificates."""
    with count_queries() as statements:
        public = client.get("/progress").get_data(as_text=True)
    assert "What the training did" in public and "4.0 (95% interval" in public
    assert "12 people counted for the region hold a current certificate" in public
    assert not _raw_reads(statements), _raw_reads(statements)
    auth.login(factories.user(Role.BOARD))
    with count_queries() as statements:
        page = client.get("/reach").get_data(as_text=True)
    assert "Outcomes: what the training did" in page and "4.0 (95% interval 4.0 to 4.0)" in page
    assert "91.7% (11 of 12 invited)" in page and "12 people hold a certificate" in page
    assert "/reach/outcomes" in page
    assert not _raw_reads(statements), _raw_reads(statements)


def test_the_public_page_hides_outcomes_below_ten_answers(client):
    course, *_ = completed_course(trainees=9)
    answer_all(course, GOOD)
    public = client.get("/progress").get_data(as_text=True)
    assert "Fewer than 10 trainees counted for the region have answered" in public and "95% interval" not in public


def _marks(cells) -> list:
    """Counts as a download or the page shows them: a number, or why it is not shown."""
    return [c if isinstance(c, int) else int(c.replace(",", "")) if c.replace(",", "").isdigit() else c
            for c in cells]


def _api_marks(step: dict) -> list:
    return [step[name] if step[name] is not None else step["suppressed"][name] for name in STEPS]


def _shown(step: board.FunnelShown) -> list:
    return [mark for _, _, mark in step.steps]


def _page_rows(page: str, name: str) -> dict[str, list]:
    tree = lxml.html.fromstring(page)
    return {row.xpath("./th")[0].text_content().strip(): _marks([td.text_content().strip()
                                                                 for td in row.xpath("./td")][:len(STEPS)])
            for row in tree.xpath(f'//section[@aria-labelledby="table-{name}"]//tbody/tr')}


def _rate(cell):
    return None if cell in ("", None) else float(cell)


def assert_nothing_recoverable(rows: list[list], total: list) -> None:
    """No count shown is 1 to 9 or 1 to 9 below the last step shown before it, and in each step the rows and the
    total hide no cell or at least two (so no hidden count is the total less the other rows)."""
    for marks in [*rows, total]:
        last = None
        for mark in marks:
            if isinstance(mark, int):
                assert not 0 < mark < 10 and not (last is not None and 0 < last - mark < 10), marks
                last = mark
    for i in range(len(STEPS)):
        hidden = sum(not isinstance(marks[i], int) for marks in [*rows, total])
        assert hidden != 1, (rows, total)


def same_funnel_everywhere(client, query, filters, section, api, dashboard, page) -> None:
    """The funnel: the section (kept), the API, the page, its CSV and Excel downloads show the same figures, each
    count the count over the raw rows or its suppression mark, by course type and by month, with nothing hidden
    recoverable and no rate shown beside a hidden count."""
    import openpyxl

    bare = counted_funnel(filters)
    assert section.funnel_total == bare.total, query
    expected = board.shown_funnels(bare)
    total = _shown(expected.total)
    by_type = {t.name: s for t, s in expected.by_course_type}
    by_month = {month_label(k): s for k, s in expected.by_month}
    assert _shown(section.funnel) == total == _api_marks(api["total"]), query
    assert {t["label"]: _api_marks(t) for t in api["by_course_type"]} == {k: _shown(s) for k, s in by_type.items()}
    assert {t["key"]: _api_marks(t) for t in api["by_month"]} == {k: _shown(s) for k, s in by_month.items()}, query
    for step, shown in [(api["total"], expected.total), *zip(api["by_course_type"], by_type.values(), strict=True),
                        *zip(api["by_month"], by_month.values(), strict=True)]:
        marks = dict(zip(STEPS, _shown(shown), strict=True))
        for rate, (a, b) in {"no_show_rate": ("booked", "attended"), "completion_rate": ("attended", "completed"),
                             "certified_rate": ("completed", "certified"),
                             "current_rate": ("certified", "current")}.items():
            assert step[rate] == getattr(shown, rate), query
            if not (isinstance(marks[a], int) and isinstance(marks[b], int)):
                assert step[rate] is None, (query, rate)
    total_label = "All chosen course types" if filters.course_type_ids else "All course types"
    for name, rows in (("funnel", {**by_type, total_label: expected.total}), ("funnel-months", by_month)):
        expect = {label: _shown(s) for label, s in rows.items()}
        csv_rows = list(csv.reader(io.StringIO(client.get(f"/reach/outcomes/download/{name}.csv?{query}")
                                               .get_data().decode("utf-8-sig"))))[3:]
        assert {r[0]: _marks(r[1:6]) for r in csv_rows} == expect, query
        assert {r[0]: [_rate(r[6]), _rate(r[7])] for r in csv_rows} == {
            label: [s.no_show_rate, s.completion_rate] for label, s in rows.items()}, query
        workbook = openpyxl.load_workbook(io.BytesIO(client.get(f"/reach/outcomes/download/{name}.xlsx?{query}").data))
        cells = list(workbook[name].iter_rows(values_only=True))[3:]
        assert {r[0]: _marks(r[1:6]) for r in cells} == expect, query
        assert _page_rows(page, name) == expect, query
        assert_nothing_recoverable([_shown(s) for label, s in rows.items() if label != total_label], total)
    for name, _, shown in section.funnel.steps:
        if isinstance(shown, int):
            assert f'data-step="{name}">{shown:,}<' in dashboard, query


def test_the_dashboard_funnel_hides_small_steps_and_what_subtraction_would_reveal():
    shown = board.shown_funnel(Step(booked=30, attended=25, completed=15, certified=14, current=3))
    assert [mark for _, _, mark in shown.steps] == ["hidden", 25, 15, "hidden", "fewer than 10"]
    assert shown.no_show_rate is None and shown.completion_rate == 0.6
    # The number completed is the number invited to evaluate, shown beside the funnel: the step next to it hides.
    shown = board.shown_funnel(Step(booked=389, attended=361, completed=356, certified=356, current=300))
    assert [mark for _, _, mark in shown.steps] == [389, "hidden", 356, 356, 300]
    assert shown.no_show_rate is None and shown.completion_rate is None
    shown = board.shown_funnel(Step(booked=40, attended=30, completed=30, certified=0, current=0))
    assert [mark for _, _, mark in shown.steps] == [40, 30, 30, 0, 0]
    assert shown.no_show_rate == 0.25 and shown.completion_rate == 1.0


def test_the_dashboard_section_the_outcomes_page_its_downloads_and_the_api_agree_under_every_filter(
        client, auth):
    """One figure everywhere: the dashboard's section (kept), the outcomes page's summary (kept), the tables and
    downloads (counted from the answers) and GET /api/v1/outcomes, for the same filters."""
    birmingham, coventry = factories.area("Birmingham"), factories.area("Coventry")
    low = {**GOOD, "confidence_before": "2", "confidence_now": "6", "rating": "3"}
    for area, code, n, answers in ((birmingham, "ADULT_2DAY", 12, GOOD), (coventry, "YOUTH_CHAMPION", 11, low)):
        course, teacher, bookings = factories.taught_course(code, trainees=n)
        for b in bookings:
            b.person.home_council_area = area
        factories.mark_everyone(course, by=teacher)
        from mhfa.certificates import services as certificates
        certificates.complete_course_and_issue(course, teacher)
        db.session.commit()
        answer_all(course, answers, count=n - 1)
    headers = _token(Role.BOARD)
    auth.login(factories.user(Role.BOARD))
    this_month = f"{london_today():%Y-%m}"
    queries = ["", f"area={birmingham.gss_code}", f"area={coventry.gss_code}", "type=YOUTH_CHAMPION",
               f"from={this_month}&to={this_month}", "from=2020-01&to=2020-12", "area=unknown"]
    for query in queries:
        parsed = parse_filters(MultiDict(parse_qsl(query)), areas_in_order(), course_types())
        section = board.section(parsed.filters)
        bare = raw.group_figures(None, parsed.filters).get("all", board.Figures())
        body = client.get(f"/api/v1/outcomes?{query}", headers=headers).get_json()
        api = body["evaluation"]
        assert section.answered == bare.answered, query
        assert api["answered"] == (None if 0 < bare.answered < 10 else bare.answered), query
        assert api["invited"] == bare.invited, query
        page = client.get(f"/reach/outcomes?{query}").get_data(as_text=True)
        dashboard = client.get(f"/reach?{query}").get_data(as_text=True)
        rows = list(csv.reader(io.StringIO(client.get(f"/reach/outcomes/download/outcomes-course_type.csv?{query}")
                                           .get_data().decode("utf-8-sig"))))[3:]
        assert sum(int(r[1]) for r in rows) == bare.invited, query  # invited is never suppressed
        same_funnel_everywhere(client, query, parsed.filters, section, body["funnel"], dashboard, page)
        if section.summary is None:
            assert api["suppressed"] and "have answered the evaluation under these filters" in dashboard
            continue
        before = section.summary.scores["confidence_before"]
        assert api["confidence_before"]["mean"] == round(before.mean, 4) == round(bare.scores["confidence_before"]
                                                                                   .mean, 4), query
        assert api["good_or_very_good"] == section.summary.good_share == bare.good_share, query
        low_, high = before.interval
        shown = f"{before.mean:.1f} (95% interval {low_:.1f} to {high:.1f}) out of 10"
        assert shown in dashboard and shown in page, query
        answered = [r for r in rows if r[2].isdigit()]
        if len(answered) == len(rows):  # no group suppressed: the table's rows add up to the summary
            assert sum(int(r[2]) for r in answered) == section.answered, query
    first_aiders = client.get("/api/v1/outcomes", headers=headers).get_json()["current_first_aiders"]
    rows = list(csv.reader(io.StringIO(client.get("/reach/outcomes/download/first-aiders.csv")
                                       .get_data().decode("utf-8-sig"))))[3:]
    *areas, total = rows
    assert total[0] == "All areas" and int(total[2]) == sum(int(r[2]) for r in areas)
    assert first_aiders == board.section(Filters()).current_first_aiders == int(total[2]) == 23
    public = client.get("/progress").get_data(as_text=True)
    region = board.public_region({birmingham.id, coventry.id})
    assert region.answered == 21 and "23 people counted for the region hold a current certificate" in public
