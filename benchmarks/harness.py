"""What every benchmark shares: the programme-scale database, figures with their baselines, the table.

A benchmark is a module in ``benchmarks/`` with ``NAME`` and ``run(ctx) -> list[Figure]``;
``scripts/bench.py`` runs them against one demo database and prints (and writes) the table.
"""
from __future__ import annotations

import gc
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from tests.servers import free_port, stop

ROOT = Path(__file__).resolve().parent.parent
FLASK = str(Path(sys.executable).parent / "flask")
GUNICORN = str(Path(sys.executable).parent / "gunicorn")


@dataclass
class Figure:
    """One measured figure, the baseline measured beside it in the same run, and its target."""

    name: str
    value: str
    baseline: str = ""
    target: str = ""
    met: bool | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        return {True: "met", False: "MISSED", None: ""}[self.met]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(round(share * (len(ordered) - 1))), len(ordered) - 1)]


def timed(fn, times: list[float]):
    """``fn()``, with the milliseconds it took appended to ``times``."""
    began = time.perf_counter()
    result = fn()
    times.append((time.perf_counter() - began) * 1000)
    return result


def timed_and_rolled_back(fn) -> tuple[float, object]:
    """``fn()`` between two flushes of the session, timed, then rolled back and the engine's connections
    closed (in the app context the caller holds): (milliseconds, what ``fn`` returned)."""
    from mhfa.extensions import db

    db.session.flush()
    began = time.perf_counter()
    result = fn()
    db.session.flush()
    ms = (time.perf_counter() - began) * 1000
    db.session.rollback()
    db.engine.dispose()
    return ms, result


def p50_p95(values: list[float]) -> tuple[float, float]:
    return statistics.median(values), percentile(values, 0.95)


def ms_p50_p95(values: list[float], digits: int = 1) -> str:
    """Timings in milliseconds as a figure gives them: "p50 / p95 ms"."""
    p50, p95 = p50_p95(values)
    return f"{p50:.{digits}f} / {p95:.{digits}f} ms"


def psycopg_url(url: str) -> str:
    return re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql+psycopg://", url)


def libpq_url(url: str) -> str:
    return re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql://", url)


@dataclass
class Context:
    """The run: the demo database (built or reused), its size and seed, and where to write."""

    server_url: str
    people: int
    seed: int
    instance: Path
    echo: callable = print
    database_url: str = ""
    build: dict = field(default_factory=dict)

    def env(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "FLASK_APP": "wsgi",
            "DATABASE_URL": self.database_url,
            "MHFA_INSTANCE_PATH": str(self.instance),
            "SECRET_KEY": "benchmark-secret-key",
            "MAIL_SERVER": "",
            "RATELIMIT_ENABLED": "false",
            **extra,
        }

    def flask(self, *args: str, check: bool = True, **extra_env: str) -> subprocess.CompletedProcess:
        return subprocess.run([FLASK, *args], cwd=ROOT, env=self.env(**extra_env), check=check,
                              capture_output=True, text=True)

    def app(self):
        """The app in this process, on the demo database (for in-process measurements)."""
        from mhfa import create_app

        app = create_app({
            "SQLALCHEMY_DATABASE_URI": psycopg_url(self.database_url),
            "INSTANCE_PATH": str(self.instance),
            "SECRET_KEY": "benchmark-secret-key",
            "MAIL_SERVER": "",
            "RATELIMIT_ENABLED": False,
            "MHFA_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1",
        })
        gc.collect()
        gc.freeze()  # as wsgi.py does for the app gunicorn serves
        return app

    def engine(self) -> sa.Engine:
        return sa.create_engine(psycopg_url(self.database_url))


_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_token(page: str) -> str:
    """The CSRF token in a page's form."""
    match = _CSRF.search(page)
    return match.group(1) or match.group(2)


def bench_user(app, email: str, role) -> str:
    """An account of the benchmark's own with ``role``, given a fresh password each run (returned)."""
    import secrets

    from mhfa.auth import services as accounts
    from mhfa.extensions import db

    password = secrets.token_urlsafe(18)
    with app.app_context():
        user = accounts.user_by_email(email)
        if user is None:
            user, _ = accounts.create_user(email, [role], first_name="Bench", last_name=role.value.title(),
                                           password=password)
        else:
            user.set_password(password)
        db.session.commit()
        db.engine.dispose()
    return password


def signed_in_client(app, email: str, password: str):
    """A Flask test client signed in through the sign-in form (each request in its own app context)."""
    client = app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    signed_in = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    assert signed_in.status_code == 302, f"{email} could not sign in ({signed_in.status_code})"
    return client


def demo_database_name(people: int, seed: int) -> str:
    return f"mhfa_bench_p{people}_s{seed}"


def ensure_demo_database(ctx: Context, rebuild: bool = False) -> None:
    """Build the demo history of this size and seed on PostgreSQL, or reuse the one built before.

    A database is reused when its build finished (its record is written last), migrated to this code's head; one
    that cannot be migrated (built or migrated by newer code) is an error, never dropped unless ``rebuild``. The
    build's time and peak memory are measured in a child process.
    """
    server = sa.engine.make_url(psycopg_url(ctx.server_url))
    name = demo_database_name(ctx.people, ctx.seed)
    ctx.database_url = libpq_url(server.set(database=name).render_as_string(hide_password=False))
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
    if exists and not rebuild:
        record = _build_record(ctx)
        if record:
            upgraded = ctx.flask("db", "upgrade", check=False)
            if upgraded.returncode != 0:  # e.g. migrated by newer code than this checkout's: never dropped unasked
                admin.dispose()
                raise RuntimeError(f"{name} was built but cannot be migrated to this code's head; run again with "
                                   f"--rebuild to build it afresh:\n{upgraded.stderr[-2000:]}")
            ctx.build = {**record, "reused": True}
            ctx.echo(f"Reusing {name} (built {record['built_at']} in {record['seconds']:.1f} s)")
            admin.dispose()
            return
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    ctx.echo(f"Building {name}: {ctx.people:,} people, seed {ctx.seed}")
    ctx.flask("db", "upgrade")
    ctx.flask("mhfa", "load-reference")
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    began = time.perf_counter()
    result = ctx.flask("mhfa", "demo-data", "--people", str(ctx.people), "--seed", str(ctx.seed), check=False)
    seconds = time.perf_counter() - began
    peak_mb = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before) / 1024
    if result.returncode != 0:
        raise RuntimeError(f"demo-data failed:\n{result.stdout}\n{result.stderr}")
    ctx.echo(result.stdout.rstrip())  # the build's own account, step by step with its times
    counts = next((line for line in result.stdout.splitlines() if line.startswith("Demo history")), "")
    ctx.build = {"seconds": seconds, "peak_mb": peak_mb, "counts": counts,
                 "built_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "reused": False}
    with ctx.engine().begin() as conn:
        conn.execute(sa.text("CREATE TABLE IF NOT EXISTS bench_build (record text NOT NULL)"))
        conn.execute(sa.text("DELETE FROM bench_build"))
        conn.execute(sa.text("INSERT INTO bench_build (record) VALUES (:r)"), {"r": json.dumps(ctx.build)})


def _build_record(ctx: Context) -> dict | None:
    engine = ctx.engine()
    try:
        with engine.connect() as conn:
            row = conn.execute(sa.text("SELECT record FROM bench_build")).first()
    except sa.exc.DBAPIError:
        return None
    finally:
        engine.dispose()
    return json.loads(row[0]) if row else None


@contextmanager
def gunicorn(ctx: Context, workers: int = 4, **extra_env: str):
    """The app under gunicorn on a loopback port; yields (base URL, master pid). Stopped on exit."""
    port = free_port()
    process = subprocess.Popen(
        [GUNICORN, "--workers", str(workers), "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
         "--timeout", "120", "wsgi:app"],
        cwd=ROOT, env=ctx.env(MHFA_BASE_URL=f"http://127.0.0.1:{port}", **extra_env),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, process)
        yield base, process.pid
    finally:
        stop(process)


def _wait_until_up(base: str, process: subprocess.Popen, seconds: float = 60) -> None:
    import urllib.request

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited before it answered")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as response:  # noqa: S310 (loopback)
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer /healthz in time")


def worker_pids(master_pid: int) -> list[int]:
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []


def resident_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def machine() -> dict[str, str]:
    memory = next((line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal:")), "0")
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return {"cores": str(os.cpu_count()), "memory": f"{int(memory) / 1024 / 1024:.0f} GiB", "cpu": cpu,
            "python": platform.python_version()}


def table(figures: list[Figure]) -> list[str]:
    headers = ("figure", "measured", "baseline (same run)", "target", "verdict")
    rows = [(f.name, f.value, f.baseline, f.target, f.verdict) for f in figures]
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
    rule = "| " + " | ".join("-" * w for w in widths) + " |"
    return [line, rule, *("| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) + " |"
                          for r in rows)]
