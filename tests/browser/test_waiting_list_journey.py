"""Places that change hands, in the browser: a trainee moves their booking to another date and the programme
team moves it back; close to a course, a freed seat is offered from the waiting list, accepted from the
email's link on one course and left to expire on another, where it passes to the next person.

The offer's 24 hours passing is the one thing a journey cannot wait for: ``_expire_offer`` moves the offer's
end into the past in the server's database, then the cron command runs as it would."""
import re
import sqlite3

from tests.browser.conftest import check_page, login, navigate, unique_email, visit
from tests.browser.journeys import in_a_few_weeks, publish, schedule_course

PASSWORD = "a slow boat along the cut"  # noqa: S105  (test accounts' password)
KIND = "Mental Health Aware (half day)"


def _trainee(live_server, prefix: str) -> str:
    address = unique_email(prefix)
    live_server.flask("mhfa", "create-user", "--email", address, "--role", "trainee",
                      "--name", f"{prefix.title()} Mover", "--date-of-birth", "1989-05-06", "--password", PASSWORD)
    return address


def _signed_in(new_page, live_server, prefix: str):
    address = _trainee(live_server, prefix)
    page = new_page()
    login(page, address, PASSWORD)
    return page, address


def _book(page, course_id: int) -> None:
    page.goto(f"/courses/{course_id}/book")
    navigate(page.get_by_role("button", name=re.compile("Book a place|Join the waiting list")))


def _course(coordinator, live_server, days: int, capacity: int = 1) -> int:
    course_id = schedule_course(coordinator, day=in_a_few_weeks(live_server, days), capacity=capacity)
    publish(coordinator, course_id)
    return course_id


def test_a_trainee_moves_their_booking_and_the_programme_team_moves_it_back(new_page, live_server, width):
    coordinator = new_page()
    login(coordinator, "coordinator@example.org")
    offset = 0 if width == "desktop" else 1
    first = _course(coordinator, live_server, 70 + offset)
    second = _course(coordinator, live_server, 77 + offset)
    trainee, address = _signed_in(new_page, live_server, "mover")
    _book(trainee, first)
    assert "You are booked on" in trainee.content()

    visit(trainee, "/my-courses", "my-courses-before-move")
    navigate(trainee.get_by_role("link", name=re.compile("^Change date")).first)
    check_page(trainee, "move-choose-date")
    navigate(trainee.get_by_role("button", name="Move my booking"))
    assert "Choose the date to move to" in trainee.content()  # nothing chosen: said on the field
    check_page(trainee, "move-refused")
    trainee.locator(f"input[name=course_id][value='{second}']").check()
    navigate(trainee.get_by_role("button", name="Move my booking"))
    assert "Your booking has moved to" in trainee.content()
    check_page(trainee, "moved")
    assert "moved from another date" in trainee.content()
    subjects = [str(m["Subject"]) for m in live_server.outbox.messages(address)]
    assert subjects[-1].startswith(f"Your booking has moved: {KIND}"), subjects

    visit(coordinator, f"/manage/courses/{second}", "course-with-moved-booking")
    assert "moved from another date" in coordinator.content()
    navigate(coordinator.get_by_role("link", name=re.compile("^Move to another date")).first)
    check_page(coordinator, "coordinator-move")
    coordinator.locator(f"input[name=course_id][value='{first}']").check()
    navigate(coordinator.get_by_role("button", name="Move this booking"))
    assert "booking has moved to" in coordinator.content() and f"/manage/courses/{first}" in coordinator.url
    check_page(coordinator, "moved-back")


def _expire_offer(live_server, address: str) -> None:
    """A day passing: the offer made to ``address`` ended a minute ago (see the module docstring)."""
    with sqlite3.connect(live_server.instance / "mhfa.db", timeout=30) as database:
        changed = database.execute(
            "UPDATE booking SET offer_expires_at = datetime('now', '-1 minutes') WHERE status = 'waitlisted' "
            "AND offer_expires_at IS NOT NULL AND person_id = (SELECT id FROM person WHERE email = :email)",
            {"email": address}).rowcount
    assert changed == 1


def test_a_seat_offered_close_to_the_course_is_accepted_and_another_expires(new_page, live_server, width):
    coordinator = new_page()
    login(coordinator, "coordinator@example.org")
    offset = 0 if width == "desktop" else 1
    accepted_course = _course(coordinator, live_server, 4 + offset)
    expiring_course = _course(coordinator, live_server, 5 + offset)
    holder, _ = _signed_in(new_page, live_server, "holder")
    first, first_address = _signed_in(new_page, live_server, "first")
    second, second_address = _signed_in(new_page, live_server, "second")
    for course_id in (accepted_course, expiring_course):
        for page in (holder, first, second):
            _book(page, course_id)

    # The holder gives up the place on the first course: the first person waiting is offered it.
    holder.goto("/my-courses")
    navigate(holder.locator("tr", has=holder.locator(f"a[href='/courses/{accepted_course}']"))
             .get_by_role("link", name=re.compile("^Cancel booking")))
    navigate(holder.get_by_role("button", name="Yes, cancel my booking"))
    subject = str(live_server.outbox.messages(first_address)[-1]["Subject"])
    assert subject.startswith("A place is offered to you until"), subject
    visit(first, "/my-courses", "my-courses-offer")
    assert "Place offered" in first.content()
    link = live_server.outbox.link(first_address, "/waiting-list/")
    visit(first, link, "offer")
    navigate(first.get_by_role("button", name="Accept the place"))
    assert "You have accepted the place" in first.content()
    check_page(first, "offer-accepted")

    # On the second course the offer is left to run out: the cron job passes it to the next person.
    holder.goto("/my-courses")
    navigate(holder.locator("tr", has=holder.locator(f"a[href='/courses/{expiring_course}']"))
             .get_by_role("link", name=re.compile("^Cancel booking")))
    navigate(holder.get_by_role("button", name="Yes, cancel my booking"))
    late_link = live_server.outbox.link(first_address, "/waiting-list/")
    assert late_link != link
    _expire_offer(live_server, first_address)
    result = live_server.flask("mhfa", "send-reminders", "--no-deliver")
    assert "passed to the next person: 1" in result.stdout
    visit(first, late_link, "offer-expired", status=410)
    assert "This offer ran out" in first.content()
    assert "has gone to the next person" in str(live_server.outbox.messages(first_address)[-1]["Subject"])

    offer = live_server.outbox.link(second_address, "/waiting-list/")
    visit(second, offer, "offer-to-the-next")
    navigate(second.get_by_role("button", name="Decline"))
    assert "You have declined the place" in second.content()
    check_page(second, "offer-declined")
