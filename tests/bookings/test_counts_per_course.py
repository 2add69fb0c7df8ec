"""Places and waiting-list positions are counted per course (found by mutation testing: scripts/mutation).

With a single course in the database a count that forgot the course would still be right, so each
test here has another course with bookings of its own beside the one it checks.
"""
from mhfa.bookings import services
from mhfa.bookings.models import BookingStatus
from tests import factories


def test_confirmed_places_are_counted_on_the_course_only(app_ctx):
    course, other = factories.course(capacity=10), factories.course(capacity=10)
    for _ in range(3):
        factories.booking_on(other)
    factories.booking_on(course)
    assert services.confirmed_count(course) == 1
    assert services.places_left(course) == 9


def test_waiting_list_positions_are_per_course(app_ctx):
    other, course = factories.course(capacity=1), factories.course(capacity=1)
    waiting_elsewhere = [factories.booking_on(other, status=BookingStatus.WAITLISTED) for _ in range(2)]
    first, second = (factories.booking_on(course, status=BookingStatus.WAITLISTED) for _ in range(2))
    assert [services.waiting_position(b) for b in (first, second)] == [1, 2]
    positions = services.waiting_positions([first, second, *waiting_elsewhere])
    assert positions == {first.id: 1, second.id: 2, waiting_elsewhere[0].id: 1, waiting_elsewhere[1].id: 2}
