"""The finder's JSON twin: GET /api/v1/courses and /api/v1/courses/<id>."""
from datetime import datetime, time, timedelta

from mhfa.bookings.models import BookingStatus
from mhfa.courses.models import CourseStatus, DeliveryMode
from mhfa.extensions import db
from mhfa.timeutil import london_today
from tests import factories


def soon(days: int = 7, hour: int = 9) -> datetime:
    return datetime.combine(london_today() + timedelta(days=days), time(hour))


def ids(response) -> list[int]:
    return [c["id"] for c in response.json["courses"]]


def test_list_gives_each_course_with_places_times_and_links(client, app_ctx):
    change = factories.next_clock_change(3)
    saturday = datetime.combine(change - timedelta(days=1), time(9))
    monday = datetime.combine(change + timedelta(days=1), time(9))
    course = factories.course("ADULT_2DAY", capacity=10, venue_=factories.venue(council_area="Sandwell"),
                              session_times=[(saturday, saturday.replace(hour=16)), (monday, monday.replace(hour=16))])
    for _ in range(3):
        factories.booking_on(course)
    factories.booking_on(course, status=BookingStatus.WAITLISTED)
    db.session.commit()

    response = client.get("/api/v1/courses")
    assert response.status_code == 200 and response.mimetype == "application/json"
    (item,) = response.json["courses"]
    assert item == {
        "id": course.id,
        "course_type": "ADULT_2DAY",
        "title": "Adult MHFA (two day)",
        "delivery_mode": "in_person",
        "council_area": {"code": "E08000028", "name": "Sandwell"},
        "first_session_starts_at": f"{saturday:%Y-%m-%d}T09:00:00+00:00",
        "last_session_ends_at": f"{monday:%Y-%m-%d}T16:00:00+01:00",
        "capacity": 10,
        "places_left": 7,
        "waiting_list_length": 1,
        "price_pence": 0,
        "url": f"http://reach.test/courses/{course.id}",
        "ics_url": f"http://reach.test/courses/{course.id}.ics",
    }
    assert response.json["total"] == 1 and response.json["page"] == 1 and response.json["pages"] == 1
    assert datetime.fromisoformat(item["first_session_starts_at"]) == course.starts_at


def test_list_takes_the_finder_filters(client, app_ctx):
    walsall = factories.course("AWARE", start=soon(5), capacity=1, venue_=factories.venue(council_area="Walsall"))
    factories.booking_on(walsall)
    online = factories.course("ADULT_2DAY", start=soon(15), mode=DeliveryMode.ONLINE,
                              council_area_id=factories.area("Walsall").id)
    youth = factories.course("YOUTH_2DAY", start=soon(25))
    factories.course("AWARE", start=soon(5), status=CourseStatus.DRAFT)
    factories.course("AWARE", start=soon(5), employer=factories.employer())
    db.session.commit()

    assert ids(client.get("/api/v1/courses")) == [walsall.id, online.id, youth.id]
    assert ids(client.get("/api/v1/courses?area=E08000030")) == [walsall.id, online.id]
    assert ids(client.get("/api/v1/courses?type=YOUTH_2DAY")) == [youth.id]
    assert ids(client.get("/api/v1/courses?mode=online")) == [online.id]
    assert ids(client.get("/api/v1/courses?free_places=true")) == [online.id, youth.id]
    assert ids(client.get("/api/v1/courses?free_places=0")) == [walsall.id, online.id, youth.id]
    assert ids(client.get(f"/api/v1/courses?from_date={soon(10).date()}&to_date={soon(20).date()}")) == [online.id]
    assert ids(client.get("/api/v1/courses?sort=-date")) == [youth.id, online.id, walsall.id]
    paged = client.get("/api/v1/courses?per_page=2&page=2").json
    assert [c["id"] for c in paged["courses"]] == [youth.id] and paged["pages"] == 2 and paged["total"] == 3
    assert client.get("/api/v1/courses?per_page=2&page=3").json["courses"] == []


def test_bad_filters_are_a_400_naming_them(client, app_ctx):
    response = client.get("/api/v1/courses?from_date=2027-13-01&mode=teleport&per_page=500")
    assert response.status_code == 400
    errors = response.json["errors"]
    assert set(errors) == {"from_date", "mode", "per_page"}
    assert "from" in response.json["error"]


def test_detail_gives_sessions_and_venue_but_never_the_joining_link(client, app_ctx):
    course = factories.course("AWARE", start=soon(), venue_=factories.venue("Hub", council_area="Dudley",
                                                                           access_notes="Ramp at the side."))
    online = factories.course("AWARE", start=soon(), mode=DeliveryMode.ONLINE, council_area_id=factories.area().id,
                              joining_url="https://meet.example.org/room-42")
    db.session.commit()

    data = client.get(f"/api/v1/courses/{course.id}").json
    assert data["venue"]["name"] == "Hub" and data["venue"]["access_notes"] == "Ramp at the side."
    assert data["sessions"] == [{"starts_at": data["first_session_starts_at"], "ends_at": data["last_session_ends_at"]}]
    assert data["bookable"] is True and data["certificate"] == "Certificate of attendance"
    online_data = client.get(f"/api/v1/courses/{online.id}").json
    assert online_data["venue"] is None and "room-42" not in str(online_data)
    missing = client.get("/api/v1/courses/999999")
    assert missing.status_code == 404 and "error" in missing.json


def test_openapi_documents_the_course_routes(client):
    document = client.get("/api/v1/openapi.json").json
    assert {"/courses", "/courses/{course_id}"} <= set(document["paths"])
    assert "Course" in document["components"]["schemas"]
    names = {p["name"] for p in document["paths"]["/courses"]["get"]["parameters"]}
    assert {"area", "type", "mode", "from_date", "to_date", "free_places", "page", "per_page"} <= names


def test_closed_courses_stay_out_of_the_api_whatever_a_profile_says(client, app_ctx):
    from mhfa.auth import services as auth_services
    from mhfa.auth.models import Role
    from mhfa.employers.models import VoucherStatus

    acme = factories.employer("Acme Ltd")
    closed = factories.course("AWARE", start=soon(5), employer=acme)
    chancer = factories.user(Role.TRAINEE, employer=acme)  # picked Acme on their own profile
    holder = factories.user(Role.TRAINEE)
    voucher = factories.voucher(acme, "AWARE", status=VoucherStatus.ASSIGNED, assigned_to=holder.person)
    chancer_token, holder_token = auth_services.issue_api_token(chancer), auth_services.issue_api_token(holder)
    db.session.commit()

    assert closed.id not in ids(client.get("/api/v1/courses"))
    assert client.get(f"/api/v1/courses/{closed.id}").status_code == 404
    book = f"/api/v1/courses/{closed.id}/bookings"
    assert client.post(book, headers={"Authorization": f"Bearer {chancer_token}"}).status_code == 404
    holder_headers = {"Authorization": f"Bearer {holder_token}"}
    refused = client.post(book, headers=holder_headers)
    assert refused.status_code == 422 and "place voucher code" in refused.json["error"]
    booked = client.post(book, headers=holder_headers, json={"voucher_code": voucher.code})
    assert booked.status_code == 201 and booked.json["source"] == "employer"
