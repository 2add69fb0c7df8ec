"""Open data a machine can read, and monthly releases that can be cited: frozen, kept, corrected in the open."""
from __future__ import annotations

import io
import json
from datetime import date

import pandas as pd
import pytest

from mhfa.extensions import db
from mhfa.reach import dashboard, releases
from mhfa.reach.counts import Filters
from mhfa.reach.models import ReachRelease
from tests import factories
from tests.reach.test_counted import reached  # noqa: F401  (fixture)
from tests.reach.test_dashboard import complete

TABLES = ("headline", "trajectory", "areas")


def test_each_table_is_a_tidy_csv_pandas_reads_as_it_is_with_every_column_described(client, reached):  # noqa: F811
    package = client.get("/progress/data/datapackage.json").get_json()
    assert package["licenses"][0]["name"] == "OGL-UK-3.0"
    fields = {r["name"]: [f["name"] for f in r["schema"]["fields"]] for r in package["resources"]}
    assert all(f["description"] for r in package["resources"] for f in r["schema"]["fields"])
    for name in TABLES:
        response = client.get(f"/progress/data/{name}.csv")
        assert response.status_code == 200 and response.mimetype == "text/csv"
        assert "license" in response.headers["Link"]
        frame = pd.read_csv(io.BytesIO(response.data))
        assert list(frame.columns) == fields[name], name
    headline = pd.read_csv(io.BytesIO(client.get("/progress/data/headline.csv").data))
    figures = dashboard.headline(Filters())
    assert headline.loc[0, "counted_toward_target"] == figures.counted == 16
    assert headline.loc[0, "outside_region"] == 1
    assert date.fromisoformat(headline.loc[0, "as_of"]) == figures.as_of
    areas = pd.read_csv(io.BytesIO(client.get("/progress/data/areas.csv").data), dtype={"gss_code": str})
    assert areas.loc[areas.gss_code == "E08000025", "people_reached"].item() == 12
    assert areas.loc[areas.area_name == "Shropshire", "counted_toward_target"].item() == False  # noqa: E712
    assert areas.loc[areas.counted_toward_target, "people_reached"].sum() == figures.counted
    trajectory = pd.read_csv(io.BytesIO(client.get("/progress/data/trajectory.csv").data))
    assert trajectory["counted_cumulative"].iloc[-1] == figures.counted
    body = json.loads(client.get("/progress/data/progress.json").data)
    assert body["headline"][0]["counted_toward_target"] == 16 and body["licence"]["name"] == "OGL-UK-3.0"
    assert client.get("/progress/data/passwords.csv").status_code == 404


def test_a_month_is_frozen_kept_and_corrected_as_a_new_release_never_silently(client, runner, reached):  # noqa: F811
    today = date(2026, 12, 6)
    first = releases.freeze(today=today)
    db.session.commit()
    assert first.key == "2026-11" and first.as_of == date(2026, 11, 30)
    assert releases.freeze(today=today) is None  # the same figures: nothing added
    original = client.get("/progress/releases/2026-11/headline.csv").data
    assert pd.read_csv(io.BytesIO(original)).loc[0, "counted_toward_target"] == 16

    complete(factories.person("Late"), on=date(2026, 11, 20))  # a late import for November
    db.session.commit()
    correction = releases.freeze(releases.parse_month("2026-11"), today=today)
    db.session.commit()
    assert correction.key == "2026-11-r2" and "Correction of 2026-11" in correction.note
    assert "counted_toward_target 16 to 17" in correction.note
    assert client.get("/progress/releases/2026-11/headline.csv").data == original  # never changed
    assert b"17" in client.get("/progress/releases/2026-11-r2/headline.csv").data
    page = client.get("/progress/releases/2026-11/").get_data(as_text=True)
    assert "corrected later" in page and "2026-11-r2" in page
    progress = client.get("/progress").get_data(as_text=True)
    assert "/progress/releases/2026-11/" in progress and "2026-11-r2" in progress
    assert client.get("/progress/releases/2026-11-r2/datapackage.json").get_json()["name"].endswith("2026-11-r2")


@pytest.mark.parametrize("key", ["2026-10", "2026-13", "..%2F..%2Fetc", "2026-11-r0", "x" * 300, "2026-11-r99999"])
def test_an_unknown_release_is_a_404_never_a_500(client, reached, key):  # noqa: F811
    assert client.get(f"/progress/releases/{key}/").status_code == 404
    assert client.get(f"/progress/releases/{key}/headline.csv").status_code == 404


def test_the_freeze_release_command_refuses_a_month_not_yet_ended(runner, reached):  # noqa: F811
    result = runner.invoke(args=["mhfa", "freeze-release", "--month", "2999-01"])
    assert result.exit_code != 0 and "once it has ended" in result.output
    result = runner.invoke(args=["mhfa", "freeze-release", "--month", "nope"])
    assert result.exit_code != 0 and "YYYY-MM" in result.output
    result = runner.invoke(args=["mhfa", "freeze-release", "--month", "2025-01"])
    assert result.exit_code == 0 and "Release 2025-01 frozen as of 2025-01-31" in result.output
    assert db.session.query(ReachRelease).count() == 1
