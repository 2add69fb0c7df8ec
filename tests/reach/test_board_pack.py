"""The board pack: one PDF of a month-end release, its text checked with pdftotext."""
from __future__ import annotations

import shutil
import subprocess
from datetime import date

import pytest

from mhfa.auth.models import Role
from mhfa.extensions import db
from mhfa.forecast.models import ForecastRun
from mhfa.reach import releases
from tests import factories
from tests.reach.test_counted import reached  # noqa: F401  (fixture)
from tests.reach.test_dashboard import board_login, complete

TOOLS = {name: shutil.which(name) for name in ("pdftotext", "pdfinfo")}
pytestmark = pytest.mark.skipif(None in TOOLS.values(), reason="pdftotext and pdfinfo (poppler-utils) are needed")


def _run(tool: str, path) -> str:
    return subprocess.run([TOOLS[tool], *(["-layout"] if tool == "pdftotext" else []), str(path),
                           *(["-"] if tool == "pdftotext" else [])], capture_output=True, check=True, text=True).stdout


def _text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "pack.pdf"
    path.write_bytes(pdf)
    assert "Tagged:          yes" in _run("pdfinfo", path)
    return " ".join(_run("pdftotext", path).split())


def test_the_board_pack_of_a_release_carries_its_headline_chart_areas_changes_and_forecast(
        client, auth, reached, tmp_path):  # noqa: F811
    releases.freeze(releases.parse_month("2026-10"), today=date(2026, 12, 6))
    complete(factories.person("Nov"), on=date(2026, 11, 12))
    db.session.add(ForecastRun(data_through=date(2026, 10, 31), target_people=500000, target_date=date(2027, 1, 31),
                               method="test", projected_at_target_date=20, probability_of_target=0.03,
                               lower_80=15, upper_80=25,
                               summary={"coverage": {"coverage_80": 0.81, "coverage_95": 0.94}, "bands": [
                                   {"month": "2027-01", "median": 19, "lower_80": 17, "upper_80": 21,
                                    "lower_95": 15, "upper_95": 23}]}))
    releases.freeze(today=date(2026, 12, 6))
    db.session.commit()
    board_login(auth)
    assert 'href="/reach/board-pack/2026-11.pdf"' in client.get("/reach").get_data(as_text=True)
    response = client.get("/reach/board-pack/2026-11.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    text = _text(response.data, tmp_path)
    assert "Progress release 2026-11, as of 2026-11-30" in text
    assert "Counted toward the target 17 of 500,000" in text
    assert "Outside the target region (not counted) 1" in text
    assert "People counted toward the target against the required path" in text
    assert "Forecast median (bands: 80% and 95%)" in text  # the band drawn, with its legend
    assert "1 people counted toward the target were first reached in the month" in text
    assert "Since release 2026-10: +1 counted toward the target" in text
    assert "Birmingham 12 13 +1" in text and "Shropshire (outside the region)" in text
    assert "Probability of reaching the target: 3%" in text
    assert "80% interval at 2027-01-31: 15 to 25" in text
    assert "the 80% interval held 81% of past outcomes and the 95% interval 94%" in text
    assert client.get("/reach/board-pack/2026-09.pdf").status_code == 404


def test_the_board_pack_is_for_the_board_and_coordinators(client, auth, reached):  # noqa: F811
    releases.freeze(today=date(2026, 12, 6))
    db.session.commit()
    assert client.get("/reach/board-pack/2026-11.pdf").status_code == 302  # sign in first
    board_login(auth, Role.INSTRUCTOR)
    assert client.get("/reach/board-pack/2026-11.pdf").status_code == 403
