"""Reach pages: the board's dashboard, downloads, programme settings, historical import, public progress."""
from __future__ import annotations

import hashlib
import json

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from mhfa import flow
from mhfa.auth.access import public, role_required
from mhfa.auth.models import Role
from mhfa.outcomes import board as outcomes_board
from mhfa.reach import boardpack, counted, dashboard, exports, importing, opendata, releases
from mhfa.reach.chart import NARROW, WIDE, describe, trajectory_svg
from mhfa.reach.counts import Filters
from mhfa.reach.forms import BASIS_LABELS, SettingsForm, UploadForm, parse_filters
from mhfa.reach.settings import (
    BookingRules,
    PaymentDetails,
    SettingsChanges,
    current_settings,
    region_area_ids,
    update_settings,
)
from mhfa.security.input import body_limit
from mhfa.shares import percent

bp = Blueprint("reach", __name__)
DASHBOARD_ROLES = (Role.BOARD, Role.COORDINATOR)
PUBLIC_MAX_AGE = 300


#: Columns holding a share from 0 to 1 (the outcomes' rates): a percentage on the page, a fraction in downloads.
SHARE_COLUMNS = ("Response rate", "Rated good or very good", "Follow-up response rate",
                 "Used their skills (six months on)", "No-show rate", "Completion rate")


def _is_share(column: str) -> bool:
    return column in SHARE_COLUMNS


@bp.app_template_filter("reach_cell")
def reach_cell(value, column: str = "") -> str:
    """A table cell as shown: thousands separated, two decimals (a share as a percentage), a dash when there is
    no figure."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return percent(value) if _is_share(column) else f"{value:,.2f}"
    return str(value)


def _chart(filters: Filters, series: list[dict], *, with_forecast: bool = True):
    settings = current_settings()
    position = dashboard.headline(filters)
    forecast = dashboard.latest_forecast() if with_forecast and filters.area is None else None
    bands = forecast["bands"] if forecast else []
    summary = describe(position, bands)
    svg = Markup("").join(
        trajectory_svg(series, start=f"{settings.start_on:%Y-%m}", end=f"{settings.end_on:%Y-%m}",
                       target=position.target, bands=bands, summary=summary, layout=layout)
        for layout in (WIDE, NARROW))  # CSS shows one: the narrow drawing on phones, so its text stays legible
    return {"svg": svg, "summary": summary, "forecast": forecast}


def _choices():
    return dashboard.areas_in_order(), dashboard.course_types()


@bp.route("/reach", endpoint="dashboard")
@role_required(*DASHBOARD_ROLES)
def dashboard_page():
    """The board's dashboard: headline, trajectory chart and every table, under the chosen filters."""
    areas, types = _choices()
    parsed = parse_filters(request.args, areas, types)
    filters = parsed.filters
    headline = dashboard.headline(filters)
    series = dashboard.cumulative_series(filters)
    tables = dashboard.all_tables(filters, include_outside=parsed.include_outside)
    return render_template(
        "reach/dashboard.html", parsed=parsed, headline=headline, chart=_chart(filters, series), tables=tables,
        areas=areas, types=types, basis_labels=BASIS_LABELS, rag_rule=dashboard.RAG_RULE,
        target_rule=dashboard.TARGET_RULE, releases=releases.all_releases()[:6], page_title="Reach dashboard",
        outcomes=None if parsed.errors else outcomes_board.section(filters),
    ), 400 if parsed.errors else 200


@bp.route("/reach/download/<name>.<fmt>")
@role_required(*DASHBOARD_ROLES)
def download(name: str, fmt: str):
    """One table as CSV, or every table as one Excel workbook (``all.xlsx``)."""
    parsed = parse_filters(request.args, *_choices())
    if parsed.errors:
        abort(400)
    tables = dashboard.all_tables(parsed.filters, include_outside=parsed.include_outside)
    if fmt == "xlsx" and name == "all":
        body = exports.tables_xlsx(tables, filters_text=parsed.describe())
        return flow.file_response(body, "reach.xlsx", flow.XLSX)
    table = next((t for t in tables if t.name == name), None)
    if table is None or fmt not in ("csv", "xlsx"):
        abort(404)
    if fmt == "xlsx":
        return flow.file_response(exports.tables_xlsx([table], filters_text=parsed.describe()),
                                  f"reach-{name}.xlsx", flow.XLSX)
    return flow.file_response(exports.table_csv(table, [table.title, parsed.describe()]).encode("utf-8-sig"),
                              f"reach-{name}.csv", "text/csv")


@bp.route("/reach/board-pack/<key>.pdf")
@role_required(*DASHBOARD_ROLES)
def board_pack(key: str):
    """The board pack of a month-end release: one printable PDF."""
    kept = flow.found_or_404(releases.release, key)
    return flow.file_response(boardpack.render(kept), f"board-pack-{kept.key}.pdf", "application/pdf")


def _booking_rules(form: SettingsForm, settings) -> BookingRules:
    """The booking rules sent; a field left out keeps its current value."""
    def sent(value, current):
        return current if value is None else value
    spent = form.no_show_spends_place.data
    return BookingRules(sent(form.offer_window_days.data, settings.offer_window_days),
                        sent(form.offer_hours.data, settings.offer_hours),
                        settings.no_show_spends_place if spent not in ("spent", "returned") else spent == "spent")


@bp.route("/reach/settings", methods=["GET", "POST"])
@role_required(Role.COORDINATOR, Role.ADMIN)
def programme_settings():
    """The programme's target, dates, region and which course types count (audited)."""
    settings = current_settings()
    areas, types = _choices()
    form = SettingsForm(data=None if request.method == "POST" else {
        "target_people": settings.target_people, "start_on": settings.start_on, "end_on": settings.end_on,
        "region": sorted(region_area_ids()), "counting": [t.id for t in types if t.counts_toward_target],
        "awareness": [t.id for t in types if t.is_awareness],
        "bank_account_name": settings.bank_account_name, "bank_sort_code": settings.bank_sort_code,
        "bank_account_number": settings.bank_account_number, "payment_terms_days": settings.payment_terms_days,
        "offer_window_days": settings.offer_window_days, "offer_hours": settings.offer_hours,
        "no_show_spends_place": "spent" if settings.no_show_spends_place else "returned"})
    form.region.choices = [(a.id, a.name) for a in areas]
    form.counting.choices = [(t.id, t.name) for t in types]
    form.awareness.choices = [(t.id, t.name) for t in types]
    if form.validate_on_submit():
        changes = SettingsChanges(form.target_people.data, form.start_on.data, form.end_on.data,
                                  set(form.region.data or []), set(form.counting.data or []),
                                  set(form.awareness.data or []),
                                  PaymentDetails(form.bank_account_name.data or "", form.bank_sort_code.data or "",
                                                 form.bank_account_number.data or "", form.payment_terms_days.data),
                                  _booking_rules(form, settings))
        outcome = flow.attempt(update_settings, changes, by=current_user, form=form)
        if outcome.done("Programme settings saved; reach figures updated."):
            return redirect(url_for(".programme_settings"))
    return render_template("reach/settings.html", form=form, settings=settings,
                           page_title="Programme settings"), flow.status(form)


@bp.route("/reach/import", methods=["GET", "POST"])
@body_limit()  # the largest upload the service takes (MAX_CONTENT_LENGTH, a little above importing.MAX_BYTES)
@role_required(Role.COORDINATOR)
def upload():
    """Historical completions from a CSV file: checked whole, then imported (or only checked)."""
    form = UploadForm()
    summary = problems = None
    if form.validate_on_submit():
        data = form.file.data.read(importing.MAX_BYTES + 1)
        dry_run = bool(form.dry_run.data)
        outcome = flow.attempt(importing.import_completions, data, dry_run=dry_run, by=current_user, form=form)
        if outcome.ok:
            summary = outcome.value
        elif isinstance(outcome.error, importing.ImportRejected):
            problems = outcome.error.lines
            form.file.errors = [f"The file was not imported: {len(problems)} problem(s) listed below"]
            form.form_errors = []
    return render_template("reach/upload.html", form=form, summary=summary, problems=problems,
                           columns=importing.REQUIRED + importing.OPTIONAL, page_title="Import completions"), \
        (422 if problems else flow.status(form))


# --- public progress ---------------------------------------------------------------------------

def _cached(response: Response, *, shared: bool) -> Response:
    response.headers["Cache-Control"] = f"{'public' if shared else 'private'}, max-age={PUBLIC_MAX_AGE}"
    response.headers["Vary"] = "Cookie"
    response.set_etag(hashlib.sha256(response.get_data()).hexdigest()[:32])
    return response.make_conditional(request)


@bp.route("/progress")
@public
def progress():
    """Open progress against the target: headline, chart and the table by council area."""
    filters = Filters()
    series = dashboard.cumulative_series(filters)
    body = render_template(
        "reach/progress.html", headline=dashboard.headline(filters), chart=_chart(filters, series),
        areas=dashboard.area_table(filters), series_table=dashboard.series_table(series),
        target_rule=dashboard.TARGET_RULE, rag_rule=dashboard.RAG_RULE, open_files=_described(OPEN_FILES),
        releases=releases.all_releases(), page_title="Programme progress",
        outcomes=outcomes_board.public_region(counted.counted_keys()))
    return _cached(Response(body, mimetype="text/html"), shared=not current_user.is_authenticated)


@bp.route("/progress/counted")
@public
def counted_rule():
    """What is counted toward the target: the one definition every figure set against the target uses."""
    body = render_template("reach/counted.html", rule=dashboard.TARGET_RULE, status_rule=dashboard.RAG_RULE,
                           days_per_month=counted.DAYS_PER_MONTH, page_title="What is counted toward the target")
    return _cached(Response(body, mimetype="text/html"), shared=not current_user.is_authenticated)


OPEN_FILES = {f"{name}.csv" for name in opendata.NAMES} | {"progress.json", "datapackage.json"}
ABOUT_FILES = {"progress.json": "Every table as JSON", "datapackage.json": "The data package: every file and column "
                                                                          "named and described"}


def _release_files(tables: dict) -> set[str]:
    """A release's files: the tables it froze (a release is never changed, so it lacks later tables)."""
    return {f"{name}.csv" for name in opendata.NAMES if name in tables} | {"progress.json", "datapackage.json"}


def _described(files: set[str]) -> list[tuple[str, str]]:
    """Each open data file's name and what it holds, in name order."""
    return [(name, ABOUT_FILES.get(name) or opendata.COLUMNS[name.removesuffix(".csv")][0]) for name in sorted(files)]


def _open_file(filename: str, data: dict[str, list[dict]], *, release: str | None, base: str) -> Response:
    files = OPEN_FILES if release is None else _release_files(data)
    if filename not in files:
        abort(404)
    if filename == "progress.json":
        response = Response(opendata.to_json(data, release=release), mimetype="application/json")
    elif filename == "datapackage.json":
        title = f"MHFA Reach: progress toward the target, release {release}" if release else \
            "MHFA Reach: progress toward the target (latest figures)"
        name = f"mhfa-reach-progress-{release}" if release else "mhfa-reach-progress"
        names = opendata.NAMES if release is None else tuple(n for n in opendata.NAMES if n in data)
        response = Response(json.dumps(opendata.datapackage(name=name, title=title, base=base, names=names),
                                       indent=1), mimetype="application/json")
    else:
        name = filename.removesuffix(".csv")
        response = flow.file_response(opendata.to_csv(name, data[name]).encode("utf-8"),
                                      f'mhfa-reach-{name}{"-" + release if release else ""}.csv', "text/csv",
                                      cache=None)
    response.headers["Link"] = f'<{opendata.LICENCE["path"]}>; rel="license"'
    return response


@bp.route("/progress/data/<filename>")
@public
def open_data(filename: str):
    """The latest progress figures as open data: a tidy CSV per table, JSON and a data package (OGL v3.0)."""
    if filename not in OPEN_FILES:
        abort(404)
    data = {} if filename == "datapackage.json" else opendata.latest_tables()
    return _cached(_open_file(filename, data, release=None, base=""), shared=True)


@bp.route("/progress/releases/<key>/")
@public
def release_page(key: str):
    """One monthly release: its headline, its files and the note of any correction."""
    kept = flow.found_or_404(releases.release, key)
    headline = kept.data["tables"]["headline"][0]
    body = render_template("reach/release.html", release=kept, headline=headline,
                           files=_described(_release_files(kept.data["tables"])),
                           later=[r for r in releases.all_releases() if r.month == kept.month
                                  and r.revision > kept.revision],
                           page_title=f"Progress release {kept.key}")
    return _cached(Response(body, mimetype="text/html"), shared=not current_user.is_authenticated)


@bp.route("/progress/releases/<key>/<filename>")
@public
def release_file(key: str, filename: str):
    """A file of a monthly release, exactly as it was frozen."""
    kept = flow.found_or_404(releases.release, key)
    return _cached(_open_file(filename, kept.data["tables"], release=kept.key, base=""), shared=True)
