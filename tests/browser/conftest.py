"""The browser suite: real Chromium (Debian's ``/usr/bin/chromium``) driven by Playwright against the
app served by a real server process.

Every journey runs at two widths, ``desktop`` (1280 px) and ``phone`` (375 px); every page it visits
is checked for horizontal scrolling and with axe-core (vendored in ``tests/browser/vendor/``), and
screenshotted into ``test-results/screenshots/`` (the folder and the files are named at the end of
the run). Without Chromium the suite is skipped with a message saying so; with
``MHFA_REQUIRE_BROWSER=1`` (CI) a missing or non-starting Chromium is a failure.

Fixtures and helpers for journeys (use them in any ``tests/browser/test_*.py``):

``live_server`` (session)
    The app under gunicorn on 127.0.0.1 and a random free port, on a fresh SQLite database in a temp
    instance folder, with the reference data and a small demo history (``demo-data --people 300
    --today <today>``). ``MHFA_BASE_URL`` is the server's own address and there is no MAIL_SERVER, so
    every email lands in ``<instance>/outbox/*.eml``. Attributes: ``url``, ``instance``, ``outbox``
    (a :class:`Outbox`), ``today``; ``live_server.flask("mhfa", "send-reminders")`` runs a CLI command
    against the same database; ``live_server.path(p)`` is the absolute URL of ``p``.
``width`` (parametrised)
    ``"desktop"`` or ``"phone"``: every test that uses ``page`` (or ``width``) runs at both.
``page``
    A fresh browser context (its own cookies) at the test's width, with ``base_url`` set, so
    ``page.goto("/courses")`` works. ``new_page(width=None)`` gives further ones (a second person).
``visit(page, path, name=None)``
    Go to a path and run :func:`check_page` on it; returns the response.
``check_page(page, name, allow=None)``
    Asserts no horizontal scrolling and no axe violation (``allow={"rule-id": "reason"}`` for a
    listed exception), and saves a screenshot named ``<test>-<width>-<name>.png``.
``assert_no_horizontal_scroll(page)``, ``check_axe(page, allow=None)``, ``screenshot(page, name)``
    The three checks on their own.
``navigate(locator)``
    Clicks a link or button and waits for the page it leads to (use it for every click that loads a page).
``login(page, email, password=DEMO_PASSWORD)``
    Signs in through the sign-in form and checks it worked.
``outbox``
    ``outbox.messages(to=None)`` parses ``instance/outbox/*.eml`` (oldest first);
    ``outbox.link(to, contains)`` is the last link in the last message to ``to`` whose URL
    contains ``contains``.
``unique_email(prefix)``
    A fresh address per call (the server lives for the whole session).
"""
from __future__ import annotations

import email
import email.policy
import itertools
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest

from tests.servers import stop

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
AXE = HERE / "vendor" / "axe.min.js"
CHROMIUM = os.environ.get("MHFA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
WIDTHS = {"desktop": (1280, 900), "phone": (375, 812)}
SCREENSHOTS = ROOT / "test-results" / "screenshots"
DEMO_PASSWORD = "reach-demo-2017"  # noqa: S105  (the demo accounts' published password)
DEMO_PEOPLE = 300
BIN = Path(sys.executable).parent

_saved: list[Path] = []


def _require_browser() -> bool:
    return os.environ.get("MHFA_REQUIRE_BROWSER", "") not in ("", "0", "false")


def _no_browser(message: str):
    if _require_browser():
        pytest.fail(message + " (MHFA_REQUIRE_BROWSER=1: the browser suite must run)", pytrace=False)
    pytest.skip(message)


def _free_port() -> int:
    for _ in range(50):
        port = 20000 + int.from_bytes(os.urandom(2), "big") % 40000
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port between 20000 and 60000")


# --- the outbox --------------------------------------------------------------------------------

@dataclass
class Outbox:
    """The emails the server wrote to ``instance/outbox/`` (no MAIL_SERVER)."""

    folder: Path

    def messages(self, to: str | None = None) -> list[email.message.EmailMessage]:
        found = []
        for path in sorted(self.folder.glob("*.eml"), key=lambda p: (p.stat().st_mtime_ns, p.name)):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if to is None or to.lower() in str(message["To"]).lower():
                found.append(message)
        return found

    @staticmethod
    def text(message: email.message.EmailMessage) -> str:
        part = message.get_body(preferencelist=("plain", "html"))
        return part.get_content() if part is not None else ""

    def link(self, to: str, contains: str, timeout: float = 10.0) -> str:
        """The last link containing ``contains`` in the newest message to ``to`` that has one."""
        deadline = time.monotonic() + timeout
        while True:
            for message in reversed(self.messages(to)):
                links = [u for u in re.findall(r"https?://\S+", self.text(message)) if contains in u]
                if links:
                    return links[-1].rstrip(".,)>")
            if time.monotonic() > deadline:
                raise AssertionError(f"no email to {to} with a link containing {contains!r}")
            time.sleep(0.2)


# --- the server --------------------------------------------------------------------------------

@dataclass
class LiveServer:
    url: str
    instance: Path
    env: dict
    today: date
    outbox: Outbox = field(init=False)

    def __post_init__(self):
        self.outbox = Outbox(self.instance / "outbox")

    def path(self, path: str) -> str:
        return self.url + path

    def flask(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run ``flask --app wsgi <args>`` against the server's database."""
        return subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, check=check, timeout=300)


def _wait_until_up(url: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server stopped (exit {process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as answer:  # noqa: S310 (our own server)
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the server did not answer /healthz within {timeout} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """The app under gunicorn on 127.0.0.1:<random port>, fresh SQLite database, demo data, outbox mail."""
    instance = tmp_path_factory.mktemp("browser-instance")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAIL_", "DATABASE_URL"))}
    env.update({
        "MHFA_INSTANCE_PATH": str(instance),
        "MHFA_BASE_URL": url,
        "SECRET_KEY": "browser-suite-secret",
        "RATELIMIT_ENABLED": "false",
        "MHFA_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "PYTHONUNBUFFERED": "1",
        # As ./scripts/serve runs it: emails written to instance/outbox right after each commit.
        "MHFA_DELIVER_AFTER_COMMIT": "true",
    })
    today = date.today()
    server = LiveServer(url=url, instance=instance, env=env, today=today)
    started = time.monotonic()
    server.flask("db", "upgrade")
    server.flask("mhfa", "load-reference")
    server.flask("mhfa", "demo-data", "--people", str(DEMO_PEOPLE), "--today", today.isoformat())
    log = instance / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(BIN / "gunicorn"), "--workers", "2", "--threads", "4", "--bind", f"127.0.0.1:{port}",
             "--access-logfile", "-", "wsgi:app"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_up(url, process, log)
        print(f"\nbrowser suite: app on {url} (instance {instance}), ready in {time.monotonic() - started:.1f} s")
        yield server
    finally:
        stop(process, timeout=10)
    errors = [line for line in log.read_text().splitlines() if "Traceback" in line or '" 500 ' in line]
    assert not errors, "the server logged errors:\n" + log.read_text()[-5000:]


# --- the browser -------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless; a skip (or, with MHFA_REQUIRE_BROWSER=1, a failure) without it."""
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        _no_browser(f"browser suite skipped: no Chromium at {CHROMIUM} (install Debian's chromium package)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _no_browser("browser suite skipped: Playwright for Python is not installed (pip install -e '.[test]')")
    playwright = sync_playwright().start()
    try:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    except Exception as error:  # noqa: BLE001  (any failure to start is reported the same way)
        playwright.stop()
        _no_browser(f"browser suite skipped: Chromium at {CHROMIUM} did not start: {error}")
    yield launched
    launched.close()
    playwright.stop()


@pytest.fixture(params=list(WIDTHS))
def width(request) -> str:
    return request.param


@pytest.fixture
def new_page(browser, live_server, width, request):
    """Factory: a page in a fresh context (own cookies) at ``width`` (default: the test's width)."""
    contexts = []

    def make(at: str | None = None):
        w, h = WIDTHS[at or width]
        context = browser.new_context(viewport={"width": w, "height": h}, base_url=live_server.url,
                                      accept_downloads=True)
        context.set_default_timeout(15000)
        contexts.append(context)
        made = context.new_page()
        made.mhfa_width = at or width
        made.mhfa_test = re.sub(r"[^A-Za-z0-9]+", "-", request.node.originalname).strip("-")
        return made

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


# --- checks ------------------------------------------------------------------------------------

def assert_no_horizontal_scroll(page) -> None:
    """The page is no wider than the viewport (nothing to scroll sideways)."""
    widths = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    if widths[0] > widths[1]:
        wide = page.evaluate("""() => {
            const vw = document.documentElement.clientWidth;
            return [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > vw + 1)
              .slice(0, 5).map(e => e.tagName.toLowerCase()
                + (e.className ? '.' + String(e.className).split(' ')[0] : '')
                + ' ' + Math.round(e.getBoundingClientRect().right) + 'px');
        }""")
        raise AssertionError(f"{page.url} is {widths[0]} px wide in a {widths[1]} px viewport: {wide}")


_AXE_SOURCE: str | None = None


def check_axe(page, allow: dict[str, str] | None = None) -> None:
    """No axe-core violation of any impact, WCAG 2.2 AA rules included, except the rules in ``allow``
    (rule id -> the reason)."""
    global _AXE_SOURCE
    if _AXE_SOURCE is None:
        _AXE_SOURCE = AXE.read_text()
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(_AXE_SOURCE)  # Playwright evaluates outside the page's CSP, so no inline script is needed
    result = page.evaluate("""async () => {
        // axe's default rules plus every WCAG 2.2 rule (target-size and the rest), on by default or not.
        const wcag22 = axe.getRules(['wcag22a', 'wcag22aa']).map(rule => rule.ruleId);
        const rules = Object.fromEntries(wcag22.map(id => [id, {enabled: true}]));
        const r = await axe.run(document, {resultTypes: ['violations'], rules});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                       nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""")
    allowed = allow or {}
    left = [v for v in result if v["id"] not in allowed]
    assert not left, f"axe violations on {page.url}:\n" + "\n".join(
        f"  {v['impact']} {v['id']}: {v['help']} at {v['nodes']}" for v in left)


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    slug = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-")
    path = SCREENSHOTS / f"{getattr(page, 'mhfa_test', 'page')}-{getattr(page, 'mhfa_width', '')}-{slug}.png"
    page.screenshot(path=str(path), full_page=True)
    _saved.append(path)
    return path


def check_page(page, name: str, allow: dict[str, str] | None = None) -> Path:
    """No sideways scrolling, no axe violation, and a screenshot; returns the screenshot's path."""
    page.wait_for_load_state()
    assert_no_horizontal_scroll(page)
    check_axe(page, allow)
    return screenshot(page, name)


def visit(page, path: str, name: str | None = None, status: int = 200, allow: dict[str, str] | None = None):
    response = page.goto(path)
    assert response is not None and response.status == status, f"{path}: {response and response.status}"
    check_page(page, name or path, allow)
    return response


def navigate(locator) -> None:
    """Click a link or submit button and wait until the page it leads to has loaded."""
    page = locator.page
    with page.expect_navigation():
        locator.click()
    page.wait_for_load_state()


def login(page, email_address: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Email address").fill(email_address)
    page.get_by_label("Password", exact=True).fill(password)
    navigate(page.get_by_role("button", name="Sign in"))
    assert page.get_by_role("button", name="Sign out").is_visible(), f"sign-in as {email_address} failed: {page.url}"


_counter = itertools.count(1)


def unique_email(prefix: str = "person") -> str:
    return f"{prefix}-{os.getpid()}-{next(_counter)}-{int(time.time() * 1000) % 100000}@example.net"


@pytest.fixture
def outbox(live_server) -> Outbox:
    return live_server.outbox


def pytest_terminal_summary(terminalreporter):
    if _saved:
        terminalreporter.write_sep("-", f"browser screenshots: {len(_saved)} in {SCREENSHOTS}")
        for path in _saved[-6:]:
            terminalreporter.write_line(f"  {path.name}")
        if len(_saved) > 6:
            terminalreporter.write_line(f"  … and {len(_saved) - 6} more")
