"""Certificates at programme scale: verification, the revocation list, the PDF, the signed badge, completion.

Against the demo history's half a million certificates, through the Flask test client:

- the public verification page of 300 random certificates, beside the bare SQL that looks one up;
- the signed ``BitstringStatusList`` credential (built from every revoked certificate at each request),
  beside the bare SQL that reads the revoked certificates' indexes;
- the certificate PDF (WeasyPrint, with its QR code) and the signed Open Badges credential
  (RDF canonicalisation and an Ed25519 signature) of 30 certificates, downloaded by a coordinator;
- completing a two-day course of 16 trainees whose registers are marked, five times (completions and 16
  certificates in one transaction), beside a bare SQL insert of the same rows; rolled back, so the
  reused database keeps its figures.
"""
from __future__ import annotations

import statistics
import time
from datetime import timedelta

import psycopg
import sqlalchemy as sa

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

NAME = "certificates"
VERIFICATIONS = 300
DOWNLOADS = 30
STATUS_LISTS = 20
TRAINEES = 16
COMPLETIONS = 15  # completing is timed this many times (each rolled back; runs vary 2-5×); the median is the figure
BENCH_COORDINATOR = "bench-coordinator@bench.example.org"

BARE_VERIFY = """
SELECT c.number, c.title, c.issued_on, c.expires_on, c.revoked_at, p.first_name, p.last_name, p.erased_at
FROM certificate c JOIN person p ON p.id = c.person_id WHERE c.verification_token = %s
"""


def _sample(conn: psycopg.Connection, n: int, seed: int) -> list[tuple[int, str]]:
    conn.execute("SELECT setseed(%s)", (1 / (seed + 1),))
    return conn.execute("SELECT id, verification_token FROM certificate ORDER BY random() LIMIT %s", (n,)).fetchall()


def _verification(client, conn, sample) -> dict:
    pages, bare = [], []
    for _id, token in sample:
        response = timed(lambda t=token: client.get(f"/verify/{t}"), pages)
        assert response.status_code == 200, (token, response.status_code)
        row = timed(lambda t=token: conn.execute(BARE_VERIFY, (t,)).fetchone(), bare)
        assert row is not None
    return {"pages": pages, "bare": bare}


def _status_list(client, conn) -> dict:
    pages, bare = [], []
    revoked = conn.execute("SELECT count(*) FROM certificate WHERE revoked_at IS NOT NULL").fetchone()[0]
    for _ in range(STATUS_LISTS):
        response = timed(lambda: client.get("/credentials/status/revocation"), pages)
        assert response.status_code == 200 and response.json["proof"], response.status_code
        timed(lambda: conn.execute("SELECT id FROM certificate WHERE revoked_at IS NOT NULL").fetchall(), bare)
    return {"pages": pages, "bare": bare, "revoked": revoked}


def _downloads(client, sample) -> dict:
    pdfs, badges, sizes = [], [], []
    for certificate_id, _token in sample[:DOWNLOADS]:
        pdf = timed(lambda c=certificate_id: client.get(f"/certificates/{c}.pdf"), pdfs)
        assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF"), pdf.status_code
        sizes.append(len(pdf.data))
        badge = timed(lambda c=certificate_id: client.get(f"/certificates/{c}/badge.json"), badges)
        assert badge.status_code == 200 and badge.json["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    return {"pdfs": pdfs, "badges": badges, "kb": sum(sizes) / len(sizes) / 1024}


def _completion(app) -> dict:
    """A two-day course of 16 booked trainees, every session marked present, completed: then rolled back."""
    from mhfa.attendance.models import AttendanceMark, AttendanceStatus, Completion
    from mhfa.auth.models import Role, User
    from mhfa.bookings.models import Booking, BookingSource, BookingStatus
    from mhfa.certificates.services import complete_course_and_issue
    from mhfa.courses.models import Course, CourseSession, CourseStatus, CourseType, DeliveryMode, Instructor, Venue
    from mhfa.extensions import db
    from mhfa.people.models import Person
    from mhfa.timeutil import utcnow

    with app.app_context():
        kind = db.session.scalar(sa.select(CourseType).where(CourseType.code == "ADULT_2DAY"))
        venue = db.session.scalar(sa.select(Venue).where(Venue.active.is_(True)).limit(1))
        instructor = db.session.scalar(sa.select(Instructor).where(Instructor.active.is_(True)).limit(1))
        coordinator = db.session.scalar(sa.select(User).where(User.email == BENCH_COORDINATOR))
        assert coordinator is not None and coordinator.has_role(Role.COORDINATOR)
        # People who have never completed anything: they become newly reached (the reach figures move too).
        people = list(db.session.scalars(
            sa.select(Person).where(Person.erased_at.is_(None), Person.date_of_birth.is_not(None),
                                    ~sa.exists().where(Completion.person_id == Person.id))
            .order_by(Person.id).limit(TRAINEES)))
        assert len(people) == TRAINEES, "the demo history has too few people who never completed a course"
        end = utcnow() - timedelta(days=3)
        first = (end - timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
        course = Course(course_type=kind, status=CourseStatus.PUBLISHED, delivery_mode=DeliveryMode.IN_PERSON,
                        venue=venue, council_area_id=venue.council_area_id, capacity=TRAINEES,
                        price_pence=0, starts_at=first, ends_at=first + timedelta(days=1, hours=8))
        course.sessions = [CourseSession(starts_at=first + timedelta(days=day),
                                         ends_at=first + timedelta(days=day, hours=8)) for day in (0, 1)]
        course.instructors = [instructor]
        db.session.add(course)
        db.session.flush()
        for person in people:
            booking = Booking(course=course, person=person, status=BookingStatus.CONFIRMED,
                              source=BookingSource.SELF, confirmed_at=first - timedelta(days=10))
            db.session.add(booking)
            db.session.flush()
            for session in course.sessions:
                db.session.add(AttendanceMark(session_id=session.id, booking_id=booking.id,
                                              status=AttendanceStatus.PRESENT, marked_by_user_id=coordinator.id))
        ms, issued = timed_and_rolled_back(lambda: len(complete_course_and_issue(course, coordinator).certificates))
    return {"ms": ms, "issued": issued}


def _bare_completion(conn: psycopg.Connection) -> float:
    """The floor: 16 completion rows and 16 certificate rows inserted by plain SQL, then rolled back."""
    people = [row[0] for row in conn.execute(
        "SELECT id FROM person WHERE erased_at IS NULL ORDER BY id LIMIT %s", (TRAINEES,))]
    kind = conn.execute("SELECT id FROM course_type WHERE code = 'ADULT_2DAY'").fetchone()[0]
    course = conn.execute("SELECT id FROM course WHERE course_type_id = %s LIMIT 1", (kind,)).fetchone()[0]
    began = time.perf_counter()
    with conn.cursor() as cursor:
        for n, person in enumerate(people):
            cursor.execute("INSERT INTO completion (person_id, course_type_id, course_id, completed_on, source, "
                           "created_at) VALUES (%s, %s, %s, current_date, 'course', now()) RETURNING id",
                           (person, kind, course))
            completion = cursor.fetchone()[0]
            cursor.execute(
                "INSERT INTO certificate (number, verification_token, completion_id, person_id, course_type_id, "
                "title, issued_on, created_at, status_index) VALUES (%s, %s, %s, %s, %s, "
                "'Mental Health First Aider', current_date, now(), %s)",
                (f"BENCH-{n}", f"bench-token-{n}", completion, person, kind, 2**30 + n))
    seconds = time.perf_counter() - began
    conn.rollback()
    return seconds * 1000


def run(ctx: Context) -> list[Figure]:
    from mhfa.auth.models import Role

    app = ctx.app()
    password = bench_user(app, BENCH_COORDINATOR, Role.COORDINATOR)
    with psycopg.connect(libpq_url(ctx.database_url)) as conn:
        sample = _sample(conn, VERIFICATIONS, ctx.seed)
        total = conn.execute("SELECT count(*) FROM certificate").fetchone()[0]
        public = app.test_client()
        verified = _verification(public, conn, sample)
        status = _status_list(public, conn)
        coordinator = signed_in_client(app, BENCH_COORDINATOR, password)
        downloads = _downloads(coordinator, sample)
        bare_completion = _bare_completion(conn)
    completions = [_completion(app) for _ in range(COMPLETIONS)]
    completion = {"ms": statistics.median(c["ms"] for c in completions), "issued": completions[0]["issued"]}
    runs = ", ".join(f"{c['ms']:.0f}" for c in completions)
    return [
        Figure("certificate verification page p50 / p95", ms_p50_p95(verified["pages"]),
               f"bare SQL lookup {ms_p50_p95(verified['bare'])}", "p95 < 10 ms", p50_p95(verified["pages"])[1] < 10,
               [f"{len(verified['pages'])} random certificates of {total:,}"]),
        Figure("revocation status list p50 / p95", ms_p50_p95(status["pages"]),
               f"bare SQL of the revoked {ms_p50_p95(status['bare'])}", "", None,
               [f"{status['revoked']:,} revoked of {total:,} certificates; signed at every request"]),
        Figure("certificate PDF p50 / p95", ms_p50_p95(downloads["pdfs"], 0), "", "", None,
               [f"{DOWNLOADS} certificates, {downloads['kb']:.0f} KB on average"]),
        Figure("Open Badges credential p50 / p95", ms_p50_p95(downloads["badges"], 0), "", "", None,
               [f"{DOWNLOADS} certificates; eddsa-rdfc-2022 proof signed at each download"]),
        Figure(f"completing a course of {TRAINEES}", f"{completion['ms']:.0f} ms ({completion['issued']} certificates)",
               f"bare SQL insert of the rows {bare_completion:.0f} ms", "", None,
               [f"median of {COMPLETIONS} runs ({runs} ms); "
                "registers marked present; completions, certificates, audit and kept reach figures in one "
                "transaction, rolled back"]),
    ]
