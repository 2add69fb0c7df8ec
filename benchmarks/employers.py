"""Employers at programme scale: the contact's dashboard and exports, and handing out places by CSV.

The ten organisations of the demo history with the most places bought each get a contact of the
benchmark's own; through the Flask test client, signed in as those contacts:

- the employer dashboard (places, coverage, the first page of staff with their training), beside the
  bare SQL of its place counts;
- the staff export as CSV and as an Excel workbook;
- allocating 200 places by a CSV of new staff (every row checked, people created, each told by
  email) on a new order, beside a bare SQL insert of the same people and voucher updates; rolled back.
"""
from __future__ import annotations

import time

import psycopg
import sqlalchemy as sa

from benchmarks.certificates import BENCH_COORDINATOR
from benchmarks.harness import (
    Context,
    Figure,
    bench_user,
    libpq_url,
    ms_p50_p95,
    p50_p95,
    signed_in_client,
    timed,
    timed_and_rolled_back,
)

NAME = "employers"
EMPLOYERS = 10
PAGES = 20
EXPORTS = 5
ALLOCATED = 200

BARE_PLACES = """
SELECT count(v.id), count(v.assigned_person_id), count(b.id)
FROM place_voucher v JOIN employer_order o ON o.id = v.order_id
LEFT JOIN booking b ON b.voucher_id = v.id AND b.status <> 'cancelled'
WHERE o.employer_id = %s AND o.status <> 'cancelled'
"""


def _contacts(app) -> list[tuple[int, str, str]]:
    """A contact of the benchmark's own for each of the largest organisations: (employer id, email, password)."""
    import secrets

    from mhfa.auth import services as accounts
    from mhfa.auth.models import Role
    from mhfa.employers.models import Employer, EmployerContact, EmployerStatus, Order, PlaceVoucher
    from mhfa.extensions import db
    from mhfa.timeutil import utcnow

    contacts = []
    with app.app_context():
        largest = db.session.execute(
            sa.select(Employer.id).join(Order, Order.employer_id == Employer.id)
            .join(PlaceVoucher, PlaceVoucher.order_id == Order.id)
            .where(Employer.status == EmployerStatus.APPROVED)
            .group_by(Employer.id).order_by(sa.func.count(PlaceVoucher.id).desc(), Employer.id).limit(EMPLOYERS)
        ).scalars().all()
        for n, employer_id in enumerate(largest):
            email = f"bench-employer-{n}@bench.example.org"
            password = secrets.token_urlsafe(18)
            user = accounts.user_by_email(email)
            if user is None:
                user, _ = accounts.create_user(email, [Role.EMPLOYER], first_name="Bench", last_name=f"Contact{n}",
                                               password=password)
            else:
                user.set_password(password)
            user.email_confirmed_at = user.email_confirmed_at or utcnow()
            contact = db.session.scalar(sa.select(EmployerContact).where(EmployerContact.user_id == user.id))
            if contact is None:
                db.session.add(EmployerContact(employer_id=employer_id, user=user, email=email, confirmed_at=utcnow()))
            else:
                contact.employer_id = employer_id
            contacts.append((employer_id, email, password))
        db.session.commit()
        db.engine.dispose()
    return contacts


def _pages(app, conn, contacts) -> dict:
    dashboards, bare, csvs, workbooks = [], [], [], []
    staff_rows = 0
    for employer_id, email, password in contacts:
        client = signed_in_client(app, email, password)
        client.get("/employer")
        for _ in range(PAGES):
            response = timed(lambda c=client: c.get("/employer"), dashboards)
            assert response.status_code == 200, response.status_code
            timed(lambda e=employer_id: conn.execute(BARE_PLACES, (e,)).fetchone(), bare)
        for _ in range(EXPORTS):
            exported = timed(lambda c=client: c.get("/employer/staff.csv"), csvs)
            assert exported.status_code == 200, exported.status_code
            workbook = timed(lambda c=client: c.get("/employer/staff.xlsx"), workbooks)
            assert workbook.status_code == 200 and workbook.data[:2] == b"PK", workbook.status_code
        staff_rows = max(staff_rows, exported.get_data(as_text=True).count("\n") - 1)
    return {"dashboards": dashboards, "bare": bare, "csvs": csvs, "workbooks": workbooks, "staff_rows": staff_rows}


def _staff_file(prefix: str) -> bytes:
    lines = ["first_name,last_name,email"]
    lines += [f"Bench,Staff{n},{prefix}-{n}@bench.example.org" for n in range(ALLOCATED)]
    return ("\r\n".join(lines) + "\r\n").encode()


def _allocation(app, employer_id: int, email: str) -> dict:
    """A new order of 200 places for the largest organisation, invoiced, allocated by CSV: timed, then rolled back."""
    from mhfa.auth.models import Role

    bench_user(app, BENCH_COORDINATOR, Role.COORDINATOR)
    import uuid

    from mhfa.auth import services as accounts
    from mhfa.courses.models import CourseType
    from mhfa.employers import orders, vouchers
    from mhfa.employers.models import Employer, OrderKind
    from mhfa.extensions import db

    data = _staff_file(f"bench-staff-{uuid.uuid4().hex[:6]}")
    with app.app_context():
        contact = accounts.user_by_email(email)
        coordinator = accounts.user_by_email(BENCH_COORDINATOR)
        employer = db.session.get(Employer, employer_id)
        kind = db.session.scalar(sa.select(CourseType).where(CourseType.code == "ADULT_2DAY"))
        order = orders.place_order(employer, orders.OrderRequest(
            OrderKind.COURSE_TYPE, places=ALLOCATED, course_type_id=kind.id, purchase_order_ref="BENCH-PO",
            billing_address="1 Bench Street, Birmingham"), by=contact)
        orders.issue_invoice(order, by=coordinator)
        ms, given = timed_and_rolled_back(
            lambda: len(vouchers.allocate_csv(employer, order, data, by=contact).vouchers))
    return {"ms": ms, "given": given}


def _bare_allocation(conn: psycopg.Connection, employer_id: int) -> float:
    """The floor: 200 people inserted and 200 of the organisation's vouchers pointed at them, then rolled back."""
    voucher_ids = [row[0] for row in conn.execute(
        "SELECT v.id FROM place_voucher v JOIN employer_order o ON o.id = v.order_id WHERE o.employer_id = %s "
        "ORDER BY v.id LIMIT %s", (employer_id, ALLOCATED))]
    began = time.perf_counter()
    with conn.cursor() as cursor:
        for n, voucher_id in enumerate(voucher_ids * (ALLOCATED // max(len(voucher_ids), 1) + 1)):
            if n == ALLOCATED:
                break
            cursor.execute("INSERT INTO person (first_name, last_name, email, source, created_at) "
                           "VALUES ('Bench', %s, %s, 'employer', now()) RETURNING id",
                           (f"Staff{n}", f"bare-bench-{n}@bench.example.org"))
            person = cursor.fetchone()[0]
            cursor.execute("UPDATE place_voucher SET assigned_person_id = %s WHERE id = %s", (person, voucher_id))
    seconds = time.perf_counter() - began
    conn.rollback()
    return seconds * 1000


def run(ctx: Context) -> list[Figure]:
    app = ctx.app()
    contacts = _contacts(app)
    with psycopg.connect(libpq_url(ctx.database_url)) as conn:
        pages = _pages(app, conn, contacts)
        bare_allocation = _bare_allocation(conn, contacts[0][0])
    allocation = _allocation(app, contacts[0][0], contacts[0][1])
    c50, c95 = p50_p95(pages["csvs"])
    x50, x95 = p50_p95(pages["workbooks"])
    return [
        Figure("employer dashboard p50 / p95", ms_p50_p95(pages["dashboards"]),
               f"bare SQL of its place counts {ms_p50_p95(pages['bare'])}", "", None,
               [f"the {len(contacts)} organisations with the most places, {PAGES} pages each"]),
        Figure("employer staff export CSV / Excel p95", f"{c95:.0f} / {x95:.0f} ms", "", "", None,
               [f"up to {pages['staff_rows']:,} staff rows; medians {c50:.0f} / {x50:.0f} ms"]),
        Figure(f"allocating {ALLOCATED} places by CSV", f"{allocation['ms']:.0f} ms ({allocation['given']} places)",
               f"bare SQL insert and update {bare_allocation:.0f} ms", "", None,
               ["every row checked, people created, one email each; rolled back"]),
    ]
