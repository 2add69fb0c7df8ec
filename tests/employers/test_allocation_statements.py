"""The SQL a staff list costs: handing out places by CSV must not grow with the size of the programme."""
from mhfa.employers import vouchers
from mhfa.employers.models import VoucherStatus
from mhfa.extensions import db
from tests import factories


def _staff_csv(prefix: str, n: int) -> bytes:
    lines = ["first_name,last_name,email", *(f"Staff,Member{i},{prefix}{i}@acme.example" for i in range(n))]
    return ("\n".join(lines) + "\n").encode()


def _allocate(count_queries, n: int, prefix: str) -> list[str]:
    acme = factories.employer(f"Acme {prefix}")
    contact = factories.contact(acme)
    order = factories.order(acme, places=n, by=contact)
    db.session.commit()
    with count_queries() as statements:
        vouchers.allocate_csv(acme, order, _staff_csv(prefix, n), by=contact)
        db.session.flush()
    db.session.commit()
    return statements


def test_new_staff_are_looked_up_together_and_never_recount_reach(app_ctx, count_queries):
    few = _allocate(count_queries, 5, "few")
    many = _allocate(count_queries, 25, "many")
    lookups = [s for s in many if "lower(person.email)" in s.lower()]
    assert len(lookups) == 1, "each address was looked up on its own"
    assert not [s for s in many if "reach_first" in s], "adding people with no completion recounted reach"
    per_person = (len(many) - len(few)) / 20
    assert per_person <= 6, f"{per_person:.1f} statements per member of staff"


def _dashboard_statements(client, auth, count_queries, staff: int, prefix: str) -> int:
    acme = factories.employer(f"Acme {prefix}")
    contact = factories.contact(acme)
    order = factories.order(acme, places=staff, by=contact)
    given = vouchers.allocate_csv(acme, order, _staff_csv(prefix, staff), by=contact).vouchers
    for voucher in given:  # each on a course of their own, so a page that loads each course's sessions shows it
        course = factories.course(capacity=2)
        factories.booking_on(course, voucher.assigned_person, voucher_id=voucher.id)
        voucher.status = VoucherStatus.REDEEMED
    db.session.commit()
    auth.login(contact)
    client.get("/employer")
    db.session.expunge_all()
    with count_queries() as statements:
        response = client.get("/employer")
    assert response.status_code == 200
    auth.logout()
    return len(statements)


def test_the_employer_dashboard_runs_as_many_statements_for_twenty_staff_as_for_two(client, auth, count_queries):
    few = _dashboard_statements(client, auth, count_queries, 2, "two")
    many = _dashboard_statements(client, auth, count_queries, 20, "twenty")
    assert many <= few + 2, f"{few} statements for 2 staff, {many} for 20"
