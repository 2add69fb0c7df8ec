"""The ``flask mhfa …`` commands. Thin: each parses its options, calls services and commits once."""
from __future__ import annotations

from datetime import date

import click
from flask.cli import AppGroup

from mhfa.errors import DomainError
from mhfa.extensions import db

mhfa_cli = AppGroup("mhfa", help="MHFA Reach programme commands.")


@mhfa_cli.command("load-reference")
def load_reference():
    """Council areas, populations and the course catalogue (adds what is missing)."""
    from mhfa.areas.services import load_council_areas
    from mhfa.courses.services import load_course_types

    counts = {**load_council_areas(), **load_course_types()}
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
    from mhfa.auth.services import create_user as create
    from mhfa.auth.services import issue_api_token

    first, _, last = (name or email.split("@")[0]).strip().partition(" ")
    try:
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
@click.option("--people", default=2000, show_default=True, type=click.IntRange(50, 1_000_000),
              help="How many people the history reaches.")
@click.option("--seed", default=2017, show_default=True, type=int,
              help="Random seed: the same seed gives the same history.")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Treat this date as today (default: the real date).")
@click.option("--if-empty", is_flag=True, help="Only when the database holds no people or courses yet.")
def demo_data(people, seed, today, if_empty):
    """A realistic, deterministic programme history from February 2017 to today, and demo logins."""
    import time

    from mhfa.demo.services import DEMO_PASSWORD, demo_logins, generate, has_programme_data

    if if_empty and has_programme_data():
        click.echo("The database already holds programme data; no demo data added.")
        _print_logins(demo_logins(), DEMO_PASSWORD)
        return
    began = time.perf_counter()
    try:
        summary = generate(people=people, seed=seed, today=today.date() if today else date.today(), echo=click.echo)
    except DomainError as error:
        raise click.ClickException(error.message) from error
    from mhfa.reach.demo import keep_demo_reach

    for line in keep_demo_reach(people):
        click.echo(line)
    db.session.commit()
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
def send_reminders():
    """Course reminders (two days before) and certificate-expiry reminders, each sent once (cron-safe).

    Also gives back the place vouchers held by waiting-list places whose course has started.
    """
    from mhfa.bookings.services import return_vouchers_of_closed_waiting_lists
    from mhfa.notify.reminders import send_due_reminders

    counts = send_due_reminders()
    returned = return_vouchers_of_closed_waiting_lists()
    db.session.commit()
    click.echo(
        f"Course reminders sent: {counts['course']}; certificate-expiry reminders sent: {counts['certificate']}"
    )
    click.echo(f"Place vouchers given back from waiting lists that closed: {returned}")


@mhfa_cli.command("rebuild-reach")
@click.option("--check", is_flag=True, help="Only compare the kept figures with a fresh count; change nothing.")
def rebuild_reach(check):
    """Recompute the kept reach figures from the raw rows and report any difference."""
    from mhfa.reach.keeping import rebuild

    differences = rebuild()
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
        click.echo("The kept reach figures equal a fresh count.")


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
        for problem in error.problems:
            click.echo(problem, err=True)
        raise click.ClickException("The file was not imported: nothing was written.") from error
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    for line in summary.lines():
        click.echo(line)
    seconds = time.perf_counter() - began
    click.echo(f"({summary.rows:,} rows in {seconds:.1f} s, {summary.rows / seconds:,.0f} rows/s)")
