"""Property: after any sequence of changes, every kept figure equals the bare count over the raw rows.

Random sequences of completions (through the ORM, as the attendance area writes them), imports and
re-imports (the bulk path), area changes, refreshers, revocations, course-type setting changes,
deleted completions and erasures (anonymising name, email and date of birth), and for the funding
streams: completions on courses (booked with or without an employer order's place voucher), changes
of a course's or an order's stream, delivery costs, course and order statuses and vouchers taken off
bookings, checked after every step on SQLite and on PostgreSQL (people by stream and spend included).
"""
from __future__ import annotations

import io
import secrets
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mhfa.attendance.models import Completion, CompletionSource
from mhfa.auth.models import User
from mhfa.bookings.models import Booking
from mhfa.certificates.models import Certificate
from mhfa.courses.models import Course, CourseSession, CourseStatus, CourseType, FundingStream
from mhfa.employers.models import Order, OrderStatus, PlaceVoucher
from mhfa.extensions import db
from mhfa.people.models import AgeBand, Person, Sex
from mhfa.reach import counted, keeping
from mhfa.reach.counts import (
    GROUPINGS,
    Filters,
    kept_all_group_counts,
    kept_area_group_counts,
    kept_counts,
    kept_group_counts,
    kept_month_area,
    kept_spend,
)
from mhfa.reach.models import (
    BASES,
    GROUP_DIMENSIONS,
    UNKNOWN_AREA,
    ReachFirst,
    ReachGroupAreaMonth,
    ReachGroupMonth,
    ReachMonth,
    ReachSpendMonth,
)
from mhfa.timeutil import utcnow
from tests import factories
from tests.reach.bare import bare_counts, bare_group_counts, bare_spend

AREAS = ["Birmingham", "Coventry", "Shropshire", None]
TYPES = ["ADULT_2DAY", "AWARE", "YOUTH_CHAMPION", "REFRESHER"]
PEOPLE = 5
BASE_DAY = date(2020, 1, 1)
COURSES = 3  # a public course, a closed (employer-paid) course and a public awareness course
ORDERS = 2

person_index = st.integers(0, PEOPLE - 1)
day = st.integers(0, 500)
step = st.one_of(
    st.tuples(st.just("complete"), person_index, st.sampled_from(TYPES), day, st.sampled_from(AREAS), st.booleans()),
    st.tuples(st.just("import"), st.lists(st.tuples(person_index, st.sampled_from(TYPES), day), min_size=1,
                                           max_size=4)),
    st.tuples(st.just("reimport")),
    st.tuples(st.just("area"), person_index, st.sampled_from(["home_council_area", "work_council_area"]),
              st.sampled_from(AREAS)),
    st.tuples(st.just("refresher"), person_index, day),
    st.tuples(st.just("revoke"), st.integers(0, 10)),
    st.tuples(st.just("delete"), st.integers(0, 10)),
    st.tuples(st.just("erase"), person_index),
    st.tuples(st.just("answers"), person_index, st.sampled_from([None, *AgeBand]), st.sampled_from([None, *Sex])),
    st.tuples(st.just("type_setting"), st.sampled_from(["AWARE", "YOUTH_CHAMPION"]), st.booleans(), st.booleans()),
    st.tuples(st.just("course_complete"), person_index, st.integers(0, COURSES - 1),
              st.one_of(st.none(), st.integers(0, ORDERS - 1)), day),
    st.tuples(st.just("course_stream"), st.integers(0, COURSES - 1), st.sampled_from(list(FundingStream))),
    st.tuples(st.just("order_stream"), st.integers(0, ORDERS - 1), st.sampled_from(list(FundingStream))),
    st.tuples(st.just("cost"), st.integers(0, COURSES - 1), st.one_of(st.none(), st.integers(0, 500_000))),
    st.tuples(st.just("course_status"), st.integers(0, COURSES - 1),
              st.sampled_from([CourseStatus.COMPLETED, CourseStatus.PUBLISHED, CourseStatus.CANCELLED])),
    st.tuples(st.just("order_status"), st.integers(0, ORDERS - 1), st.sampled_from(list(OrderStatus))),
    st.tuples(st.just("unvoucher"), st.integers(0, 10)),
)


def _reset(keep_people: tuple[int, ...] = ()):
    for model in (ReachFirst, ReachMonth, ReachGroupMonth, ReachGroupAreaMonth, ReachSpendMonth, Certificate,
                  Completion, Booking, PlaceVoucher, Order, CourseSession, Course, Person):
        db.session.execute(sa.delete(model).where(Person.id.not_in(keep_people)) if model is Person
                           else sa.delete(model))
    for kind in db.session.scalars(sa.select(CourseType)):
        kind.counts_toward_target = kind.code != "REFRESHER"
        kind.is_awareness = kind.code == "AWARE"
    db.session.commit()


def _area(name):
    return factories.area(name) if name else None


class World:
    def __init__(self):
        self.people = [factories.person(f"P{i}", home_council_area=_area(AREAS[i % 4])) for i in range(PEOPLE)]
        self.imported: list[tuple[int, int, date]] = []
        employer = factories.employer()
        self.courses = [
            factories.course("ADULT_2DAY", start=datetime(2020, 6, 1, 9), status=CourseStatus.COMPLETED,
                             instructors=[], delivery_cost_pence=90_000),
            factories.course("ADULT_2DAY", start=datetime(2021, 2, 1, 9), status=CourseStatus.COMPLETED,
                             instructors=[], employer=employer),
            factories.course("AWARE", start=datetime(2020, 3, 2, 9), status=CourseStatus.COMPLETED, instructors=[]),
        ]
        self.orders = [Order(employer_id=employer.id, course_type_id=factories.course_type(code).id, places=places,
                             price_per_place_pence=price, status=OrderStatus.INVOICED,
                             ordered_at=datetime(2020, month, 3, 10, tzinfo=UTC))
                       for code, places, price, month in (("ADULT_2DAY", 4, 15_000, 5), ("AWARE", 10, 6_000, 11))]
        db.session.add_all(self.orders)
        db.session.commit()

    def apply(self, action):
        kind = action[0]
        if kind == "complete":
            _, who, code, offset, delivery, certified = action
            person = self.people[who]
            if self._exists(person.id, code, BASE_DAY + timedelta(offset)):
                return
            completion = Completion(person=person, course_type=factories.course_type(code),
                                    completed_on=BASE_DAY + timedelta(offset),
                                    delivery_council_area_id=_area(delivery).id if delivery else None)
            db.session.add(completion)
            if certified:
                db.session.add(Certificate(
                    number=f"C-{person.id}-{code}-{offset}", verification_token=f"t-{person.id}-{code}-{offset}",
                    completion=completion, person=person, course_type=completion.course_type, title="x",
                    issued_on=completion.completed_on))
        elif kind in ("import", "reimport"):
            rows = action[1] if kind == "import" else []
            batch = [(self.people[w].id, factories.course_type(c).id, BASE_DAY + timedelta(o)) for w, c, o in rows]
            if kind == "reimport":
                batch = list(self.imported)
            self.imported.extend(batch)
            fresh = {b for b in batch if not self._exists_ids(*b)}
            if fresh:
                db.session.execute(sa.insert(Completion), [
                    {"person_id": p, "course_type_id": t, "completed_on": d, "source": CompletionSource.IMPORT,
                     "created_at": utcnow()} for p, t, d in sorted(fresh)])
                keeping.refresh_people(p for p, _, _ in fresh)
        elif kind == "area":
            _, who, field, name = action
            if not self.people[who].is_erased:  # an erased record is frozen for reach (nobody edits it)
                setattr(self.people[who], field, _area(name))
        elif kind == "refresher":
            _, who, offset = action
            self.apply(("complete", who, "REFRESHER", offset, None, True))
        elif kind == "revoke":
            certificates = db.session.scalars(sa.select(Certificate).where(Certificate.revoked_at.is_(None))
                                              .order_by(Certificate.id)).all()
            if certificates:
                certificates[action[1] % len(certificates)].revoked_at = utcnow()
        elif kind == "delete":
            completions = db.session.scalars(sa.select(Completion).order_by(Completion.id)).all()
            if completions:
                doomed = completions[action[1] % len(completions)]
                for certificate in db.session.scalars(sa.select(Certificate).where(
                        Certificate.completion_id == doomed.id)):
                    db.session.delete(certificate)
                db.session.flush()
                self.imported = [b for b in self.imported
                                 if b != (doomed.person_id, doomed.course_type_id, doomed.completed_on)]
                db.session.delete(doomed)
        elif kind == "erase":
            person = self.people[action[1]]
            if not person.is_erased:
                person.first_name, person.last_name = "Erased", "person"
                person.email, person.date_of_birth, person.erased_at = None, None, utcnow()
        elif kind == "answers":
            _, who, age_band, sex = action
            if not self.people[who].is_erased:
                self.people[who].age_band, self.people[who].sex = age_band, sex
        elif kind == "type_setting":
            _, code, counts, awareness = action
            kind_ = factories.course_type(code)
            kind_.counts_toward_target, kind_.is_awareness = counts, awareness
        elif kind == "course_complete":
            self._complete_on_course(*action[1:])
        elif kind == "course_stream":
            self.courses[action[1]].funding_stream = action[2]
        elif kind == "order_stream":
            self.orders[action[1]].funding_stream = action[2]
        elif kind == "cost":
            self.courses[action[1]].delivery_cost_pence = action[2]
        elif kind == "course_status":
            self.courses[action[1]].status = action[2]
        elif kind == "order_status":
            self.orders[action[1]].status = action[2]
        elif kind == "unvoucher":
            booked = db.session.scalars(sa.select(Booking).where(Booking.voucher_id.is_not(None))
                                        .order_by(Booking.id)).all()
            if booked:
                booked[action[1] % len(booked)].voucher = None
        db.session.commit()

    def _complete_on_course(self, who, course_index, order_index, offset):
        """A completion on a course, from a booking paid (or not) by a place voucher of an order."""
        person, course = self.people[who], self.courses[course_index]
        on = BASE_DAY + timedelta(offset)
        already = db.session.scalar(sa.select(sa.func.count()).select_from(Booking).where(
            Booking.person_id == person.id, Booking.course_id == course.id))
        if already or self._exists_ids(person.id, course.course_type_id, on):
            return
        voucher = None
        if order_index is not None:
            voucher = PlaceVoucher(order=self.orders[order_index], code=secrets.token_urlsafe(12))
        booking = factories.booking_on(course, person, voucher=voucher)
        db.session.add(Completion(person=person, course_type=course.course_type, course=course, booking_id=booking.id,
                                  completed_on=on))

    def _exists(self, person_id, code, on):
        return self._exists_ids(person_id, factories.course_type(code).id, on)

    def _exists_ids(self, person_id, type_id, on):
        return db.session.scalar(sa.select(sa.func.count()).select_from(Completion).where(
            Completion.person_id == person_id, Completion.course_type_id == type_id, Completion.completed_on == on))


def assert_every_figure_is_exact():
    type_ids = frozenset({factories.course_type("ADULT_2DAY").id, factories.course_type("AWARE").id})
    for include in (True, False):
        for basis in BASES:
            for extra in ({}, {"course_type_ids": type_ids, "start_month": 202003, "end_month": 202012}):
                filters = Filters(basis=basis, include_awareness=include, **extra)
                for grouping in GROUPINGS:
                    assert kept_counts(grouping, filters) == bare_counts(grouping, filters), (grouping, filters)
                by_area, by_month = Counter(), Counter()
                for (month, area), n in kept_month_area(filters).items():
                    by_area[area] += n
                    by_month[month] += n
                assert dict(by_area) == bare_counts("area", filters)
                assert dict(by_month) == bare_counts("month", filters)
                assert kept_spend(filters) == bare_spend(filters), filters
        filters = Filters(include_awareness=include, area=factories.area("Birmingham").id)
        assert kept_counts("month", filters) == bare_counts("month", filters)
        for dimension in GROUP_DIMENSIONS:
            filters = Filters(include_awareness=include)
            assert kept_group_counts(dimension, filters) == bare_group_counts(dimension, filters), dimension
            assert kept_all_group_counts(filters)[dimension] == bare_group_counts(dimension, filters)
        assert_every_area_breakdown_is_exact(include, type_ids)


def assert_every_area_breakdown_is_exact(include: bool, type_ids: frozenset[int]) -> None:
    """The breakdown tables of each area (and "Unknown") on each basis, everyone attributed there and only those
    counted toward the target, against the bare count (the month and course type filters on one variant)."""
    keys = counted.counted_keys()
    areas = [factories.area(name).id if name else UNKNOWN_AREA for name in AREAS]
    extra = {} if include else {"course_type_ids": type_ids, "start_month": 202003, "end_month": 202012}
    for basis in BASES:
        for area in areas:
            filters = Filters(basis=basis, include_awareness=include, area=area, **extra)
            everyone, counted_only = kept_area_group_counts(filters), kept_area_group_counts(filters, areas=keys)
            for dimension in GROUP_DIMENSIONS:
                bare = bare_group_counts(dimension, filters, include_outside=True)
                assert everyone[dimension] == bare, (dimension, filters)
                assert counted_only[dimension] == (bare if area in keys else {}), (dimension, filters)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=1, max_size=8))
def test_kept_figures_equal_the_bare_count_after_every_step(app_ctx, steps):
    _reset()
    world = World()
    for action in steps:
        world.apply(action)
        assert_every_figure_is_exact()
    assert keeping.rebuild() == []
    db.session.rollback()


# --- every surface gives the same figure ------------------------------------------------------------

months = st.sampled_from([None, "2020-01", "2020-03", "2020-07", "2021-01", "2021-05"])
question = st.fixed_dictionaries({
    "basis": st.sampled_from(BASES),
    "awareness": st.sampled_from(["include", "exclude"]),
    "area": st.sampled_from([None, "E08000025", "E08000026", "E06000051", "unknown"]),
    "from": months,
    "to": months,
    "type": st.sampled_from([[], ["ADULT_2DAY"], ["ADULT_2DAY", "AWARE"]]),
})
HEADLINE_KEYS = {"counted_toward_target", "outside_region", "target_people", "required_to_date",
                 "rate_needed_per_month", "status", "as_of"}
SURFACE_TABLES = ("course_types", "sector", "funding_stream", "age_band", "sex", "ethnic_group", "disability")
API_GROUPS = ("council_area", "month", "course_type", "sector", "funding_stream")


def _query(answer: dict, **extra) -> str:
    from urllib.parse import urlencode

    pairs = [(k, v) for k, v in answer.items() if k != "type" and v]
    pairs += [("type", code) for code in answer["type"]] + list(extra.items())
    return urlencode(pairs)


def _csv_rows(response) -> list[list[str]]:
    import csv
    import io

    assert response.status_code == 200, response.status_code
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def _total(rows: list[list[str]]) -> int:
    header = next(r for r in rows if "People reached" in r)
    return int(next(r for r in rows if r and r[0].startswith("Total"))[header.index("People reached")])


def _bare_counted(answer: dict, *, first: int | None, through: int) -> tuple[int, int]:
    """(counted toward the target, outside the region): a bare COUNT(DISTINCT person) over the raw rows."""
    from mhfa.areas.models import CouncilArea
    from mhfa.reach.models import UNKNOWN_AREA

    types = frozenset(factories.course_type(code).id for code in answer["type"]) or None
    area = None
    if answer["area"] == "unknown":
        area = UNKNOWN_AREA
    elif answer["area"]:
        area = db.session.scalar(sa.select(CouncilArea.id).where(CouncilArea.gss_code == answer["area"]))
    filters = Filters(basis=answer["basis"], include_awareness=answer["awareness"] == "include",
                      course_type_ids=types, start_month=first, end_month=through, area=area)
    region = set(db.session.scalars(sa.select(CouncilArea.id).where(CouncilArea.in_target_region.is_(True))))
    by_area = bare_counts("area", filters)
    inside = sum(n for a, n in by_area.items() if a == UNKNOWN_AREA or a in region)
    return inside, sum(by_area.values()) - inside


def assert_every_surface_agrees(client, headers, answer: dict) -> None:
    """The headline, the chart's data table, every breakdown's total, the CSV and Excel downloads, the reach API
    (every group_by) and, without filters, the public progress page and its open data: one figure."""
    import re

    import jsonschema
    import openpyxl

    from mhfa.reach import counted

    if answer["from"] and answer["to"] and answer["from"] > answer["to"]:
        answer = {**answer, "to": answer["from"]}
    query = _query(answer)
    page = client.get("/reach?" + query)
    assert page.status_code == 200, query
    html = page.get_data(as_text=True)
    shown = int(re.search(r'data-figure="counted">([\d,]+)<', html).group(1).replace(",", ""))
    outside = int(re.search(r'data-figure="outside">([\d,]+)<', html).group(1).replace(",", ""))
    api = {g: client.get(f"/api/v1/reach?group_by={g}&{query}", headers=headers).get_json() for g in API_GROUPS}
    headline = api["council_area"]["headline"]
    as_of = date.fromisoformat(headline["as_of"])
    through = as_of.year * 100 + as_of.month
    first = int(answer["from"].replace("-", "")) if answer["from"] else None
    bare_inside, bare_outside = _bare_counted(answer, first=None, through=through)
    in_period, _ = _bare_counted(answer, first=first, through=through)
    assert (shown, outside) == (bare_inside, bare_outside) == (headline["counted_toward_target"],
                                                               headline["outside_region"]), query
    document = client.get("/api/v1/openapi.json").get_json()
    schema = {**document["components"]["schemas"]["Reach"], "components": document["components"]}
    for group_by, body in api.items():
        jsonschema.validate(body, schema)  # the real answer against the OpenAPI document the app serves
        assert set(body["headline"]) == HEADLINE_KEYS
        assert body["headline"] == headline, group_by
        assert body["total"] == in_period, (group_by, query)
    trajectory = _csv_rows(client.get("/reach/download/trajectory.csv?" + query))
    assert int(trajectory[-1][2]) == shown and int(trajectory[-1][4]) == outside
    if headline["required_to_date"] is not None:
        assert int(trajectory[-1][3]) == headline["required_to_date"]
    for name in SURFACE_TABLES:
        assert _total(_csv_rows(client.get(f"/reach/download/{name}.csv?" + query))) == in_period, (name, query)
    workbook = openpyxl.load_workbook(io.BytesIO(client.get("/reach/download/all.xlsx?" + query).data))
    for name in SURFACE_TABLES:
        sheet = workbook[name]
        header = [c.value for c in sheet[3]]
        totals = [row for row in sheet.iter_rows(min_row=4, values_only=True) if str(row[0]).startswith("Total")]
        assert totals[0][header.index("People reached")] == in_period, name
    assert workbook["trajectory"].cell(workbook["trajectory"].max_row, 3).value == shown
    wide = client.get("/api/v1/reach?group_by=course_type&include_outside=true&" + query, headers=headers).get_json()
    assert wide["total"] == in_period + _bare_counted(answer, first=first, through=through)[1]
    if not any(answer[k] for k in ("area", "from", "to", "type")) and answer["basis"] == "home" \
            and answer["awareness"] == "include":
        public = client.get("/progress").get_data(as_text=True)
        assert int(re.search(r'data-figure="counted">([\d,]+)<', public).group(1).replace(",", "")) == shown
        assert headline["target_people"] == counted.settings().target_people
        import pandas as pd

        frames = {name: pd.read_csv(io.BytesIO(client.get(f"/progress/data/{name}.csv").data))
                  for name in ("headline", "trajectory", "areas")}
        assert frames["headline"].loc[0, "counted_toward_target"] == shown
        assert frames["headline"].loc[0, "outside_region"] == outside
        assert frames["trajectory"]["counted_cumulative"].iloc[-1] == shown
        areas = frames["areas"]
        assert areas.loc[areas["counted_toward_target"], "people_reached"].sum() == shown
        assert client.get("/progress/data/progress.json").get_json()["headline"][0]["counted_toward_target"] == shown
        from mhfa.forecast.series import from_database, last_complete_month

        through = last_complete_month(as_of)  # the forecast's input series, as the forecast reads it
        label = f"{through.year:04d}-{through.month:02d}"
        at_month = next(int(row[2]) for row in trajectory if row and row[0] == label)
        assert from_database(through).reached == at_month


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                               HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=1, max_size=6), answers=st.lists(question, min_size=1, max_size=3))
def test_every_surface_gives_the_same_figure_for_the_same_question(client, auth, steps, answers):
    from mhfa.auth.models import Role
    from mhfa.auth.services import issue_api_token

    board = db.session.scalar(sa.select(User).where(User.email == "board-surfaces@example.org"))
    if board is None:
        board = factories.user(Role.BOARD, email="board-surfaces@example.org")
        db.session.commit()
        auth.login(board)
    token = issue_api_token(board)
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    _reset(keep_people=(board.person_id,))
    world = World()
    for action in steps:
        world.apply(action)
    whole = {"basis": "home", "awareness": "include", "area": None, "from": None, "to": None, "type": []}
    for answer in (whole, *answers):  # the whole programme (progress page, open data, forecast series) every time
        assert_every_surface_agrees(client, headers, answer)
