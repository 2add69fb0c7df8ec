"""Reach and spend by funding stream: who is counted where, what money is known, the cost per person reached."""
from __future__ import annotations

import csv
import io
import secrets
from datetime import UTC, date, datetime

import openpyxl
import pytest
import sqlalchemy as sa

from mhfa.attendance.models import Completion, CompletionSource
from mhfa.auth.models import Role
from mhfa.bookings.models import Booking
from mhfa.courses.models import CourseStatus, FundingStream
from mhfa.employers import orders
from mhfa.employers.billing import Invoice
from mhfa.employers.models import Order, OrderKind, OrderStatus, PlaceVoucher, VoucherStatus
from mhfa.extensions import db
from mhfa.reach import dashboard, keeping
from mhfa.reach.counts import Filters, Spend, kept_group_counts, kept_spend
from tests import factories
from tests.reach.bare import bare_group_counts, bare_spend
from tests.reach.test_api_and_settings import token_for


def by_stream(**filters):
    return kept_group_counts("funding_stream", Filters(**filters))


def completed_course(code="ADULT_2DAY", start=datetime(2024, 3, 4, 9), **fields):
    return factories.course(code, start=start, status=CourseStatus.COMPLETED, instructors=[], **fields)


def complete_on(course, person, voucher=None, on=date(2024, 3, 5)):
    booking = factories.booking_on(course, person, voucher=voucher)
    db.session.add(Completion(person=person, course_type=course.course_type, course=course, booking_id=booking.id,
                              completed_on=on))
    db.session.flush()


def invoiced_order(employer, places=10, price=12_000, code="ADULT_2DAY", status=OrderStatus.INVOICED):
    order = Order(employer_id=employer.id, course_type_id=factories.course_type(code).id, places=places,
                  price_per_place_pence=price, status=status, ordered_at=datetime(2024, 2, 1, 10, tzinfo=UTC))
    db.session.add(order)
    db.session.flush()
    if status in (OrderStatus.INVOICED, OrderStatus.PAID):  # what issuing its invoice records
        net = places * price
        db.session.add(Invoice(number=f"INV-T{order.id:05d}", order_id=order.id, net_pence=net, vat_pence=net // 5,
                               amount_pence=net + net // 5, issued_on=date(2024, 2, 2), due_on=date(2024, 3, 3)))
        db.session.flush()
    return order


def voucher_of(order):
    record = PlaceVoucher(order=order, code=secrets.token_urlsafe(12))
    db.session.add(record)
    return record


def test_courses_and_orders_default_to_the_streams_that_pay_for_them(app_ctx):
    employer = factories.employer()
    public, closed = completed_course(), completed_course(employer=employer)
    order = invoiced_order(employer)
    assert public.funding_stream is FundingStream.PUBLIC
    assert closed.funding_stream is FundingStream.EMPLOYER_PAID
    assert order.funding_stream is FundingStream.EMPLOYER_PAID


def test_a_person_counts_under_the_stream_that_first_reached_them_and_moves_with_it(app_ctx):
    employer = factories.employer()
    public = completed_course()
    order = invoiced_order(employer)
    paid, free, imported = factories.person("Paid"), factories.person("Free"), factories.person("Old")
    complete_on(public, paid, voucher_of(order))  # a place on a public course bought by an employer
    complete_on(public, free)
    db.session.execute(sa.insert(Completion), [{"person_id": imported.id, "course_type_id": public.course_type_id,
                                               "completed_on": date(2019, 5, 1), "source": CompletionSource.IMPORT}])
    keeping.refresh_people([imported.id])
    db.session.commit()
    assert by_stream() == {"employer_paid": 1, "public": 1, "": 1}

    public.funding_stream = FundingStream.OTHER
    order.funding_stream = FundingStream.PUBLIC
    db.session.commit()
    assert by_stream() == {"public": 1, "other": 1, "": 1}

    booking = db.session.scalar(sa.select(Booking).where(Booking.person_id == paid.id))
    booking.voucher = None  # the place was not the employer's after all
    db.session.commit()
    assert by_stream() == {"other": 2, "": 1} == bare_group_counts("funding_stream", Filters())
    assert keeping.rebuild() == []


def test_spend_counts_invoiced_orders_and_recorded_costs_and_names_the_gaps(app_ctx):
    employer = factories.employer()
    costed = completed_course(delivery_cost_pence=80_000)
    uncosted = completed_course(start=datetime(2024, 4, 8, 9))
    completed_course(employer=employer, delivery_cost_pence=99_999)  # employer-paid: its money is the order
    factories.course("ADULT_2DAY", instructors=[], delivery_cost_pence=50_000)  # not delivered yet
    invoiced_order(employer, places=10, price=12_000)
    invoiced_order(employer, places=3, price=12_000, status=OrderStatus.PENDING)
    db.session.commit()
    spend = kept_spend(Filters())
    assert (spend["public"].pence, spend["public"].uncosted) == (80_000, 1)
    assert (spend["employer_paid"].pence, spend["employer_paid"].items) == (120_000, 1)
    assert spend == bare_spend(Filters())

    uncosted.delivery_cost_pence = 70_000
    db.session.commit()
    assert kept_spend(Filters())["public"] == Spend(150_000, 2, 0)
    assert kept_spend(Filters(start_month=202404, end_month=202404))["public"].pence == 70_000
    costed.status = CourseStatus.CANCELLED
    db.session.commit()
    assert kept_spend(Filters())["public"].pence == 70_000 == bare_spend(Filters())["public"].pence
    assert keeping.rebuild() == []


@pytest.fixture()
def funded(app_ctx):
    """Two people reached on a public course costing £800, one on an employer order worth £1,200, one import."""
    employer = factories.employer()
    public = completed_course(delivery_cost_pence=80_000)
    order = invoiced_order(employer, places=10, price=12_000)
    for name in ("Ann", "Ben"):
        complete_on(public, factories.person(name))
    complete_on(public, factories.person("Cat"), voucher_of(order))
    person = factories.person("Dee")
    db.session.execute(sa.insert(Completion), [{"person_id": person.id, "course_type_id": public.course_type_id,
                                               "completed_on": date(2019, 5, 1), "source": CompletionSource.IMPORT}])
    keeping.refresh_people([person.id])
    db.session.commit()
    return public


def test_funding_table_gives_people_spend_and_cost_per_person_and_leaves_unknowns_blank(funded):
    table = dashboard.funding_table(Filters(), as_of=date(2026, 12, 1))
    rows = {row[0]: row for row in table.rows}
    assert rows["Publicly funded"][1:5] == [2, 800.0, 0, 400.0]
    assert rows["Employer-paid"][1:5] == [1, 1200.0, 0, 1200.0]
    assert rows["Not recorded (historical imports)"][4] is None
    assert rows["Not recorded (historical imports)"][5].startswith("Not known")
    total = rows["Total counted toward the target"]
    assert total[1] == 4 and total[4] is None  # the import's spend is not known
    assert "invoiced for employer orders, less credit notes" in table.note
    assert dashboard.AREA_SPEND_RULE not in table.note
    area = dashboard.funding_table(Filters(area=factories.area("Birmingham").id), as_of=date(2026, 12, 1))
    assert dashboard.AREA_SPEND_RULE in area.note  # one area's people beside the programme's money, said so

    completed_course(start=datetime(2024, 5, 6, 9))  # delivered, cost not recorded
    db.session.commit()
    rows = {row[0]: row for row in dashboard.funding_table(Filters(), as_of=date(2026, 12, 1)).rows}
    assert rows["Publicly funded"][3] == 1 and rows["Publicly funded"][4] is None
    assert "1 completed course(s) have no delivery cost recorded" in rows["Publicly funded"][5]


def test_dashboard_shows_the_funding_table_with_csv_and_excel(client, auth, funded):
    user = factories.user(Role.BOARD)
    db.session.commit()
    auth.login(user)
    page = client.get("/reach").get_data(as_text=True)
    assert "by funding stream, spend and cost per person reached" in page and "Cost per person reached" in page
    rows = list(csv.reader(io.StringIO(client.get("/reach/download/funding_stream.csv").get_data(as_text=True)
                                       .lstrip("\ufeff"))))
    public = next(r for r in rows if r and r[0] == "Publicly funded")
    assert public[1:5] == ["2", "800.0", "0", "400.0"]
    sheet = openpyxl.load_workbook(io.BytesIO(client.get("/reach/download/all.xlsx").data))["funding_stream"]
    values = {sheet.cell(r, 1).value: sheet.cell(r, 5).value for r in range(4, sheet.max_row + 1)}
    assert values["Publicly funded"] == 400


def test_api_groups_by_funding_stream_with_spend(client, funded):
    body = client.get("/api/v1/reach?group_by=funding_stream", headers=token_for(Role.BOARD)).get_json()
    rows = {r["key"]: r for r in body["rows"]}
    assert rows["public"]["people"] == 2 and rows["public"]["spend_pence"] == 80_000
    assert rows["employer_paid"]["spend_pence"] == 120_000 and rows["unknown"]["spend_pence"] is None
    assert body["total"] == 4


def test_coordinator_records_the_cost_of_a_course_that_has_run_and_the_cost_per_person_appears(
        client, auth, post_form, funded):
    coordinator = factories.user(Role.COORDINATOR)
    uncosted = completed_course(start=datetime(2024, 5, 6, 9))
    db.session.commit()
    auth.login(coordinator)
    rows = {row[0]: row for row in dashboard.funding_table(Filters(), as_of=date(2026, 12, 1)).rows}
    assert rows["Publicly funded"][4] is None  # one course's cost is not known yet
    refused = post_form(f"/manage/courses/{uncosted.id}/funding", {"funding_stream": "public", "delivery_cost": "-5"})
    assert refused.status_code == 422 and "Enter the delivery cost in pounds" in refused.get_data(as_text=True)
    response = post_form(f"/manage/courses/{uncosted.id}/funding", {"funding_stream": "public",
                                                                    "delivery_cost": "400"})
    assert response.status_code == 302
    assert "£400.00" in client.get(f"/manage/courses/{uncosted.id}").get_data(as_text=True)
    rows = {row[0]: row for row in dashboard.funding_table(Filters(), as_of=date(2026, 12, 1)).rows}
    assert rows["Publicly funded"][1:5] == [2, 1200.0, 0, 600.0]
    assert kept_spend(Filters()) == bare_spend(Filters())
    uncosted.status = CourseStatus.CANCELLED
    db.session.commit()
    refused = post_form(f"/manage/courses/{uncosted.id}/funding", {"funding_stream": "other", "delivery_cost": ""})
    assert refused.status_code == 422 and "has been cancelled" in refused.get_data(as_text=True)


def test_a_cancelled_invoiced_order_spent_its_invoice_less_its_credit_note(app_ctx):
    employer = factories.employer()
    order = factories.order(employer, places=4, code="ADULT_2DAY")
    invoice_net = order.invoice.net_pence
    assert kept_spend(Filters())["employer_paid"].pence == invoice_net
    waiting = factories.order(employer, places=2, code="ADULT_2DAY", status=OrderStatus.PENDING)
    assert kept_spend(Filters())["employer_paid"].pence == invoice_net, "an order not invoiced has spent nothing"

    place = order.vouchers[0]
    place.assigned_person = factories.person("Used", "Place")
    place.status = VoucherStatus.REDEEMED
    orders.cancel_order(order, by=factories.user(Role.COORDINATOR), reason="Fewer staff than planned")
    orders.cancel_order(waiting, by=factories.user(Role.COORDINATOR), reason="Not needed")
    db.session.commit()
    [credit] = order.credit_notes
    assert credit.places == 3 and credit.net_pence == -invoice_net * 3 // 4
    spend = kept_spend(Filters())["employer_paid"]
    assert spend.pence == invoice_net + credit.net_pence == invoice_net // 4
    assert kept_spend(Filters()) == bare_spend(Filters())
    assert keeping.rebuild() == []


def test_a_closed_course_bought_by_its_organisations_order_stays_employer_paid(client, auth, post_form):
    employer = factories.employer()
    closed = completed_course(employer=employer)
    db.session.add(Order(employer_id=employer.id, course_type_id=closed.course_type_id, course_id=closed.id,
                         kind=OrderKind.CLOSED_COURSE, places=closed.capacity, price_per_place_pence=9_000,
                         status=OrderStatus.PAID, ordered_at=datetime(2024, 2, 1, 10, tzinfo=UTC)))
    db.session.commit()
    auth.login(factories.user(Role.COORDINATOR))
    before = kept_spend(Filters())
    refused = post_form(f"/manage/courses/{closed.id}/funding", {"funding_stream": "public", "delivery_cost": "900"})
    assert refused.status_code == 422
    assert "is paid for by" in refused.get_data(as_text=True) and "order" in refused.get_data(as_text=True)
    db.session.refresh(closed)
    assert closed.funding_stream is FundingStream.EMPLOYER_PAID and closed.delivery_cost_pence is None
    assert kept_spend(Filters()) == before, "its money would have been counted twice"


def test_the_course_form_keeps_standard_funding_so_a_later_change_of_bookers_follows_it(app_ctx):
    from mhfa.courses.forms import CourseForm

    public = factories.course("ADULT_2DAY")
    assert CourseForm.data_of(public)["funding_stream"] == ""
    public.funding_stream = FundingStream.OTHER
    assert CourseForm.data_of(public)["funding_stream"] == "other"
