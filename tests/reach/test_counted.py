"""Counted toward the target: one figure, the target's own settings, the area's share, the period's end, days."""
from __future__ import annotations

from datetime import date

import pytest

from mhfa.auth.models import Role
from mhfa.extensions import db
from mhfa.reach import counted, dashboard
from mhfa.reach.counts import Filters
from mhfa.reach.settings import current_settings
from tests import factories
from tests.reach.test_api_and_settings import token_for
from tests.reach.test_dashboard import board_login, complete

HEADLINE_KEYS = {"counted_toward_target", "outside_region", "target_people", "required_to_date",
                 "rate_needed_per_month", "status", "as_of"}


@pytest.fixture()
def reached(app_ctx):
    """Twelve people in Birmingham, three in Coventry, one in Shropshire (outside the region), one unknown."""
    for i in range(12):
        complete(factories.person(f"B{i}"))
    for i in range(3):
        complete(factories.person(f"C{i}", home_council_area=factories.area("Coventry")), "AWARE", date(2025, 1, 9))
    complete(factories.person("S", home_council_area=factories.area("Shropshire")))
    complete(factories.person("U", home_council_area=None))
    db.session.commit()


def _programme(target=2000, start=date(2017, 1, 31), end=date(2027, 1, 31)):
    settings = current_settings(persist=True)
    settings.target_people, settings.start_on, settings.end_on = target, start, end
    db.session.commit()
    return settings


def test_the_target_start_and_end_come_from_the_programme_settings_in_the_database(reached):
    _programme(target=40, start=date(2020, 1, 1), end=date(2030, 1, 1))
    figures = dashboard.headline(Filters(), as_of=date(2025, 1, 1))
    assert (figures.target, figures.start_on, figures.end_on) == (40, date(2020, 1, 1), date(2030, 1, 1))
    assert figures.required == round(40 * (date(2025, 1, 1) - date(2020, 1, 1)).days / 3653)


def test_rate_needed_counts_days_not_month_boundaries_and_the_status_follows_it(reached):
    _programme(target=2000)
    figures = dashboard.headline(Filters(), as_of=date(2026, 12, 6))
    months_left = (date(2027, 1, 31) - date(2026, 12, 6)).days / 30.4375  # 56 days: 1.84 months, not "1 month"
    assert figures.rate_needed == pytest.approx((2000 - 16) / months_left)
    assert figures.rate_needed < 2000 - 16
    assert figures.status == "red"  # 16 of 1,969 needed, at a rate of nothing a month


def test_past_the_end_date_there_is_no_rate_to_give(reached):
    _programme(target=2000, start=date(2015, 1, 1), end=date(2016, 1, 1))
    figures = dashboard.headline(Filters(), as_of=date(2026, 12, 6))
    assert figures.rate_needed is None and figures.status == "red"
    _programme(target=10, start=date(2015, 1, 1), end=date(2016, 1, 1))
    assert dashboard.headline(Filters(), as_of=date(2026, 12, 6)).rate_needed == 0.0


def test_with_an_area_chosen_every_figure_uses_its_share_and_names_it(reached):
    _programme(target=2000)
    coventry = factories.area("Coventry")
    share = counted.pro_rata_targets()[coventry.id]
    assert 0 < share < 2000
    filters = Filters(area=coventry.id)
    figures = dashboard.headline(filters, as_of=date(2026, 12, 6))
    assert (figures.counted, figures.target, figures.area_name) == (3, share, "Coventry")
    assert figures.required == counted.required_at(date(2026, 12, 6), share)
    series = dashboard.cumulative_series(filters, as_of=date(2026, 12, 6))
    assert (series[-1]["cumulative"], series[-1]["required"]) == (figures.counted, figures.required)
    from mhfa.reach.chart import describe

    assert "in Coventry" in describe(figures) and f"{share:,}" in describe(figures)
    outside = dashboard.headline(Filters(area=factories.area("Shropshire").id), as_of=date(2026, 12, 6))
    assert (outside.counted, outside.outside, outside.target, outside.status) == (0, 1, None, "none")


def test_with_a_period_chosen_the_position_is_at_the_period_end(reached):
    _programme(target=2000)
    filters = Filters(start_month=202401, end_month=202406)
    figures = dashboard.headline(filters, as_of=date(2026, 12, 6))
    assert figures.as_of == date(2024, 6, 30)
    assert figures.required == counted.required_at(date(2024, 6, 30), 2000)
    assert (figures.counted, figures.in_period) == (13, 13)  # Birmingham's twelve and one unknown, March 2024
    assert dashboard.cumulative_series(filters, as_of=date(2026, 12, 6))[-1]["month"] == "2024-06"


def test_headline_chart_table_and_breakdowns_agree_and_outside_is_beside_never_in(reached):
    figures = dashboard.headline(Filters())
    series = dashboard.cumulative_series(Filters())
    assert series[-1]["cumulative"] == figures.counted == 16
    assert series[-1]["outside"] == figures.outside == 1
    assert series[-1]["required"] == figures.required
    for table in dashboard.all_tables(Filters())[2:]:
        assert table.rows[-1][0] == "Total counted toward the target"
        assert table.rows[-1][table.columns.index("People reached")] == 16, table.name
    for table in dashboard.all_tables(Filters(), include_outside=True)[2:]:
        assert table.rows[-1][table.columns.index("People reached")] == 17, table.name


def test_a_council_area_leaving_the_region_moves_the_breakdowns_with_the_headline(reached):
    coventry = factories.area("Coventry")
    coventry.in_target_region = False
    db.session.commit()
    assert dashboard.headline(Filters()).counted == 13
    assert dashboard.group_table("sector", Filters()).rows[-1][1] == 13
    coventry.in_target_region = True
    db.session.commit()
    assert dashboard.group_table("sector", Filters()).rows[-1][1] == 16


@pytest.mark.parametrize("group_by", ["council_area", "month", "course_type", "sector", "funding_stream"])
def test_every_reach_api_response_carries_the_headline(client, reached, group_by):
    headers = token_for(Role.BOARD)
    body = client.get(f"/api/v1/reach?group_by={group_by}", headers=headers).get_json()
    assert set(body["headline"]) == HEADLINE_KEYS
    assert body["total"] == body["headline"]["counted_toward_target"] == 16
    assert body["headline"]["outside_region"] == 1
    wider = client.get(f"/api/v1/reach?group_by={group_by}&include_outside=true", headers=headers).get_json()
    assert wider["total"] == 17 and wider["headline"] == body["headline"]
    area = client.get(f"/api/v1/reach?group_by={group_by}&area=E08000026", headers=headers).get_json()
    assert area["total"] == area["headline"]["counted_toward_target"] == 3
    assert area["headline"]["target_people"] == counted.pro_rata_targets()[factories.area("Coventry").id]
    assert client.get("/api/v1/reach?include_outside=maybe", headers=headers).status_code == 400


def test_the_dashboard_names_the_area_says_what_a_period_means_and_links_the_rule(client, auth, reached):
    board_login(auth)
    page = client.get("/reach?area=E08000026&from=2024-01&to=2024-06").get_data(as_text=True)
    assert "council area Coventry" in page and "area E08000026" not in page
    assert "people first reached in these months" in page and "at the end of the period" in page
    assert "Coventry&#39;s pro-rata share of the target" in page or "Coventry's pro-rata share" in page
    assert 'href="/progress/counted"' in page
    rule = client.get("/progress/counted")
    assert rule.status_code == 200 and counted.RULE in rule.get_data(as_text=True)
    assert 'href="/progress/counted"' in client.get("/progress").get_data(as_text=True)


def test_status_colours_follow_meaning(client, auth, reached):
    _programme(target=2000)
    board_login(auth)
    page = client.get("/reach").get_data(as_text=True)
    assert 'govuk-tag--red" data-figure="status">Red: behind' in page
    assert "govuk-tag--green" not in page


def test_per_1000_uses_the_population_aged_16_and_over_when_known_and_says_which(reached):
    from mhfa.areas.models import AgeGroup, AreaPopulation, CouncilArea

    birmingham = factories.area("Birmingham")
    db.session.add(AreaPopulation(council_area_id=birmingham.id, year=2020, age_group=AgeGroup.AGED_16_PLUS,
                                  population=880_000, source="test"))
    db.session.commit()
    rows = {row[0]: row for row in dashboard.area_table(Filters()).rows}
    assert rows["Birmingham"][5:8] == [880_000, "2020, aged 16+", round(1000 * 12 / 880_000, 2)]
    assert rows["Coventry"][6].endswith("all ages")  # no 16+ figure: all ages, said so
    all_ages = dict(counted.pro_rata_targets())  # not every area has 16+: every share on all ages
    for area in db.session.query(CouncilArea).filter(CouncilArea.in_target_region.is_(True)):
        if area.id != birmingham.id:
            db.session.add(AreaPopulation(council_area_id=area.id, year=2020, age_group=AgeGroup.AGED_16_PLUS,
                                          population=100_000, source="test"))
    db.session.commit()
    shares = counted.pro_rata_targets()
    assert shares != all_ages
    assert shares[birmingham.id] == round(current_settings().target_people * 880_000 / (880_000 + 6 * 100_000))


def test_a_16_plus_figure_added_up_from_illustrative_age_bands_says_so(reached):
    from mhfa.areas.models import EqualityPopulation

    coventry = factories.area("Coventry")
    for value, people in (("16-24", 50_000), ("25-34", 150_000)):
        db.session.add(EqualityPopulation(council_area_id=coventry.id, dimension="age_band", value=value, year=2021,
                                          population=people, source="Illustrative demo figures, not official"))
    db.session.commit()
    rows = {row[0]: row for row in dashboard.area_table(Filters()).rows}
    assert rows["Coventry"][5:7] == [200_000, "2021, aged 16+ (age bands added up; illustrative, not official)"]
    assert rows["Birmingham"][6].endswith("all ages")
