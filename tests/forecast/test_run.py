"""Running the forecast from its page: a CSRF-protected POST, a job with progress, a background thread
that never holds up other requests, and a page that says when the settings have changed since."""
from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest

from mhfa.auth import services as auth_services
from mhfa.auth.models import Role
from mhfa.demo import services as demo
from mhfa.extensions import db
from mhfa.forecast import jobs
from mhfa.forecast.models import ForecastJob, ForecastRun, JobState
from mhfa.reach import keeping
from mhfa.reach.settings import current_settings
from mhfa.timeutil import utcnow
from tests import factories
from tests.conftest import csrf_token
from tests.forecast.helpers import QUICK


@pytest.fixture()
def quick_runs(app):
    app.config["MHFA_FORECAST_OPTIONS"] = QUICK
    yield
    app.config.pop("MHFA_FORECAST_OPTIONS", None)


@pytest.fixture()
def history(app_ctx):
    demo.generate(people=300, seed=3, today=date.today())
    keeping.rebuild()  # as the demo-data command does: the bulk load is below the session listener
    db.session.commit()
    return app_ctx


def _wait_for_jobs():
    for thread in list(jobs.started):
        thread.join(timeout=120)
    jobs.started.clear()


def _post_run(client):
    token = csrf_token(client, "/forecast/method")
    return client.post("/forecast/run", data={"csrf_token": token})


@pytest.mark.parametrize("role", [Role.BOARD, Role.COORDINATOR])
def test_the_board_runs_the_forecast_from_the_page_and_reads_its_chance_and_coverage(
        history, client, auth, quick_runs, role):
    auth.login(factories.user(role))
    response = _post_run(client)
    assert response.status_code == 302 and response.headers["Location"].endswith("/forecast/method#run")
    _wait_for_jobs()
    job = db.session.scalar(db.select(ForecastJob))
    db.session.refresh(job)
    assert job.state == JobState.DONE and job.progress == 100 and job.run_id is not None
    run = db.session.get(ForecastRun, job.run_id)
    settings = current_settings()
    assert (run.target_people, run.target_start, run.target_date) == (settings.target_people, settings.start_on,
                                                                     settings.end_on)
    page = client.get("/forecast/method").get_data(as_text=True)
    assert f"{100 * run.probability_of_target:.0f}% chance" in page
    coverage = run.summary["coverage"]
    assert f"the 80% interval held {100 * coverage['coverage_80']:.0f}%" in page
    assert "out of date" not in page and "forecast-progress.js" not in page


def test_a_run_without_the_csrf_token_is_refused_and_starts_nothing(history, client, auth):
    auth.login(factories.user(Role.BOARD))
    assert client.post("/forecast/run").status_code == 400
    assert db.session.scalar(db.select(db.func.count()).select_from(ForecastJob)) == 0


def test_other_roles_cannot_run_it(history, client, auth):
    auth.login(factories.user(Role.INSTRUCTOR))
    token = csrf_token(client, "/account")
    assert client.post("/forecast/run", data={"csrf_token": token}).status_code == 403
    assert db.session.scalar(db.select(db.func.count()).select_from(ForecastJob)) == 0


def test_a_slow_run_shows_its_progress_and_other_requests_are_answered_meanwhile(
        history, client, auth, monkeypatch):
    """The run waits on a gate half way: the page answers (progress, refresh), a second press starts nothing."""
    reached, gate = threading.Event(), threading.Event()
    real = jobs.forecast_from_database

    def slow(options, progress):
        progress(40, "Testing the models on the past (2 of 5)")
        reached.set()
        assert gate.wait(timeout=60)
        return real(QUICK, progress=progress)

    monkeypatch.setattr(jobs, "forecast_from_database", slow)
    auth.login(factories.user(Role.BOARD))
    assert _post_run(client).status_code == 302
    try:
        assert reached.wait(timeout=60)
        page = client.get("/forecast/method")
        text = page.get_data(as_text=True)
        assert page.status_code == 200
        assert "The forecast is running: 40% done." in text and "Testing the models on the past (2 of 5)" in text
        assert 'data-refresh-seconds="3"' in text and "js/forecast-progress.js" in text   # polls with JS
        assert 'href="/forecast/method#run"' in text                                        # a link without
        assert client.get("/reach").status_code == 200                   # other pages answer meanwhile
        assert _post_run(client).status_code == 302                       # pressed again: the same job
        assert db.session.scalar(db.select(db.func.count()).select_from(ForecastJob)) == 1
    finally:
        gate.set()
        _wait_for_jobs()
    assert db.session.scalar(db.select(ForecastJob.state)) == JobState.DONE


def test_a_run_that_died_is_reported_and_a_new_one_can_start(history, client, auth, quick_runs):
    dead = ForecastJob(state=JobState.RUNNING, progress=30, step="Simulating possible futures",
                       heartbeat_at=utcnow() - jobs.STALE_AFTER - timedelta(minutes=1))
    db.session.add(dead)
    db.session.commit()
    auth.login(factories.user(Role.COORDINATOR))
    page = client.get("/forecast/method").get_data(as_text=True)
    assert "The last run did not finish" in page and "Run the forecast now" in page
    assert _post_run(client).status_code == 302
    _wait_for_jobs()
    states = db.session.scalars(db.select(ForecastJob.state).order_by(ForecastJob.id)).all()
    assert states == [JobState.FAILED, JobState.DONE]


def test_a_failed_run_says_why_on_the_page(app_ctx, client, auth):
    auth.login(factories.user(Role.BOARD))      # nobody reached yet: nothing to forecast from
    assert _post_run(client).status_code == 302
    _wait_for_jobs()
    page = client.get("/forecast/method").get_data(as_text=True)
    assert "The last run did not finish: Nobody has been reached in the data yet" in page


def test_when_the_settings_change_the_page_and_the_api_say_the_forecast_is_out_of_date(
        history, client, auth, quick_runs):
    auth.login(factories.user(Role.BOARD))
    _post_run(client)
    _wait_for_jobs()
    settings = current_settings(persist=True)
    settings.target_people += 1000
    db.session.commit()
    page = client.get("/forecast/method").get_data(as_text=True)
    assert "This forecast is out of date" in page and "(the target)" in page
    assert "Run the forecast again" in page
    user = factories.user(Role.BOARD)
    token = auth_services.issue_api_token(user)
    db.session.commit()
    body = client.get("/api/v1/forecast/latest", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert body["up_to_date"] is False and body["settings_changed"] == ["the target"]
    assert body["target"]["people"] == settings.target_people - 1000


def test_demo_data_ends_by_storing_a_forecast_from_the_programme_settings(runner):
    result = runner.invoke(args=["mhfa", "demo-data", "--people", "200", "--today", "2026-11-20"])
    assert result.exit_code == 0, result.output
    assert "Forecast stored (run " in result.output
    run = db.session.scalar(db.select(ForecastRun))
    settings = current_settings()
    assert run.target_people == settings.target_people == 200        # the demo's scaled target, not 500,000
    assert run.data_through == date(2026, 10, 31)
    assert run.settings["region"] and run.settings["counting"]
