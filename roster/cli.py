"""`flask --app app roster ...` commands of the integration contract."""

from __future__ import annotations

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


@roster_cli.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--password", required=True, help="At least 10 characters.")
@click.option("--name", default="", help="Display name.")
def create_user(email: str, role: str, password: str, name: str) -> None:
    """Create a staff account."""
    g.cli_actor = "cli"
    try:
        user = accounts.create_user(email, role, password, name)
    except ServiceError as exc:
        _fail(exc)
    db.session.commit()
    click.echo(f"Created {user.email} ({user.role}).")


@roster_cli.command("create-token")
@click.argument("email")
@click.option("--label", default="cli", help="What the token is for.")
def create_token(email: str, label: str) -> None:
    """Print a new API token for EMAIL, alone on the last line."""
    g.cli_actor = "cli"
    user = db.session.scalar(sa.select(User).where(User.email == accounts.normalise_email(email)))
    if user is None:
        raise click.ClickException(f"No account for {email}.")
    raw = accounts.create_token(user, label)
    db.session.commit()
    click.echo(f"Token for {user.email} ({user.role}); it is shown once:")
    click.echo(raw)


@roster_cli.command("revoke-token")
@click.argument("prefix")
def revoke_token(prefix: str) -> None:
    """Revoke every active token whose shown prefix (first 10 characters) is PREFIX."""
    g.cli_actor = "cli"
    tokens = db.session.scalars(
        sa.select(ApiToken).where(ApiToken.prefix == prefix[:10], ApiToken.revoked_at.is_(None))
    ).all()
    for token in tokens:
        accounts.revoke_token(token, utcnow())
    db.session.commit()
    click.echo(f"Revoked {len(tokens)} token(s).")


@roster_cli.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has staff.")
def seed_demo(if_empty: bool) -> None:
    """Fill the database with a believable demo clinic and print the demo logins."""
    from roster.seed import DEMO_PASSWORD, demo_logins, seed_demo_clinic

    g.cli_actor = "seed"
    if if_empty and db.session.scalar(sa.select(sa.func.count(User.id))):
        click.echo("The database already has data; demo not loaded.")
    else:
        seed_demo_clinic()
        db.session.commit()
        click.echo("Demo clinic loaded.")
    click.echo(f"Demo logins (password for all: {DEMO_PASSWORD}):")
    for email, role in demo_logins():
        click.echo(f"  {role:<12} {email}")
