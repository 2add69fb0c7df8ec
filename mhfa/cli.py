"""The ``flask mhfa …`` commands. Thin: each parses its options, calls services and commits once."""
from __future__ import annotations

from datetime import date

import click
from flask.cli import AppGroup

from mhfa import dates
from mhfa.errors import DomainError
from mhfa.extensions import db


def _batch_connections() -> None:
    """Commands may run long: the web app's statement and idle-in-transaction timeouts do not apply."""
    from flask.cli import ScriptInfo

    from mhfa.security.faults import lift_statement_timeouts

    info = click.get_current_context().ensure_object(ScriptInfo)
    app = info.load_app()
    with app.app_context():
        lift_statement_timeouts(db.engine)


mhfa_cli = AppGroup("mhfa", help="MHFA Reach programme commands.", callback=_batch_connections)


@mhfa_cli.command("load-reference")
def load_reference():
    """Council areas, populations and the course catalogue (adds what is missing)."""
    from mhfa.areas.services import load_council_areas, load_equality_populations
    from mhfa.courses.catalogue import load_course_types
    from mhfa.errors import DomainError

    try:
        counts = {**load_council_areas(), **load_course_types(), **load_equality_populations()}
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    db.session.commit()
    click.echo(", ".join(f"{name}: {count}" for name, count in counts.items()))


@mhfa_cli.command("create-user")
@click.option("--email", required=True, help="Sign-in email address.")
@click.option("--role", "roles", required=True, multiple=True,
              type=click.Choice(["trainee", "employer", "instructor", "coordinator", "board", "admin"]),
              help="Role to grant; repeat for several.")
@click.option("--name", default=None, help="Full name (first and last).")
@click.option("--date-of-birth", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="YYYY-MM-DD.")
@click.option("--password", default=None, help="Password; a random one is generated and printed when left out.")
@click.option("--api-token", is_flag=True, help="Also issue a personal API token and print it.")
def create_user(email, roles, name, date_of_birth, password, api_token):
    """Create an account with one or more roles."""
    from mhfa.auth.models import Role
    from mhfa.auth.services import check_email_address, check_password_policy, issue_api_token
    from mhfa.auth.services import create_user as create

    first, _, last = (name or email.split("@")[0]).strip().partition(" ")
    try:
        # The same rules as the web forms: a real address, a name that fits, a password the policy allows.
        email = check_email_address(email)
        if len(first) > 100 or len(last) > 100:
            raise DomainError("First and last name must be 100 characters or fewer each")
        if password is not None:
            check_password_policy(password, email)
        user, password = create(
            email,
            [Role(r) for r in roles],
            first_name=first or email,
            last_name=last or "",
            password=password,
            date_of_birth=date_of_birth.date() if date_of_birth else None,
        )
    except DomainError as error:
        raise click.ClickException(error.message) from error
    token = issue_api_token(user) if api_token else None
    db.session.commit()
    click.echo(f"Created {user.email} with roles: {', '.join(sorted(roles))}")
    click.echo(f"Password: {password}")
    if token:
        click.echo(f"API token: {token}")


@mhfa_cli.command("demo-data")
@click.option("--people", default=2000, show_default=True, type=click.IntRange(50, 5_000_000),
              help="How many people the history reaches.")
@click.option("--seed", default=2017, show_default=True, type=int,
              help="Random seed: the same seed gives the same history.")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Treat this date as today (default: the real date).")
@click.option("--if-empty", is_flag=True, help="Only when the database holds no people or courses yet.")
def demo_data(people, seed, today, if_empty):
    """A realistic, deterministic programme history from February 2017 to today, and demo logins."""
    import time

    from mhfa.demo.accounts import DEMO_PASSWORD, demo_logins
    from mhfa.demo.services import generate, has_programme_data

    if if_empty and has_programme_data():
        click.echo("The database already holds programme data; no demo data added.")
        _print_logins(demo_logins(), DEMO_PASSWORD)
        return
    began = time.perf_counter()
    try:
        if today is not None:
            dates.PROGRAMME.check(today.date(), "--today")
        summary = generate(people=people, seed=seed, today=today.date() if today else date.today(), echo=click.echo)
    except DomainError as error:
        raise click.ClickException(error.message) from error
    from mhfa.demo.bulk import settle
    from mhfa.reach.demo import keep_demo_reach

    step = time.perf_counter()
    for line in keep_demo_reach(people):
        click.echo(line)
    db.session.commit()
    click.echo(f"  kept reach figures built and the history committed: {time.perf_counter() - step:.1f} s")
    step = time.perf_counter()
    settle(db.engine)
    click.echo(f"  vacuumed and analysed: {time.perf_counter() - step:.1f} s")
    from mhfa.forecast.commands import store_demo_forecast

    try:
        for line in store_demo_forecast(today.date() if today else date.today()):
            click.echo(line)
    except DomainError as error:  # a history too short to forecast: the page says so and offers a run
        click.echo(f"No forecast stored: {error.message}")
    from mhfa.reach import releases

    released = releases.freeze(today=today.date() if today else None)  # the last complete month: a board pack
    db.session.commit()
    if released is not None:
        click.echo(f"Release {released.key} frozen: the progress page lists it and the board pack prints it")
    click.echo("Demo history: " + ", ".join(f"{name} {count:,}" for name, count in summary.counts.items()))
    for assumption in summary.assumptions:
        click.echo(f"  {assumption}")
    click.echo(f"Checksum: {summary.checksum}   ({time.perf_counter() - began:.1f} s)")
    _print_logins(summary.logins, DEMO_PASSWORD)


def _print_logins(logins, password):
    click.echo(f"Demo logins, password for all: {password}")
    for role, email in logins:
        click.echo(f"  {role:<12} {email}")


@mhfa_cli.command("send-reminders")
@click.option("--deliver/--no-deliver", default=True, show_default=True,
              help="Then send the outbox's due emails, these reminders among them (as deliver-mail does).")
def send_reminders(deliver):
    """Course reminders (two days before), certificate-expiry reminders and six-month follow-ups, each sent once
    (cron-safe).

    Also passes on the waiting-list offers not accepted in time, gives back the place vouchers held by
    waiting-list places whose course has started, then
    delivers the outbox (unless --no-deliver: a deliver-mail worker does it).
    """
    from mhfa.bookings.vouchers import return_vouchers_of_closed_waiting_lists
    from mhfa.reminders import send_due_reminders

    counts = send_due_reminders()
    returned = return_vouchers_of_closed_waiting_lists()
    db.session.commit()
    click.echo(
        f"Course reminders sent: {counts['course']}; certificate-expiry reminders sent: {counts['certificate']}; "
        f"six-month follow-ups sent: {counts['follow_up']}"
    )
    click.echo(f"Place vouchers given back from waiting lists that closed: {returned}")
    click.echo(f"Waiting-list offers not accepted in time, passed to the next person: {counts['offers_expired']}")
    if deliver:
        from mhfa.notify.outbox import DeliveryReport, deliver_due

        total = DeliveryReport()
        while True:
            report = deliver_due(limit=100)
            for name in ("sent", "retrying", "failed", "released"):
                setattr(total, name, getattr(total, name) + getattr(report, name))
            if report.sent < 100:
                break
        click.echo(str(total))


def _add_forecast_command():
    from mhfa.forecast.commands import forecast_command

    mhfa_cli.add_command(forecast_command)


_add_forecast_command()


@mhfa_cli.command("deliver-mail")
@click.option("--loop", is_flag=True, help="Keep delivering (a worker process) until stopped.")
@click.option("--interval", default=5.0, show_default=True, type=click.FloatRange(0.1, 3600),
              help="Seconds to wait, with --loop, when nothing is due.")
@click.option("--batch", default=100, show_default=True, type=click.IntRange(1, 10_000),
              help="Most messages claimed at a time.")
def deliver_mail(loop, interval, batch):
    """Send the emails waiting in the outbox, with retries; safe to run from cron and as several workers."""
    import time

    from sqlalchemy.exc import OperationalError

    from mhfa.notify.outbox import deliver_due

    while True:
        try:
            report = deliver_due(limit=batch)
        except OperationalError as error:  # the database is away: wait for it, as the web app does
            if not loop:
                raise click.ClickException(f"the database is unavailable: {error.orig}") from error
            click.echo(f"database unavailable, retrying in {interval} s", err=True)
            time.sleep(interval)
            continue
        if report.sent or report.retrying or report.failed or report.released or not loop:
            click.echo(str(report))
        if not loop:
            return
        if report.sent < batch:
            time.sleep(interval)


def _keep_unless_dry_run(dry_run: bool, lines: list[str]) -> None:
    """Commit what the command did (a dry run rolls it back), then say what it did (or would have done)."""
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    for line in lines:
        click.echo(line)


@mhfa_cli.command("apply-retention")
@click.option("--dry-run", is_flag=True, help="Report what would be done, and change nothing.")
def apply_retention(dry_run):
    """Apply the retention settings: erase unclaimed personal data past MHFA_RETENTION_YEARS, purge
    delivered emails and ended sessions. Reports what it did (cron-safe)."""
    from flask import current_app

    from mhfa.privacy.services import apply_retention as apply

    config = current_app.config
    report = apply(years=config["MHFA_RETENTION_YEARS"], outbox_days=config["MHFA_OUTBOX_RETENTION_DAYS"],
                   session_days=config["MHFA_SESSION_RETENTION_DAYS"], dry_run=dry_run)
    _keep_unless_dry_run(dry_run, report.lines())


@mhfa_cli.command("backup")
@click.argument("directory", type=click.Path(file_okay=False, writable=True))
def backup(directory):
    """A consistent copy of the database in DIRECTORY while the app runs, with the signing key and settings
    it needs (SQLite: its online backup API; PostgreSQL: pg_dump, custom format)."""
    from flask import current_app

    from mhfa.certificates import badges, signing
    from mhfa.certificates.verification import programme_name
    from mhfa.security.backup import BackupError
    from mhfa.security.backup import backup as make_backup

    needs = {"base_url": current_app.config["MHFA_BASE_URL"], "issuer": badges.issuer_did(),
             "programme_name": programme_name(), "secret_key": current_app.config["SECRET_KEY"],
             "signing_key": signing.private_multikey(badges.signing_key())}
    try:
        made = make_backup(directory, needs)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Backup written to {made.database}")
    click.echo(f"With its manifest (signing key and settings: keep it as safe as the database) in {made.manifest}")


@mhfa_cli.command("restore")
@click.argument("backup_file", type=click.Path(exists=True, dir_okay=False))
def restore(backup_file):
    """Restore a backup (its database file or its .json manifest) into the empty database DATABASE_URL names,
    check every table's rows against the backup, and put its signing key in place."""
    from flask import current_app

    from mhfa.security.backup import BackupError, install_signing_key
    from mhfa.security.backup import restore as restore_backup

    try:
        manifest = restore_backup(backup_file)
        note = install_signing_key(current_app.instance_path, manifest.get("signing_key"))
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Restored {sum(manifest['row_counts'].values()):,} rows in {len(manifest['row_counts'])} tables "
               f"(schema {manifest['schema_revision']}), every table's count checked.")
    click.echo(note)
    if manifest.get("base_url") and manifest["base_url"] != current_app.config["MHFA_BASE_URL"]:
        click.echo(f"Set MHFA_BASE_URL={manifest['base_url']} as it was: its host is the issuer of every "
                   "credential issued before.")
    if manifest.get("secret_key") and manifest["secret_key"] != current_app.config["SECRET_KEY"]:
        click.echo("SECRET_KEY differs from the backup's: set it to the manifest's secret_key to keep the "
                   "emailed links working (everyone signs in again either way).")


@mhfa_cli.command("rebuild-reach")
@click.option("--check", is_flag=True, help="Only compare the kept figures with a fresh count; change nothing.")
def rebuild_reach(check):
    """Recompute the kept reach and outcome figures and each course's seats taken from the raw rows, and report
    any difference."""
    from mhfa.bookings.seats import recount
    from mhfa.outcomes.keeping import rebuild as rebuild_outcomes
    from mhfa.reach.keeping import rebuild

    differences = rebuild() + rebuild_outcomes() + recount()
    if check:
        db.session.rollback()
    else:
        db.session.commit()
    for line in differences[:50]:
        click.echo(line)
    if len(differences) > 50:
        click.echo(f"… and {len(differences) - 50:,} more differences")
    if differences:
        click.echo(f"{len(differences):,} differences " + ("found (nothing changed)." if check else "corrected."))
        if check:
            raise SystemExit(1)
    else:
        click.echo("The kept reach and outcome figures and seats taken equal a fresh count.")


@mhfa_cli.command("import-completions")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check the file and say what it would add; write nothing.")
def import_completions(file, dry_run):
    """Historical completions from a CSV file (see README: every row checked before anything is written)."""
    import time
    from pathlib import Path

    from mhfa.reach.importing import ImportRejected
    from mhfa.reach.importing import import_completions as run

    began = time.perf_counter()
    try:
        summary = run(Path(file).read_bytes(), dry_run=dry_run)
    except ImportRejected as error:
        db.session.rollback()
        for problem in error.lines:
            click.echo(problem, err=True)
        raise click.ClickException("The file was not imported: nothing was written.") from error
    _keep_unless_dry_run(dry_run, summary.lines())
    seconds = time.perf_counter() - began
    click.echo(f"({summary.rows:,} rows in {seconds:.1f} s, {summary.rows / seconds:,.0f} rows/s)")


@mhfa_cli.command("freeze-release")
@click.option("--month", default="", help="The month to release, YYYY-MM (default: the last complete month).")
def freeze_release(month):
    """Freeze a month's public progress figures as a release (cron, monthly); a change is a new revision."""
    from mhfa.errors import DomainError
    from mhfa.reach import releases

    try:
        kept = releases.freeze(releases.parse_month(month) if month else None)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    db.session.commit()
    if kept is None:
        click.echo("The month's figures equal its latest release: nothing added.")
    else:
        note = f" {kept.note}" if kept.note else ""
        click.echo(f"Release {kept.key} frozen as of {kept.as_of.isoformat()}.{note}")
