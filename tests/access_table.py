"""Who may use each endpoint, written out independently of the routes' own declarations.

tests/test_access.py checks every route against this table and against the live answers, so a change of
access must change both the route and this table. Add a line for every new endpoint.
"""
from mhfa.auth.models import Role

PUBLIC = "public"          # anyone
TOKEN = "token"            # anyone holding the unguessable token in the URL
LOGIN = "login"            # any signed-in user
API_TOKEN = "api_token"    # a personal API token (Authorization: Bearer)

EXPECTED_ACCESS = {
    "admin.edit_user": {Role.ADMIN},
    "admin.users": {Role.ADMIN},
    "api.cancel_booking": API_TOKEN,
    "api.create_booking": API_TOKEN,
    "api.get_course": PUBLIC,
    "api.list_bookings": API_TOKEN,
    "api.list_courses": PUBLIC,
    "api.openapi": PUBLIC,
    "api.reach": API_TOKEN,
    "api.show_booking": API_TOKEN,
    "auth.account": LOGIN,
    "auth.change_password": LOGIN,
    "auth.confirm_email": TOKEN,
    "auth.forgot_password": PUBLIC,
    "auth.login": PUBLIC,
    "auth.logout": LOGIN,
    "auth.register": PUBLIC,
    "auth.resend_confirmation": PUBLIC,
    "auth.reset_password": TOKEN,
    "bookings.book": LOGIN,
    "bookings.cancel": LOGIN,
    "bookings.cancel_trainee_booking": {Role.COORDINATOR},
    "bookings.my_courses": LOGIN,
    "courses.area_calendars": {Role.COORDINATOR},
    "courses.assign_instructor": {Role.COORDINATOR},
    "courses.calendar_feed": TOKEN,
    "courses.cancel_course": {Role.COORDINATOR},
    "courses.course_ics": PUBLIC,
    "courses.course_page": PUBLIC,
    "courses.delete_instructor": {Role.COORDINATOR},
    "courses.delete_venue": {Role.COORDINATOR},
    "courses.edit_course": {Role.COORDINATOR},
    "courses.edit_instructor": {Role.COORDINATOR},
    "courses.edit_venue": {Role.COORDINATOR},
    "courses.finder": PUBLIC,
    "courses.instructor_calendar": {Role.INSTRUCTOR},
    "courses.instructors": {Role.COORDINATOR},
    "courses.manage_course": {Role.COORDINATOR},
    "courses.manage_courses": {Role.COORDINATOR},
    "courses.new_course": {Role.COORDINATOR},
    "courses.new_instructor": {Role.COORDINATOR},
    "courses.new_venue": {Role.COORDINATOR},
    "courses.publish_course": {Role.COORDINATOR},
    "courses.remove_instructor": {Role.COORDINATOR},
    "courses.reset_instructor_feed": {Role.INSTRUCTOR},
    "courses.reset_trainee_feed": {Role.TRAINEE},
    "courses.trainee_calendar": {Role.TRAINEE},
    "courses.venues": {Role.COORDINATOR},
    "main.healthz": PUBLIC,
    "main.home": PUBLIC,
    "people.profile": LOGIN,
    "reach.dashboard": {Role.BOARD, Role.COORDINATOR},
    "reach.download": {Role.BOARD, Role.COORDINATOR},
    "reach.open_data": PUBLIC,
    "reach.programme_settings": {Role.COORDINATOR, Role.ADMIN},
    "reach.progress": PUBLIC,
    "reach.upload": {Role.COORDINATOR},
}
