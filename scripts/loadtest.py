#!/usr/bin/env python
"""Load test: gunicorn workers on a throwaway PostgreSQL database, many concurrent clients, then checks.

    .venv/bin/python scripts/loadtest.py [--clients 60] [--requests 3000] [--seconds 90] [--workers 4]
    .venv/bin/python scripts/loadtest.py --soak [--minutes 30] [--clients 20] [--think 0.5]

Loopback only and bounded (in requests and in time). It creates its own database on the server of
``TEST_DATABASE_URL`` (default postgresql://postgres@127.0.0.1:5432/test) and drops it afterwards,
runs the app under gunicorn with several workers, two ``deliver-mail --loop`` senders and a local SMTP
server, and drives it with a mix of finder reads (HTML and API), bookings and cancellations through
the API. Afterwards it checks: no 5xx, no course over capacity, every waiting list in order with no one
waiting beside a free seat, every confirmed booking present, and every email delivered exactly once.
Exit status 1 when a check fails.

``--soak`` holds a steady mixed load for ``--minutes`` (default 30; each client pauses ``--think``
seconds between requests): the finder, course pages, bookings and cancellations, the board's dashboard
(signed in) and certificate verification. Besides the checks above it reports the p95 of each route and
the gunicorn workers' resident memory at the start (after a minute's warm-up, or a tenth of the run)
and at the end, and fails when the workers together grew by more than 15% and 30 MB.
"""
# ruff: noqa: S310, S603, S607  (loopback HTTP to the server it starts; subprocesses of this repository's own venv)
from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers import free_port, stop  # noqa: E402 (after the path above)


class Inbox:
    def __init__(self):
        self.message_ids: list[str] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        found = re.search(rb"^Message-ID:\s*(\S+)", envelope.content, re.MULTILINE | re.IGNORECASE)
        with self.lock:
            self.message_ids.append(found.group(1).decode() if found else "?")
        return "250 OK"


def request(base: str, method: str, path: str, token: str | None = None, timeout: float = 30,
            key: str | None = None, opener=None, data: bytes | None = None):
    req = urllib.request.Request(base + path, method=method, data=data)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    if key:
        req.add_header("Idempotency-Key", key)
    try:
        with (opener.open if opener else urllib.request.urlopen)(req, timeout=timeout) as response:
            body = response.read()
            return response.status, body
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        return f"error:{type(error).__name__}", b""


def seed(database_url: str, courses: int, people: int) -> tuple[list[int], list[str], list[str]]:
    import sqlalchemy as sa

    from mhfa import create_app
    from mhfa.auth.models import Role, User
    from mhfa.auth.services import issue_api_token
    from mhfa.extensions import db
    from mhfa.people.models import Person
    from mhfa.timeutil import utcnow
    from tests import factories

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "MHFA_DELIVER_AFTER_COMMIT": False})
    with app.app_context():
        course_ids = [factories.course(capacity=8, start=factories.datetime.now().replace(
            hour=9, minute=0, second=0, microsecond=0) + factories.timedelta(days=20 + 3 * n)).id
            for n in range(courses)]
        area = factories.area("Birmingham")
        tokens = []
        for n in range(people):
            person = Person(first_name=f"Load{n}", last_name="Tester", email=f"load{n}@example.org",
                            date_of_birth=factories.date(1990, 1, 1), home_council_area=area)
            user = User(email=person.email, person=person, password_hash="-",  # noqa: S106 (no password)
                        email_confirmed_at=utcnow())
            user.grant(Role.TRAINEE)
            db.session.add(user)
            db.session.flush()
            tokens.append(issue_api_token(user))
        certificates = [factories.certificate(factories.person(f"Holder{n}", "Tester", email=None)).verification_token
                        for n in range(40)]
        factories.user(Role.BOARD, person_=factories.person("Board", "Tester", email=BOARD_EMAIL))
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == people + 1
    return course_ids, tokens, certificates


BOARD_EMAIL = "board.load@example.org"


def signed_in(base: str):
    """An opener holding a board member's signed-in session (through the sign-in form, with its CSRF token)."""
    import http.cookiejar
    from urllib.parse import urlencode

    from tests.factories import PASSWORD

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    _, page = request(base, "GET", "/login", opener=opener)
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page).group(1).decode()
    status, _ = request(base, "POST", "/login", opener=opener, data=urlencode(
        {"csrf_token": token, "email": BOARD_EMAIL, "password": PASSWORD}).encode())
    if status != 200:
        raise RuntimeError(f"the board member could not sign in ({status})")
    return opener


def resident_mb(pids: list[int]) -> dict[int, float]:
    """Each process's resident memory in MB (VmRSS)."""
    sizes = {}
    for pid in pids:
        try:
            text = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        found = re.search(r"^VmRSS:\s+(\d+) kB", text, re.MULTILINE)
        if found:
            sizes[pid] = round(int(found.group(1)) / 1024, 1)
    return sizes


def check(database_url: str, confirmed_ids: set[int], cancelled_ids: set[int], inbox: Inbox) -> dict:
    import sqlalchemy as sa

    from mhfa import create_app
    from mhfa.bookings.models import Booking, BookingStatus
    from mhfa.bookings.services import waiting_positions
    from mhfa.courses.models import Course
    from mhfa.extensions import db
    from mhfa.notify.models import OutboxMessage, OutboxStatus

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        problems: list[str] = []
        overbooked = 0
        for course in db.session.scalars(sa.select(Course)):
            rows = db.session.scalars(sa.select(Booking).where(Booking.course_id == course.id)
                                      .order_by(Booking.id)).all()
            confirmed = [b for b in rows if b.status is BookingStatus.CONFIRMED]
            waiting = [b for b in rows if b.status is BookingStatus.WAITLISTED]
            if len(confirmed) > course.capacity:
                overbooked += 1
            if waiting and len(confirmed) < course.capacity:
                problems.append(f"course {course.id}: people waiting beside a free seat")
            positions = waiting_positions(waiting)
            if [positions[b.id] for b in waiting] != list(range(1, len(waiting) + 1)):
                problems.append(f"course {course.id}: waiting list out of order")
        missing = 0
        for booking_id in confirmed_ids - cancelled_ids:
            booking = db.session.get(Booking, booking_id)
            if booking is None or booking.status is not BookingStatus.CONFIRMED:
                missing += 1
        statuses = Counter(db.session.scalars(sa.select(OutboxMessage.status)))
        outbox_ids = set(db.session.scalars(sa.select(OutboxMessage.message_id)))
        received = Counter(inbox.message_ids)
        duplicates = sum(n - 1 for n in received.values() if n > 1)
        lost = len(outbox_ids - set(received))
        return {"overbooked_courses": overbooked, "order_problems": problems, "confirmed_missing": missing,
                "emails_in_outbox": len(outbox_ids), "emails_received": len(inbox.message_ids),
                "emails_duplicated": duplicates, "emails_lost": lost,
                "outbox_status": {s.value: n for s, n in statuses.items()},
                "unsent": statuses.get(OutboxStatus.PENDING, 0) + statuses.get(OutboxStatus.SENDING, 0)}


class OwnPostgres:
    """A throwaway PostgreSQL server on a free loopback port (so it can be stopped without harming others)."""

    def __init__(self):
        bin_dir = Path(subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True,
                                      check=True).stdout.strip())
        self.pg_ctl = [str(bin_dir / "pg_ctl")] if Path(bin_dir / "pg_ctl").exists() else ["pg_ctl"]
        self.folder = Path(tempfile.mkdtemp(prefix="mhfa-load-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            subprocess.run(["chown", "postgres", str(self.folder)], check=True)
        initdb = str(bin_dir / "initdb") if (bin_dir / "initdb").exists() else "initdb"
        subprocess.run([*self.as_user, initdb, "-D", str(self.data), "-A", "trust", "-U", "postgres"],
                       check=True, capture_output=True)
        self.start()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        subprocess.run([*self.as_user, *self.pg_ctl, "-D", str(self.data), "-w", "-l", str(self.folder / "log"),
                        "-o", f"-p {self.port} -c listen_addresses=127.0.0.1 -c max_connections=200 "
                              f"-c unix_socket_directories={self.folder}", "start"],
                       check=True, capture_output=True)

    def stop(self) -> None:
        subprocess.run([*self.as_user, *self.pg_ctl, "-D", str(self.data), "-m", "fast", "-w", "stop"],
                       check=False, capture_output=True)


def worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=60)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=90)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--courses", type=int, default=12)
    parser.add_argument("--people", type=int, default=240)
    parser.add_argument("--faults", action="store_true",
                        help="Run on a PostgreSQL server of its own, stop it mid-load and start it again, "
                             "and kill a gunicorn worker every few seconds.")
    parser.add_argument("--soak", action="store_true",
                        help="A steady mixed load for --minutes (finder, course pages, bookings, cancellations, "
                             "dashboard, verification), with the p95 of each route and the workers' memory.")
    parser.add_argument("--minutes", type=float, default=30, help="how long a soak runs (at most 120)")
    parser.add_argument("--think", type=float, default=0.5, help="seconds each soak client waits between requests")
    args = parser.parse_args()
    if args.soak:
        args.seconds = min(args.minutes, 120) * 60
        args.requests = 2_000_000 if args.requests == parser.get_default("requests") else args.requests
    args.requests = min(args.requests, 2_000_000 if args.soak else 50_000)
    args.seconds = min(args.seconds, 7200 if args.soak else 600)

    import sqlalchemy as sa
    from aiosmtpd.controller import Controller

    own_server = OwnPostgres() if args.faults else None
    server_url = own_server.url if own_server else os.environ.get(
        "TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    server_url = re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql+psycopg://", server_url)
    name = f"mhfa_load_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    database_url = sa.engine.make_url(server_url).set(database=name).render_as_string(hide_password=False)
    inbox = Inbox()
    smtp_port, web_port = free_port(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "load-test", "MAIL_SERVER": "127.0.0.1",
           "MAIL_PORT": str(smtp_port), "MHFA_BASE_URL": f"http://127.0.0.1:{web_port}", "RATELIMIT_ENABLED": "false",
           "MHFA_DELIVER_AFTER_COMMIT": "false", "MHFA_INSTANCE_PATH": tempfile.mkdtemp(prefix=name)}
    flask = [str(ROOT / ".venv/bin/flask"), "--app", "wsgi"]
    log_path = Path(env["MHFA_INSTANCE_PATH"]) / "gunicorn.log"
    log_file = log_path.open("wb")
    processes: list[subprocess.Popen] = []
    try:
        subprocess.run([*flask, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
        subprocess.run([*flask, "mhfa", "load-reference"], env=env, cwd=ROOT, check=True, capture_output=True)
        course_ids, tokens, certificates = seed(database_url, args.courses, args.people)
        processes.append(subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), "--workers", str(args.workers), "--bind", f"127.0.0.1:{web_port}",
             "--timeout", "60", "wsgi:app"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log_file))
        for _ in range(2):  # two senders at once: each email must still go exactly once
            processes.append(subprocess.Popen([*flask, "mhfa", "deliver-mail", "--loop", "--interval", "0.2"],
                                              env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                              stderr=subprocess.DEVNULL))
        base = f"http://127.0.0.1:{web_port}"
        for _ in range(100):
            if request(base, "GET", "/healthz")[0] == 200:
                break
            time.sleep(0.2)

        board = signed_in(base) if args.soak else None
        statuses: Counter = Counter()
        by_route: dict[str, list[float]] = {}
        confirmed_ids: set[int] = set()
        cancelled_ids: set[int] = set()
        lock = threading.Lock()
        budget = {"left": args.requests}
        deadline = time.monotonic() + args.seconds
        latencies: list[float] = []

        def client(number: int) -> None:
            rng = random.Random(number)
            token = tokens[number % len(tokens)]
            mine: list[int] = []
            while time.monotonic() < deadline:
                with lock:
                    if budget["left"] <= 0:
                        return
                    budget["left"] -= 1
                roll = rng.random()
                began = time.perf_counter()
                route = None
                if args.soak:
                    if args.think:
                        time.sleep(args.think * rng.uniform(0.5, 1.5))
                    began = time.perf_counter()
                    if roll < 0.15:
                        route, (status, _) = "course page", request(base, "GET", f"/courses/{rng.choice(course_ids)}")
                    elif roll < 0.25:
                        route, (status, _) = "dashboard", request(base, "GET", "/reach", opener=board)
                    elif roll < 0.35:
                        route, (status, _) = "verification", request(base, "GET", f"/verify/{rng.choice(certificates)}")
                    roll = rng.random() if route is None else roll
                if route is not None:
                    pass
                elif roll < 0.35:
                    route, (status, _) = "finder API", request(base, "GET", f"/api/v1/courses?page={rng.randint(1, 2)}")
                elif roll < 0.5:
                    route, (status, _) = "finder page", request(base, "GET", "/courses?free_places=y")
                elif roll < 0.85:
                    route = "booking"
                    token = tokens[rng.randrange(len(tokens))]
                    path = f"/api/v1/courses/{rng.choice(course_ids)}/bookings"
                    key = uuid.uuid4().hex
                    status, body = request(base, "POST", path, token, key=key)
                    if not isinstance(status, int) or status == 503:  # cut or refused: retry once, same key
                        time.sleep(1)
                        status, body = request(base, "POST", path, token, key=key)
                    if status in (201, 202):
                        booking = json.loads(body)
                        mine.append((token, booking["id"]))
                        if status == 201:
                            with lock:
                                confirmed_ids.add(booking["id"])
                elif mine:
                    route = "cancellation"
                    token_of, booking_id = mine.pop(rng.randrange(len(mine)))
                    status, _ = request(base, "DELETE", f"/api/v1/bookings/{booking_id}", token_of)
                    if status == 200:
                        with lock:
                            cancelled_ids.add(booking_id)
                else:
                    route, (status, _) = "healthz", request(base, "GET", "/healthz")
                with lock:
                    statuses[status] += 1
                    latencies.append(time.perf_counter() - began)
                    by_route.setdefault(route, []).append(time.perf_counter() - began)

        began = time.perf_counter()
        threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
        for thread in threads:
            thread.start()
        faults = {"worker_kills": 0, "database_restarts": 0}
        if args.faults:
            import signal

            time.sleep(min(5, args.seconds / 6))
            for round_number in range(1000):
                if not any(thread.is_alive() for thread in threads) or time.monotonic() > deadline:
                    break
                pids = worker_pids(processes[0].pid)
                if pids:
                    os.kill(random.choice(pids), signal.SIGKILL)
                    faults["worker_kills"] += 1
                if round_number == 2:
                    own_server.stop()
                    time.sleep(4)
                    own_server.start()
                    faults["database_restarts"] += 1
                time.sleep(3)
        memory: dict[str, object] = {}
        if args.soak:
            time.sleep(min(60, args.seconds / 10))
            memory["start_mb"] = resident_mb(worker_pids(processes[0].pid))
            samples = []
            while any(thread.is_alive() for thread in threads) and time.monotonic() < deadline - 5:
                time.sleep(min(60, max(1, deadline - 5 - time.monotonic())))
                samples.append(round(sum(resident_mb(worker_pids(processes[0].pid)).values()), 1))
            memory["end_mb"] = resident_mb(worker_pids(processes[0].pid))
            memory["total_mb_each_minute"] = samples
        for thread in threads:
            thread.join(timeout=args.seconds + 60)
        elapsed = time.perf_counter() - began
        for _ in range(300):  # let the senders finish
            result = check(database_url, confirmed_ids, cancelled_ids, inbox)
            if result["unsent"] == 0:
                break
            time.sleep(0.2)
        latencies.sort()
        server_errors = sum(n for s, n in statuses.items() if isinstance(s, int) and s >= 500)
        transport_errors = sum(n for s, n in statuses.items() if not isinstance(s, int))
        figures = {
            "requests": sum(statuses.values()), "clients": args.clients, "gunicorn_workers": args.workers,
            "seconds": round(elapsed, 1), "requests_per_second": round(sum(statuses.values()) / elapsed, 1),
            "p95_ms": round(1000 * latencies[int(0.95 * (len(latencies) - 1))], 1) if latencies else None,
            "status_counts": {str(s): n for s, n in sorted(statuses.items(), key=str)},
            "server_errors": server_errors, "transport_errors": transport_errors,
            "bookings_confirmed": len(confirmed_ids), "bookings_cancelled": len(cancelled_ids), **faults, **result,
        }
        figures["p95_ms_by_route"] = {
            route: round(1000 * sorted(values)[int(0.95 * (len(values) - 1))], 1)
            for route, values in sorted(by_route.items())}
        figures["requests_by_route"] = {route: len(values) for route, values in sorted(by_route.items())}
        grew = False
        if memory:
            start, end = sum(memory["start_mb"].values()), sum(memory["end_mb"].values())
            grew = end > start * 1.15 and end - start > 30
            figures["worker_memory"] = {**memory, "start_total_mb": round(start, 1),
                                        "end_total_mb": round(end, 1), "grew": grew}
        reasons = Counter(re.findall(r"database unavailable on \w+ \S+: (\w+)", log_path.read_text(errors="replace")))
        figures["database_unavailable_reasons"] = dict(reasons)
        print(json.dumps(figures, indent=2))
        # With faults, a request cut by a killed worker is expected (the client retries it with its
        # Idempotency-Key); a 500 never is. 503 answers while the database is down are expected too.
        unexpected = sum(n for s, n in statuses.items() if isinstance(s, int) and s >= 500 and
                         not (args.faults and s == 503))
        failed = (unexpected or (transport_errors and not args.faults) or result["overbooked_courses"]
                  or result["order_problems"] or result["confirmed_missing"] or result["emails_duplicated"]
                  or result["emails_lost"] or result["unsent"] or grew)
        print("FAILED" if failed else "OK: no 5xx, no overbooking, waiting lists in order, every email once")
        return 1 if failed else 0
    finally:
        stop(*processes)
        controller.stop()
        if own_server:
            admin.dispose()
            own_server.stop()
            subprocess.run(["rm", "-rf", str(own_server.folder)], check=False)
        else:
            with admin.connect() as conn:
                conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n "
                                     "AND pid <> pg_backend_pid()"), {"n": name})
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
            admin.dispose()


if __name__ == "__main__":
    sys.exit(main())
