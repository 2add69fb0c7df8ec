"""Hostile input on the staff list, the date-of-birth page, adding users and invitation links: a clear
answer, never a 500, and nothing changed."""
import sqlalchemy as sa

from mhfa.auth.models import Role, User
from mhfa.employers import vouchers
from mhfa.extensions import db
from tests import factories

HUGE = 10**30


def test_the_staff_list_takes_any_query(client, auth):
    acme = factories.employer("Acme")
    contact = factories.contact(acme)
    order = factories.order(acme, places=1, by=contact)
    vouchers.allocate_one(acme, order, "Sam", "Staff", "sam@acme.example", by=contact)
    db.session.commit()
    auth.login(contact)
    for query in ("q=" + "%" * 300, "q=' OR 1=1 --", "q=_", "show=" + "x" * 500, "sort=1;DROP", f"page={HUGE}",
                  "page=-1", "q=%E2%80%AE", "show[]=booked"):
        response = client.get("/employer?" + query)
        assert response.status_code == 200, query
    assert "Sam Staff" in client.get("/employer?q=sam").get_data(as_text=True)
    assert "Sam Staff" not in client.get("/employer?q=_").get_data(as_text=True)  # a wildcard is a character
    for url in (f"/employer/places/{HUGE}/date-of-birth", "/employer/places/0/date-of-birth"):
        assert client.get(url).status_code == 404, url


def test_adding_a_user_refuses_bad_input_and_changes_nothing(client, auth, post_form):
    admin = factories.user(Role.ADMIN)
    db.session.commit()
    auth.login(admin)
    before = db.session.scalar(sa.select(sa.func.count(User.id)))
    base = {"email": "new@example.org", "first_name": "Nia", "last_name": "New", "roles": ["instructor", "employer"],
            "how": "invite", "licence_number": "L-9", "licence_expires_on": "2030-01-01", "employer": "1"}
    for bad in ({"employer": str(HUGE)}, {"employer": "٣"}, {"licence_expires_on": "99999-01-01"},
                {"licence_expires_on": "2030-02-30"}, {"email": "not-an-address"}, {"first_name": "Nia\u202e"},
                {"roles": ["superuser"]}, {"how": "password", "password": "short"}, {"licence_number": "x" * 500}):
        response = post_form("/admin/users/new", {**base, **bad})
        assert response.status_code == 422, bad
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == before
    assert post_form(f"/admin/users/{HUGE}/invite", {}, page="/admin/users/new").status_code == 404
    for token in ("x", "a" * 4000, "..%2F..%2Fetc"):
        assert client.get(f"/account/invitation/{token}").status_code in (400, 404), token
