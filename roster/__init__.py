"""Roster: group caregiver-training classes from scheduling to the billing roster."""

from __future__ import annotations

from flask import Flask


def create_app(overrides: dict | None = None) -> Flask:
    """Build the app. Reads like a table of contents; each step is below.

    Every view runs in one transaction, committed once when it returns and rolled
    back when anything raises: see ``roster/transactions.py`` before writing a view.
    """
    from roster.transactions import RosterFlask

    app = RosterFlask(
        __name__,
        instance_relative_config=True,
        template_folder="../templates",
        static_folder="../static",
    )
    configure(app, overrides)
    trust_proxies(app)
    register_extensions(app)
    register_input_checks(app)
    register_blueprints(app)
    register_security(app)
    register_error_handlers(app)
    register_template_helpers(app)
    register_commands(app)
    return app


def configure(app: Flask, overrides: dict | None) -> None:
    from roster.config import load_config

    app.config.from_mapping(load_config(app.instance_path, overrides))


def trust_proxies(app: Flask) -> None:
    """Behind a TLS proxy (TRUSTED_PROXIES > 0), believe its X-Forwarded-For/Proto/Host/Port, so
    client addresses, https links and HSTS are right; with none trusted, such headers are ignored."""
    count = app.config["TRUSTED_PROXIES"]
    if count:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count, x_port=count)


def register_extensions(app: Flask) -> None:
    from roster.extensions import babel, csrf, db, login_manager, migrate

    from roster.transactions import init_engines

    db.init_app(app)
    init_engines(app)  # SQLite: real transactions (BEGIN IMMEDIATE), WAL, busy timeout
    babel.init_app(  # one clinic, one locale: dates and times are written as it writes them
        app,
        locale_selector=lambda: app.config["CLINIC_LOCALE"],
        timezone_selector=lambda: app.config["CLINIC_TIMEZONE"],
    )
    migrate.init_app(
        app,
        db,
        directory=_migrations_dir(app),
        compare_type=True,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table
        render_item=render_migration_item,
        include_object=include_migration_object,
    )
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str):
        from roster.auth.sessions import load_user

        return load_user(user_id)


def render_migration_item(type_, obj, autogen_context):
    """Write our UTC column type as the plain SQL type it stores, so migrations import nothing of ours."""
    from roster.models import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


_TABLES_WITHOUT_MODEL = ("caregiver_fts", "patient_fts", "caregiver_word", "search_word")


def include_migration_object(obj, name, type_, reflected, compare_to):
    """PostgreSQL-only indexes (pg_trgm, ``info={"postgresql_only": True}``) are not made on SQLite;
    SQLite's FTS5 search tables (migration 0016, and FTS5's own ``*_fts_*`` tables) and PostgreSQL's words of
    the caregivers' keys (migration 0019: ``caregiver_word``, ``search_word``) have no model."""
    if type_ == "index" and obj.info.get("postgresql_only"):
        from roster.extensions import db

        return db.engine.dialect.name == "postgresql"
    if type_ == "table" and reflected and compare_to is None and name.startswith(_TABLES_WITHOUT_MODEL):
        return False
    return True


def _migrations_dir(app: Flask) -> str:
    import os

    return os.path.join(os.path.dirname(app.root_path), "migrations")


def register_input_checks(app: Flask) -> None:
    """Text, ids, numbers and JSON depth are checked before any view runs (before the routes exist)."""
    from roster.edge import init_edge

    init_edge(app)


def register_blueprints(app: Flask) -> None:
    from roster.api import bp as api_bp
    from roster.auth import bp as auth_bp
    from roster.billing import bp as billing_bp
    from roster.calendar import bp as calendar_bp
    from roster.extensions import csrf
    from roster.frontdesk import bp as frontdesk_bp
    from roster.people import bp as people_bp
    from roster.permissions import collect_endpoint_permissions
    from roster.schedule import bp as schedule_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(people_bp, url_prefix="/people")
    app.register_blueprint(schedule_bp, url_prefix="/schedule")
    app.register_blueprint(frontdesk_bp, url_prefix="/frontdesk")
    app.register_blueprint(billing_bp, url_prefix="/billing")
    app.register_blueprint(calendar_bp, url_prefix="/calendar")
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    csrf.exempt(api_bp)  # Bearer tokens, no cookies
    register_health_check(app)
    collect_endpoint_permissions(app)


def register_health_check(app: Flask) -> None:
    """GET /healthz: a trivial JSON answer for a reverse proxy's health checks (and load-test floors)."""
    from flask import jsonify

    from roster.permissions import public

    @app.get("/healthz")
    @public
    def healthz():
        return jsonify(status="ok")


def register_security(app: Flask) -> None:
    from roster.security import init_security

    init_security(app)


def register_error_handlers(app: Flask) -> None:
    from roster.errors import init_error_handlers

    init_error_handlers(app)


def register_template_helpers(app: Flask) -> None:
    from roster.templating import init_templating

    init_templating(app)


def register_commands(app: Flask) -> None:
    from roster.cli import roster_cli

    app.cli.add_command(roster_cli)
