"""The forecast on the database: the series counted from raw rows, the demo history, the CLI, the stored run."""
import csv
import json
from datetime import date

import pandas as pd
import pytest

from mhfa.attendance.models import Completion, CompletionSource
from mhfa.auth.models import Role
from mhfa.demo import services as demo
from mhfa.extensions import db
from mhfa.forecast import series as monthly
from mhfa.forecast.areas import region_from_database
from mhfa.forecast.commands import run_forecast
from mhfa.forecast.models import ForecastRun
from mhfa.forecast.runs import latest_run
from mhfa.forecast.services import make_forecast, programme_from_settings, what_if_for_run
from mhfa.reach import keeping
from tests import factories
from tests.forecast.helpers import QUICK

BAND_KEYS = {"month", "median", "lower_80", "upper_80", "lower_95", "upper_95"}


def _completion(person, code, on):
    db.session.add(Completion(person=person, course_type=factories.course_type(code), completed_on=on,
                              source=CompletionSource.IMPORT))
    db.session.flush()


def test_from_database_counts_each_person_once_in_the_month_of_their_first_counting_completion(app_ctx):
    asha = factories.person("Asha")
    _completion(asha, "AWARE", date(2024, 3, 5))           # counts: awareness counts toward the target here
    _completion(asha, "ADULT_2DAY", date(2024, 5, 2))      # a second course never counts her again
    refresher_only = factories.person("Ben", home_council_area=factories.area("Coventry"))
    _completion(refresher_only, "REFRESHER", date(2024, 4, 1))  # refreshers do not count toward the target
    nowhere = factories.person("Cai", home_council_area=None)
    _completion(nowhere, "YOUTH_2DAY", date(2024, 5, 20))
    revoked = factories.person("Dee", home_council_area=factories.area("Coventry"))
    factories.certificate(revoked, "ADULT_2DAY", issued_on=date(2024, 4, 10), revoked=True)
    reissued = factories.person("Eve", home_council_area=factories.area("Coventry"))
    first = factories.certificate(reissued, "ADULT_2DAY", issued_on=date(2024, 4, 11), revoked=True)
    factories.certificate(reissued, "ADULT_2DAY", issued_on=date(2024, 4, 12))
    db.session.flush()
    assert first.revoked_at is not None
    later = factories.person("Fay")
    _completion(later, "ADULT_2DAY", date(2024, 7, 1))     # after --as-of

    series = monthly.from_database(pd.Period("2024-06", freq="M"))
    flow = series.flow
    assert [m.strftime("%Y-%m") for m in flow.index] == ["2024-03", "2024-04", "2024-05", "2024-06"]
    assert flow.loc["2024-03", "Birmingham"] == 1
    assert flow.loc["2024-04", "Coventry"] == 1           # Eve (reissued); not Dee (revoked), not Ben (refresher)
    assert flow.loc["2024-05", monthly.UNKNOWN_AREA] == 1
    assert series.reached == 3
    assert "Solihull" in series.areas                      # every area, zeros included
    assert series.areas[-1] == monthly.UNKNOWN_AREA


def test_from_csv_reads_its_own_figures_and_refuses_bad_rows_by_line(tmp_path):
    good = tmp_path / "monthly.csv"
    good.write_text("month,council_area,new_people\n2024-01,Birmingham,5\n2024-03,Coventry,2\n2024-03,,1\n")
    series = monthly.from_csv(good)
    assert series.total.tolist() == [5, 0, 3]
    assert series.flow.loc["2024-03", monthly.UNKNOWN_AREA] == 1
    bad = tmp_path / "bad.csv"
    bad.write_text("month,council_area,new_people\n2024-13,Birmingham,5\n2024-02,Coventry,-1\n2024-03,Dudley,x\n")
    with pytest.raises(Exception, match="line 2: month.*line 3: new_people cannot be negative.*line 4"):
        monthly.from_csv(bad)


@pytest.fixture()
def demo_history(app_ctx):
    demo.generate(people=400, seed=7, today=date(2026, 11, 25))
    keeping.rebuild()  # as the demo-data command does: the bulk load is below the session listener
    db.session.commit()
    return app_ctx


def test_on_the_demo_history_the_chosen_model_is_no_worse_than_seasonal_naive(demo_history):
    series = monthly.from_database(pd.Period("2026-10", freq="M"))
    assert series.reached > 300
    programme = programme_from_settings(region=region_from_database())
    summary = make_forecast(series, programme, QUICK).summary
    scores = {score["name"]: score for score in summary["backtest"]["candidates"]}
    assert scores[summary["model"]["name"]]["weighted_error"] <= scores["seasonal_naive"]["weighted_error"]
    assert summary["probability_of_target"] < 0.01          # 400 people against 500,000
    coverage = summary["coverage"]                          # calibrated on the project's own data
    assert 0.70 <= coverage["coverage_80"] <= 0.90 and 0.88 <= coverage["coverage_95"] <= 0.99, coverage
    areas = {area["area"]: area for area in summary["areas"]}
    assert sum(area["pro_rata_target"] or 0 for area in areas.values()) == pytest.approx(500_000, abs=10)


def test_a_run_writes_the_three_files_and_stores_the_bands(demo_history, tmp_path):
    forecast, run, _ = run_forecast(out=tmp_path, as_of="2026-10", seed=5, paths=1000, options=QUICK,
                                    what_ifs=((100, "2026-12"),), echo=lambda _: None)
    with (tmp_path / "forecast.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["month", "area", "median", "lower_80", "upper_80", "lower_95", "upper_95"]
    assert {row["area"] for row in rows} >= {"Total", "Birmingham"}
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["as_of"] == "2026-10" and summary["seed"] == 5
    assert summary["what_if"][0]["from_month"] == "2026-12"
    assert (tmp_path / "forecast.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    stored = latest_run()
    assert stored.id == run.id and stored.data_through == date(2026, 10, 31)
    assert stored.method == summary["model"]["name"]
    bands = stored.summary["bands"]
    assert bands[0]["month"] == "2026-11" and set(bands[0]) == BAND_KEYS
    assert all(b["lower_95"] <= b["lower_80"] <= b["median"] <= b["upper_80"] <= b["upper_95"] for b in bands)
    assert stored.projected_at_target_date == summary["at_deadline"]["median"]
    # The board's what-if on the stored run rebuilds the very same paths: the same answer as the run's own.
    assert what_if_for_run(stored, extra_per_month=100, from_month="2026-12") == summary["what_if"][0]


def test_flask_mhfa_forecast_runs_on_a_csv_without_storing(app_ctx, tmp_path):
    source = tmp_path / "monthly.csv"
    months = pd.period_range("2023-01", periods=30, freq="M")
    source.write_text("month,council_area,new_people\n"
                      + "".join(f"{m.strftime('%Y-%m')},Birmingham,{100 + i}\n" for i, m in enumerate(months)))
    result = app_ctx.test_cli_runner().invoke(
        args=["mhfa", "forecast", "--out", str(tmp_path / "out"), "--input", str(source), "--paths", "500",
              "--target-people", "5000", "--what-if", "50@2025-09"])
    assert result.exit_code == 0, result.output
    assert "only 30 months of history" in result.output
    assert "Probability of the target by the deadline" in result.output
    assert (tmp_path / "out" / "summary.json").exists()
    assert db.session.query(ForecastRun).count() == 0

    result = app_ctx.test_cli_runner().invoke(
        args=["mhfa", "forecast", "--out", str(tmp_path / "out"), "--input", str(source), "--what-if", "x@y"])
    assert result.exit_code != 0 and "--what-if must look like" in result.output


def test_scripts_forecast_py_runs_the_same_code(tmp_path):
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("forecast_script", Path(__file__).parents[2] / "scripts/forecast.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    main = script.main
    source = tmp_path / "monthly.csv"
    source.write_text("month,council_area,new_people\n2025-01,Coventry,10\n2025-02,Coventry,12\n2025-03,,11\n")
    assert main(["--input", str(source), "--out", str(tmp_path / "out"), "--paths", "500",
                 "--target-people", "100", "--target-start", "2025-01-01", "--target-end", "2026-12-31"]) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["model"]["name"] == "drift"
    assert summary["probability_of_target"] == 1.0


def test_the_board_asks_a_what_if_on_the_forecast_page(demo_history, tmp_path, client, auth):
    run_forecast(out=tmp_path, as_of="2026-10", seed=5, paths=1000, options=QUICK, echo=lambda _: None)
    auth.login(factories.user(Role.BOARD))
    page = client.get("/forecast/method?extra_per_month=60000&from_month=2026-12")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "With 60,000 more people a month from 2026-12" in text
    refused = client.get("/forecast/method?extra_per_month=500&from_month=2026-01")
    assert refused.status_code == 422
    assert "The what-if must start after the last month of data (2026-10)" in refused.get_data(as_text=True)
    refused = client.get("/forecast/method?extra_per_month=lots&from_month=March")
    assert refused.status_code == 422
    body = refused.get_data(as_text=True)
    assert "Enter the month as year and month, like 2027-03" in body and 'value="lots"' in body
