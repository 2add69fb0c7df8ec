"""The filters of the course lists: the public finder's (a GET form, also read by the API) and the
coordinators' list of courses. They parse the query string; where a postcode is, is the view's to ask
(``listings.place_postcode``)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from mhfa.courses.forms import date_field, options
from mhfa.courses.listings import STARTING, FinderFilters, ManageFilters, Nearness
from mhfa.courses.models import CourseStatus, DeliveryMode

# --- public finder -----------------------------------------------------------------------------

class FinderForm(FlaskForm):
    """The finder's filters, read from the query string (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    area = SelectField("Council area", choices=[], default="",
                       invalid_choice_message="Choose a council area from the list",
                       description="Courses in person there, and every online course (open to everyone).")
    type = SelectField("Course", choices=[], default="", invalid_choice_message="Choose a course from the list")
    mode = RadioField("In person or online", default="", validators=[Optional()],
                      choices=options([("", "Either"), ("in_person", "In person"), ("online", "Online")]))
    from_date = date_field("From", "Enter the 'from' date as a real date, like 27/03/2027", "For example, 27/03/2027")
    to_date = date_field("To", "Enter the 'to' date as a real date, like 30/04/2027", "For example, 30/04/2027")
    postcode = StringField("Your postcode (optional)", validators=[Optional(), Length(max=10)],
                           description="The nearest venues come first, then each distance in the date order below. "
                                       "The first half is enough, like CV1.")
    free_places = BooleanField("Only courses with free places", false_values=("false", "", "0", "no", "n", "off"))
    sort = SelectField("Order", default="date",
                       choices=options([("date", "Soonest first"), ("-date", "Latest first")]))

    def __init__(self, *args, areas=(), course_types=(), **kwargs):
        super().__init__(*args, **kwargs)
        self._areas = {area.code: area for area in areas}
        self._types = {kind.code: kind for kind in course_types}
        self.area.choices = options([("", "Any area")] + [(a.code, a.name) for a in areas])
        self.type.choices = options([("", "Any course")] + [(t.code, t.name) for t in course_types])

    def validate_to_date(self, field):
        if field.data and self.from_date.data and field.data < self.from_date.data:
            raise ValidationError("The 'to' date must be the same as or after the 'from' date")

    def typed_postcode(self) -> str | None:
        """The postcode typed (a district alone will do), for the view to place; None if none or refused."""
        return (self.postcode.data or "").strip() or None if not self.postcode.errors else None

    @classmethod
    def read(cls, args, areas, course_types) -> FinderForm:
        """The finder's form over a query string, checked (a refused field filters nothing)."""
        form = cls(formdata=args, areas=areas, course_types=course_types)
        form.validate()
        return form

    def placed_filters(self, place) -> FinderFilters:
        """The filters, with the typed postcode placed by ``place`` (``listings.place_postcode``: where it is,
        or why it cannot be placed, said on its field while the other filters still apply)."""
        near, problem = place(self.typed_postcode())
        if problem:
            self.postcode.errors.append(problem)
        return self.filters(near)

    def filters(self, near: Nearness | None = None) -> FinderFilters:
        """The filters of the fields that are valid (an invalid field filters nothing); ``near``: where the
        typed postcode is (``listings.nearness``)."""
        def ok(field):
            return field.data if not field.errors else None

        area = self._areas.get(ok(self.area) or "")
        kind = self._types.get(ok(self.type) or "")
        mode = (ok(self.mode) or "").strip()  # blank (even all spaces) means either
        return FinderFilters(
            council_area_id=area.id if area else None,
            course_type_id=kind.id if kind else None,
            date_from=ok(self.from_date),
            date_to=ok(self.to_date),
            delivery_mode=DeliveryMode(mode) if mode else None,
            free_places=bool(self.free_places.data),
            latest_first=self.sort.data == "-date",
            near=near if not self.postcode.errors else None,
        )


class ManageFilterForm(FlaskForm):
    """Filters of the coordinators' list of courses (GET)."""

    class Meta:
        csrf = False

    status = SelectField("Status", default="", choices=options([("", "Any status")] + [(s.value, s.value.capitalize())
                                                                           for s in CourseStatus]),
                         invalid_choice_message="Choose a status from the list")
    area = SelectField("Council area", choices=[], default="",
                       invalid_choice_message="Choose a council area from the list")
    starts = SelectField("Starts", default="", choices=options([("", "Any time")] + list(STARTING.items())),
                         invalid_choice_message="Choose when the courses start from the list")
    instructor = SelectField("Instructor", default="",
                             choices=options([("", "Any"), ("needed", "Needs an instructor")]),
                             invalid_choice_message="Choose an instructor filter from the list",
                             description="Needs an instructor: draft or published, none assigned yet.")
    from_date = date_field("Starting from", "Enter the 'starting from' date as a real date, like 27/03/2027",
                           "Empty: any date (the list opens on the courses not started yet)")
    to_date = date_field("Starting by", "Enter the 'starting by' date as a real date, like 30/04/2027")

    def __init__(self, *args, areas=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.area.choices = options([("", "Any area")] + [(str(a.id), a.name) for a in areas])

    def validate_to_date(self, field):
        if field.data and self.from_date.data and field.data < self.from_date.data:
            raise ValidationError("The 'starting by' date must be the same as or after the 'starting from' date")

    def filters(self) -> ManageFilters:
        """The filters chosen (a field with an error is left out)."""
        def ok(field):
            return field.data if not field.errors else None

        return ManageFilters(
            status=CourseStatus(self.status.data) if ok(self.status) else None,
            council_area_id=int(self.area.data) if ok(self.area) else None,
            date_from=ok(self.from_date),
            date_to=ok(self.to_date),
            starting=ok(self.starts) or None,
            needs_instructor=ok(self.instructor) == "needed",
        )
