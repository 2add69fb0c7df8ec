"""Outcomes suppressed as reach is, and the same everywhere: the funnel's rows beside their total, no rate beside a
hidden count, the awareness filter on the evaluation figures, and the open data file equal to the public page."""
import csv
import io
from urllib.parse import parse_qsl

import pandas as pd
import pytest
from werkzeug.datastructures import MultiDict

from mhfa import reminders
from mhfa.auth.models import Role
from mhfa.certificates import services as certificates
from mhfa.extensions import db
from mhfa.outcomes import board, evaluations
from mhfa.outcomes.funnel import Step
from mhfa.outcomes.models import FOLLOW_UP, OutcomeInvite
from mhfa.reach import counted, releases
from mhfa.reach.dashboard import areas_in_order, course_types
from mhfa.reach.forms import parse_filters
from mhfa.timeutil import london_today
from tests import factories
from tests.outcomes import bare as raw
from tests.outcomes.helpers import GOOD, answer_all
from tests.outcomes.test_board import _token, assert_nothing_recoverable, same_funnel_everywhere
from tests.outcomes.test_follow_ups import _six_months_on

LOW = {**GOOD, "confidence_before": "2", "confidence_now": "6", "rating": "3"}
POOR = {**GOOD, "confidence_before": "1", "confidence_now": "3", "rating": "2"}


def _course(code, area, trainees, *, attended=True, answers=None, answered=None, days_ago=3):
    course, teacher, bookings = factories.taught_course(code, trainees=trainees, days_ago=days_ago)
    for b in bookings:
        b.person.home_council_area = area
    if attended:
        factories.mark_everyone(course, by=teacher)
        certificates.complete_course_and_issue(course, teacher)
    db.session.commit()
    if answers:
        answer_all(course, answers, count=answered)
    return course


@pytest.fixture()
def programme(app_ctx):
    """Birmingham: 12 completed (11 answered) and, last month, 5 booked who came to no session; Coventry: 11 youth
    champions (10 answered), 12 on an awareness course (all answered) and 3 booked who came to no session; Dudley:
    4 booked who came to no session."""
    birmingham, coventry, dudley = (factories.area(n) for n in ("Birmingham", "Coventry", "Dudley"))
    adult = _course("ADULT_2DAY", birmingham, 12, answers=GOOD, answered=11)
    _course("YOUTH_CHAMPION", coventry, 11, answers=LOW, answered=10)
    _course("AWARE", coventry, 12, answers=POOR)
    _course("ADULT_2DAY", birmingham, 5, attended=False, days_ago=40)
    _course("ADULT_2DAY", coventry, 3, attended=False)
    _course("ADULT_2DAY", dudley, 4, attended=False)
    return birmingham, coventry, dudley, adult


def test_funnel_rows_beside_their_total_hide_a_second_cell_so_none_can_be_worked_out():
    total = Step(36, 23, 23, 23, 23)
    steps = [Step(3, 0, 0, 0, 0), Step(11, 11, 11, 11, 11), Step(12, 12, 12, 12, 12), Step(10, 0, 0, 0, 0)]
    rows = board.shown_funnel_rows(total, steps)
    marks = [[m for _, _, m in r.steps] for r in rows]
    assert marks[0][0] == "fewer than 10" and marks[3][0] == "hidden"  # the smallest other row's booked goes too
    assert marks[1] == [11, 11, 11, 11, 11] and marks[2] == [12, 12, 12, 12, 12]
    assert [m for _, _, m in board.shown_funnel(total).steps] == [36, 23, 23, 23, 23]
    assert_nothing_recoverable(marks, [m for _, _, m in board.shown_funnel(total).steps])
    assert rows[0].no_show_rate is None and rows[3].no_show_rate is None and rows[2].no_show_rate == 0.0


def test_the_step_beside_the_number_completed_hides_rather_than_the_number_completed():
    """The number completed is published as the number invited to evaluate: with 5 attended who did not complete,
    the number attended is hidden, not the number completed, so the 5 cannot be worked out."""
    shown = board.shown_funnel(Step(389, 361, 356, 356, 300))
    assert [m for _, _, m in shown.steps] == [389, "hidden", 356, 356, 300]
    shown = board.shown_funnel(Step(40, 35, 30, 30, 30))  # 10 lost in all: booked shows
    assert [m for _, _, m in shown.steps] == [40, "hidden", 30, 30, 30]
    shown = board.shown_funnel(Step(38, 35, 30, 30, 30))  # 8 lost in all would show beside 30: booked hides too
    assert [m for _, _, m in shown.steps] == ["hidden", "hidden", 30, 30, 30]


def test_the_funnel_is_suppressed_alike_on_the_dashboard_page_downloads_and_api(client, auth, programme):
    birmingham, coventry, dudley, _ = programme
    headers = _token(Role.BOARD)
    auth.login(factories.user(Role.BOARD))
    this_month = f"{london_today():%Y-%m}"
    seen = set()
    for query in ("", f"area={dudley.gss_code}", f"area={coventry.gss_code}", f"from={this_month}&to={this_month}",
                  f"area={birmingham.gss_code}&from={this_month}", "awareness=exclude", "type=AWARE"):
        parsed = parse_filters(MultiDict(parse_qsl(query)), areas_in_order(), course_types())
        section = board.section(parsed.filters)
        api = client.get(f"/api/v1/outcomes?{query}", headers=headers).get_json()["funnel"]
        page = client.get(f"/reach/outcomes?{query}").get_data(as_text=True)
        dashboard = client.get(f"/reach?{query}").get_data(as_text=True)
        same_funnel_everywhere(client, query, parsed.filters, section, api, dashboard, page)
        seen |= {m for _, _, m in section.funnel.steps if isinstance(m, str)}
        seen |= {m for row in api["by_course_type"] + api["by_month"] for m in row["suppressed"].values()}
    assert seen == {"fewer than 10", "hidden"}  # both a step of 1 to 9 and one 1 to 9 below the last shown


def test_a_period_filter_never_lets_a_rate_reveal_a_count_under_ten(client, auth, programme):
    """Four of the 35 followed up answer: the follow-up response rate would give 4."""
    birmingham, *_, adult = programme
    moment = _six_months_on(adult)
    reminders.send_due_reminders(moment)
    db.session.commit()
    follow_ups = [i for i in db.session.scalars(db.select(OutcomeInvite).where(
        OutcomeInvite.kind == FOLLOW_UP, OutcomeInvite.course_id == adult.id).order_by(OutcomeInvite.id))]
    for invitation in follow_ups[:4]:
        evaluations.answer(invitation, {"used_skills": "yes", "times_used": 2, "actions": ["listened"]}, None, moment)
    db.session.commit()
    this_month = f"{london_today():%Y-%m}"
    headers = _token(Role.BOARD)
    auth.login(factories.user(Role.BOARD))
    for query in ("", f"from={this_month}&to={this_month}", f"area={birmingham.gss_code}"):
        parsed = parse_filters(MultiDict(parse_qsl(query)), areas_in_order(), course_types())
        sent = raw.group_figures(None, parsed.filters)["all"].follow_ups
        body = client.get(f"/api/v1/outcomes?{query}", headers=headers).get_json()
        assert body["follow_up"]["sent"] == sent and body["follow_up"]["answered"] is None, query
        assert body["follow_up"]["response_rate"] is None and body["follow_up"]["suppressed"] is True, query
        assert body["follow_up"]["used_skills_rate"] is None, query
        for html in (client.get(f"/reach?{query}").get_data(as_text=True),
                     client.get(f"/reach/outcomes?{query}").get_data(as_text=True)):
            assert f"follow-up response rate not shown: fewer than 10 of {sent} answered" in html, query
            assert f"{4 / sent:.1%}" not in html and f"4 of {sent}" not in html, query
        rows = list(csv.reader(io.StringIO(client.get(f"/reach/outcomes/download/outcomes-area.csv?{query}")
                                           .get_data().decode("utf-8-sig"))))[3:]
        for row in rows:
            answered = row[12]
            assert not (answered.isdigit() and 0 < int(answered) < 10), (query, row)
            if not answered.isdigit():
                assert row[13] == "" and row[14] == "", (query, row)  # no rate beside a hidden count
    public = client.get("/progress").get_data(as_text=True)
    assert "fewer than 10 of 35 answered" in public and "4 of 35" not in public


def test_too_few_answers_show_no_count_anywhere(client, auth, programme):
    """Under ten answers the number who answered is not given (the API's null, the pages' words), nor a rate."""
    birmingham, coventry, *_ = programme
    headers = _token(Role.BOARD)
    auth.login(factories.user(Role.BOARD))
    query = "type=YOUTH_CHAMPION&awareness=exclude"
    assert client.get(f"/api/v1/outcomes?{query}", headers=headers).get_json()["evaluation"]["answered"] == 10
    factories.area("Dudley")
    dudley_only = f"area={factories.area('Dudley').gss_code}"
    body = client.get(f"/api/v1/outcomes?{dudley_only}", headers=headers).get_json()["evaluation"]
    assert body["answered"] == 0 and body["suppressed"] is True
    _course("ADULT_2DAY", factories.area("Dudley"), 6, answers=GOOD)
    body = client.get(f"/api/v1/outcomes?{dudley_only}", headers=headers).get_json()["evaluation"]
    assert body["answered"] is None and body["response_rate"] is None and body["invited"] is None  # 6: 1 to 9
    assert body["suppressed"] is True and body["confidence_before"] is None
    dashboard = client.get(f"/reach?{dudley_only}").get_data(as_text=True)
    assert "Fewer than 10 people have answered the evaluation under these filters, so" in dashboard
    assert "(6 so far)" not in dashboard


def test_the_awareness_filter_applies_to_the_evaluation_figures_everywhere(client, auth, programme):
    headers = _token(Role.BOARD)
    auth.login(factories.user(Role.BOARD))
    figures = {}
    for query in ("awareness=include", "awareness=exclude"):
        parsed = parse_filters(MultiDict(parse_qsl(query)), areas_in_order(), course_types())
        bare = raw.group_figures(None, parsed.filters)["all"]
        section = board.section(parsed.filters)
        api = client.get(f"/api/v1/outcomes?{query}", headers=headers).get_json()["evaluation"]
        assert section.answered == api["answered"] == bare.answered, query
        assert api["invited"] == bare.invited, query
        assert api["confidence_before"]["mean"] == round(bare.scores["confidence_before"].mean, 4), query
        assert api["good_or_very_good"] == section.summary.good_share == bare.good_share, query
        rows = list(csv.reader(io.StringIO(client.get(f"/reach/outcomes/download/outcomes-course_type.csv?{query}")
                                           .get_data().decode("utf-8-sig"))))[3:]
        assert sum(int(r[1]) for r in rows) == bare.invited, query
        page = client.get(f"/reach/outcomes?{query}").get_data(as_text=True)
        mean = f"{bare.scores['confidence_before'].mean:.1f} (95% interval"
        assert mean in page and mean in client.get(f"/reach?{query}").get_data(as_text=True), query
        figures[query] = bare
    assert figures["awareness=include"].answered == 33 and figures["awareness=exclude"].answered == 21
    assert figures["awareness=include"].scores["confidence_before"].mean != \
        figures["awareness=exclude"].scores["confidence_before"].mean


def test_the_open_data_outcomes_file_holds_the_public_page_figures(client, programme):
    region = board.public_region(counted.counted_keys())
    response = client.get("/progress/data/outcomes.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    frame = pd.read_csv(io.BytesIO(response.data))
    package = client.get("/progress/data/datapackage.json").get_json()
    [resource] = [r for r in package["resources"] if r["name"] == "outcomes"]
    assert list(frame.columns) == [f["name"] for f in resource["schema"]["fields"]]
    assert len(frame) == 1
    row = frame.iloc[0]
    f = region.figures
    assert bool(row["evaluation_shown"]) and row["answered"] == f.answered == 33 and row["invited"] == f.invited
    assert row["current_first_aiders"] == region.current_first_aiders
    public = client.get("/progress").get_data(as_text=True)
    before = f.scores["confidence_before"]
    assert row["confidence_before_mean"] == pytest.approx(before.mean, abs=1e-4)
    low, high = before.interval
    assert row["confidence_before_low_95"] == pytest.approx(low, abs=1e-4)
    assert f"{row['confidence_before_mean']:.1f} (95% interval {row['confidence_before_low_95']:.1f} to " \
           f"{row['confidence_before_high_95']:.1f}) out of 10" in public
    assert f"{row['rated_good_or_very_good']:.1%}" in public and f"{row['response_rate']:.1%}" in public
    assert f"{int(row['current_first_aiders']):,} people counted for the region hold a current certificate" in public
    assert pd.isna(row["used_skills"]) and row["follow_ups_sent"] == 0
    assert 'outcomes.csv</a>: What the training did, across the target region' in public
    body = client.get("/progress/data/progress.json").get_json()
    assert body["outcomes"][0]["answered"] == 33


def test_the_open_data_outcomes_file_publishes_nothing_from_under_ten_answers(client, app_ctx):
    course = _course("ADULT_2DAY", factories.area("Birmingham"), 9, answers=GOOD)
    assert course is not None
    frame = pd.read_csv(io.BytesIO(client.get("/progress/data/outcomes.csv").data))
    row = frame.iloc[0]
    assert not bool(row["evaluation_shown"]) and row["current_first_aiders"] == 9
    assert all(pd.isna(row[c]) for c in frame.columns if c not in ("as_of", "evaluation_shown",
                                                                   "current_first_aiders"))


def test_a_release_keeps_only_the_tables_it_froze(client, programme):
    release = releases.freeze(today=london_today())
    db.session.commit()
    assert "outcomes" not in release.data["tables"]
    assert client.get(f"/progress/releases/{release.key}/outcomes.csv").status_code == 404
    assert client.get(f"/progress/releases/{release.key}/areas.csv").status_code == 200
    package = client.get(f"/progress/releases/{release.key}/datapackage.json").get_json()
    assert [r["name"] for r in package["resources"]] == ["headline", "trajectory", "areas"]
    page = client.get(f"/progress/releases/{release.key}/").get_data(as_text=True)
    assert "areas.csv" in page and "outcomes.csv" not in page


def test_an_area_with_fewer_than_ten_completions_shows_no_count_of_them_anywhere(client, auth, programme):
    """Dudley: 6 completed (none answered), so 6 invited and 6 current first aiders: the number invited is the number
    completed, which the funnel hides, so the tables, the API and the first aiders by area hide it too."""
    dudley = programme[2]
    _course("ADULT_2DAY", dudley, 6)
    auth.login(factories.user(Role.BOARD))
    rows = {row[0]: row for row in csv.reader(io.StringIO(client.get("/reach/outcomes/download/outcomes-area.csv")
                                                          .get_data().decode("utf-8-sig")))}
    assert rows["Dudley"][1] == "fewer than 10"  # invited
    assert not any(cell.isdigit() and 0 < int(cell) < 10 for row in rows.values() for cell in row[1:3])
    aiders = {row[0]: row for row in csv.reader(io.StringIO(client.get("/reach/outcomes/download/first-aiders.csv")
                                                            .get_data().decode("utf-8-sig")))}
    assert aiders["Dudley"][2] == "fewer than 10" and aiders["Dudley"][5:] == ["", ""]  # no rate per 1,000 either
    headers = _token(Role.BOARD)
    body = client.get(f"/api/v1/outcomes?area={dudley.gss_code}", headers=headers).get_json()
    assert body["evaluation"]["invited"] is None and body["follow_up"]["sent"] in (None, 0)
    assert body["funnel"]["total"]["completed"] is None
    dashboard = client.get(f"/reach?area={dudley.gss_code}").get_data(as_text=True)
    assert "fewer than 10 of them in Dudley" in dashboard
