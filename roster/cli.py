"""`flask --app app roster ...` commands of the integration contract."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timezone
from functools import wraps

import click
import sqlalchemy as sa
from flask import g
from flask.cli import AppGroup

from roster.extensions import db
from roster.models import ROLES, ApiToken, User, utcnow
from roster.services import ServiceError, accounts

roster_cli = AppGroup("roster", help="Roster administration.")


def _fail(exc: ServiceError) -> None:
    details = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
    raise click.ClickException(f"{exc.message} {details}".strip())


def command(name: str, actor: str = "cli") -> Callable:
    """A roster command: it acts as ``actor`` in the audit trail, a refusal (``ServiceError``) is its error
    message, and it commits once, then prints the lines it returned (a token is shown once it is stored)."""

    def decorate(fn: Callable[..., Iterable[str]]) -> Callable:
        @wraps(fn)
        def run(*args, **kwargs) -> None:
            g.cli_actor = actor
            try:
                lines = fn(*args, **kwargs)
            except ServiceError as exc:
                _fail(exc)
            db.session.commit()
            for line in lines:
                click.echo(line)

        return roster_cli.command(name)(run)

    return decorate


def _account(email: str) -> User:
    user = db.session.scalar(sa.select(User).where(User.email == accounts.normalise_email(email)))
    if user is None:
        raise click.ClickException(f"No account for {email}.")
    return user


@command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--password", required=True, help="At least 10 characters.")
@click.option("--name", default="", help="Display name.")
def create_user(email: str, role: str, password: str, name: str) -> list[str]:
    """Create a staff account."""
    user = accounts.create_user(email, role, password, name)
    return [f"Created {user.email} ({user.role})."]


@command("create-token")
@click.argument("email")
@click.option("--label", default="cli", help="What the token is for.")
@click.option("--expires", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="YYYY-MM-DD: the token stops working at the end of that day (UTC).")
def create_token(email: str, label: str, expires) -> list[str]:
    """Print a new API token for EMAIL, alone on the last line."""
    user = _account(email)
    until = expires.replace(hour=23, minute=59, second=59, tzinfo=timezone.utc) if expires else None
    raw = accounts.create_token(user, label, until, utcnow())
    return [f"Token for {user.email} ({user.role}); it is shown once:", raw]


@command("revoke-token")
@click.argument("prefix")
def revoke_token(prefix: str) -> list[str]:
    """Revoke every active token whose shown prefix (first 10 characters) is PREFIX."""
    tokens = db.session.scalars(
        sa.select(ApiToken).where(ApiToken.prefix == prefix[:10], ApiToken.revoked_at.is_(None))
    ).all()
    for token in tokens:
        accounts.revoke_token(token, utcnow())
    return [f"Revoked {len(tokens)} token(s)."]


@command("seed-demo", actor="seed")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has staff.")
@click.option("--reset", is_flag=True,
              help="Delete everything and rebuild the demo clinic around today (refused if a real staff account exists).")
def seed_demo(if_empty: bool, reset: bool) -> list[str]:
    """Fill the database with a believable demo clinic and print the demo logins."""
    from roster.seed import DEMO_PASSWORD, demo_logins, only_demo_staff, reset_database, seed_demo_clinic

    has_staff = bool(db.session.scalar(sa.select(sa.func.count(User.id))))
    if reset:
        if not only_demo_staff():
            raise click.ClickException(
                "This database has staff accounts that are not the demo ones: --reset would delete real data. Nothing changed.")
        reset_database()
        seed_demo_clinic()
        said = "Demo clinic rebuilt around today."
    elif if_empty and has_staff:
        said = "The database already has data; demo not loaded (roster seed-demo --reset rebuilds it around today)."
    else:
        seed_demo_clinic()
        said = "Demo clinic loaded."
    return [said, f"Demo logins (password for all: {DEMO_PASSWORD}):",
            *(f"  {role:<12} {email}" for email, role in demo_logins())]


@command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice(ROLES))
def set_role(email: str, role: str) -> list[str]:
    """Give EMAIL another role (the last active administrator keeps theirs)."""
    user = _account(email)
    accounts.update_user(user, user.name, role, actor=None)
    return [f"{user.email} is now {role}."]


@command("deactivate")
@click.argument("email")
@click.option("--reactivate", is_flag=True, help="Let a deactivated account sign in again.")
def deactivate(email: str, reactivate: bool) -> list[str]:
    """Stop EMAIL signing in: sessions, API tokens and calendar links end at once."""
    user = _account(email)
    changed = accounts.set_active(user, reactivate, actor=None, now=utcnow())
    state = "active" if reactivate else "deactivated"
    return [f"{user.email} is {state}." if changed else f"{user.email} was already {state}."]


@command("reset-password")
@click.argument("email")
def reset_password(email: str) -> list[str]:
    """Print a one-time temporary password for EMAIL, alone on the last line; it must be replaced at sign-in."""
    user = _account(email)
    temp = accounts.reset_password(user, utcnow())
    return [f"Temporary password for {user.email}; sessions, tokens and two-factor were reset:", temp]


@command("unlock")
@click.argument("email")
def unlock(email: str) -> list[str]:
    """Forget failed sign-in attempts against EMAIL."""
    user = _account(email)
    accounts.unlock(user)
    return [f"{user.email} can sign in again."]


@command("bench-data", actor="bench-data")
@click.option("--weeks", default=52, show_default=True, help="Weeks of sessions, ending this week.")
@click.option("--classes-per-week", default=250, show_default=True, help="Sessions a week across the sites.")
@click.option("--scale", default=1.0, show_default=True, help="Multiply classes per week (0.1: a tenth).")
@click.option("--seed", default=12, show_default=True)
def bench_data(weeks: int, classes_per_week: int, scale: float, seed: int) -> list[str]:
    """Fill an EMPTY database with a believable health-system year (bulk inserts, billing evaluated)."""
    from flask import current_app

    from roster.benchdata.load import NotEmpty, build_year, settle
    from roster.services import clock

    per_week = max(1, round(classes_per_week * scale))
    today = clock.today_in(current_app.config["CLINIC_TIMEZONE"])
    try:
        counts = build_year(weeks, per_week, today, seed=seed, say=click.echo)
    except NotEmpty as exc:
        raise click.ClickException(str(exc))
    db.session.commit()
    settle()
    return [f"Bench year loaded: {weeks} weeks x {per_week} classes a week, ending the week of {today}.",
            ", ".join(f"{n} {t}" for t, n in counts.items())]


@roster_cli.command("worker")
@click.option("--once", is_flag=True, help="Run the queued jobs, then stop (default: keep waiting for more).")
@click.option("--poll", default=2.0, show_default=True, help="Seconds between looks at an empty queue.")
def worker(once: bool, poll: float) -> None:
    """Run background jobs (large exports) queued in the database. Several workers may run at once."""
    from roster import worker as runner

    g.cli_actor = "worker"
    click.echo("Worker started." if not once else "Running queued jobs.")
    runner.work(poll, once)
