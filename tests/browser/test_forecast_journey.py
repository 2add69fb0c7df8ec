"""The forecast in a real browser: a board member finds the demo's stored forecast, runs it again from the page,
watches its progress (the page refreshes itself) and reads the new chance and how often its intervals held."""
from __future__ import annotations

import re
import time

from tests.browser.conftest import check_page, login, navigate, visit


def _run_number(page) -> int:
    return int(re.search(r"Forecast run (\d+)", page.locator("#run-number").inner_text()).group(1))


def test_board_member_runs_the_forecast_and_reads_its_chance_and_coverage(page, live_server, width):
    login(page, "board@example.org")
    visit(page, "/forecast/method", "forecast-before")
    assert page.locator("#chance").is_visible(), "a fresh install has a forecast (demo-data stores one)"
    assert "flask" not in page.locator("main").inner_text()
    before = _run_number(page)

    navigate(page.get_by_role("button", name="Run the forecast again"))
    assert "The forecast is running" in page.locator(".govuk-notification-banner").inner_text()
    if page.locator("#run-progress").count():
        check_page(page, "forecast-running")
    deadline = time.monotonic() + 120
    while page.locator("#run-progress").count():                 # the page refreshes itself every 3 s
        assert time.monotonic() < deadline, "the forecast run did not finish within two minutes"
        page.wait_for_timeout(1000)
    page.wait_for_load_state()
    assert _run_number(page) > before
    chance = page.locator("#chance").inner_text()
    assert re.search(r"\d+% chance", chance) and re.search(r"Likely|Uncertain|Unlikely", chance)
    coverage = page.locator("#coverage dd").inner_text()
    held = re.search(r"the 80% interval held (\d+)% and the 95% interval (\d+)%", coverage)
    assert held, coverage
    assert 70 <= int(held.group(1)) <= 90 and 88 <= int(held.group(2)) <= 99
    check_page(page, "forecast-after")
