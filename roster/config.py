"""Configuration objects. Nothing here reads the environment at import time."""

from __future__ import annotations

import json
import os
import tempfile
from datetime import timedelta

from roster.domain.locale_format import valid_locale


_DECODER = json.JSONDecoder()


def json_loads(value: bytes | str):
    """A JSON column's value as the driver hands it over (psycopg: the UTF-8 bytes; SQLite: text), read as
    ``json.loads`` reads it, without its look at the bytes' encoding every time (3 µs -> 0.6 µs a value: a
    consent change reads some 300 of them)."""
    return _DECODER.decode(value.decode() if isinstance(value, bytes) else value)


class Config:
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    # No pool_pre_ping (a round trip to the server on every request): a PostgreSQL connection the
    # server has closed is found by roster/transactions.py's checkout check, without a round trip.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"json_deserializer": json_loads}  # PostgreSQL adds POSTGRESQL_ENGINE_OPTIONS
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SECURE = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=10)
    WTF_CSRF_TIME_LIMIT = None  # the session lifetime bounds the token
    PASSWORD_HASH_METHOD = "scrypt"  # werkzeug's; costly on purpose (the tests choose a cheap one)
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCK_MINUTES = 15  # failures of one e-mail from one address are forgotten after this
    # The other limits (per e-mail, per address, global, code step): roster/services/throttle.py
    CLINIC_TIMEZONE = "America/Chicago"
    CLINIC_LOCALE = "en_US"  # how dates and times are written (Babel/CLDR locale)
    CLINIC_NAME = "Riverside Rehabilitation"
    PAGE_SIZE = 25
    MAX_CONTENT_LENGTH = 4 * 1024 * 1024  # no request body is larger (CSV imports are capped at 2 MB)
    MAX_FORM_MEMORY_SIZE = 3 * 1024 * 1024  # the CSV import's confirm step sends the file back in a field
    TESTING = False
    TRUSTED_PROXIES = 0  # proxies in front of Roster whose X-Forwarded-* headers are believed
    # PostgreSQL: an export of more lines than this is claimed in parts, working EXPORT_SHARE of the
    # time, so the front desk keeps its speed meanwhile (roster/services/billing/export.py, _claim)
    EXPORT_PACED_ABOVE = 5000
    EXPORT_SHARE = 0.5
    # ...but its pauses together never last longer than this (seconds): however busy the server, a paced
    # export ends well inside a worker's timeout (gunicorn.conf.py: 60 s)
    EXPORT_PAUSE_LIMIT = 10.0


# PostgreSQL's engine (added to SQLALCHEMY_ENGINE_OPTIONS when the database is PostgreSQL):
# - psycopg prepares a statement the second time a connection runs it (``prepare_threshold`` 1; its default
#   is 5): PostgreSQL then parses and plans it once per connection, not at every run. Each connection of a
#   worker's pool sees few closes, and a close's statements (billing/closed.py's UPDATE and reads, the final
#   write) take longer to plan than to run (~2 ms quiet, ~3.5 ms under load): under `make load` (08:20-08:24
#   UTC, pg_stat_statements) the close's UPDATE was planned 14 times for 14 closes at the default, 8 at 1;
#   every statement of a run 1,460-1,500 times against ~1,100 (960-990 at 0). Not 0: a statement run once
#   in a transaction that then rolls back (a 404, a refused write, `make bench`'s runs) would pay a round
#   trip to prepare it and one to forget it (psycopg forgets every prepared statement at a ROLLBACK).
#   Statements a transaction runs with generic plans (a close's, `billing.locks._GATE`; the walk-in
#   search's) then keep them on that connection.
# - the pool hands out the connection last returned (``pool_use_lifo``): the few a worker's threads need
#   stay busy, and with them what they have prepared and cached, instead of all five in turn.
# - a connection attempt gives up after ``connect_timeout`` seconds (libpq's; its default is to wait for ever): a
#   database host that drops packets (a firewall, a host gone) left gunicorn's master waiting ~2 minutes for the
#   kernel's TCP retries in its warm-up before it started any worker, and each request as long before its 503.
POSTGRESQL_CONNECT_TIMEOUT = 10
POSTGRESQL_ENGINE_OPTIONS = {"pool_use_lifo": True,
                             "connect_args": {"prepare_threshold": 1, "connect_timeout": POSTGRESQL_CONNECT_TIMEOUT}}


def engine_options(url: str, options: dict) -> dict:
    """The engine's options for this database: ``options``, and for PostgreSQL `POSTGRESQL_ENGINE_OPTIONS`
    (the ones ``options`` names itself are kept)."""
    if not url.startswith("postgresql"):
        return options
    return POSTGRESQL_ENGINE_OPTIONS | options


def load_config(instance_path: str, overrides: dict | None = None) -> dict:
    """Build the settings for one app, reading the environment now (not at import)."""
    settings = {k: getattr(Config, k) for k in dir(Config) if k.isupper()}
    env = os.environ
    settings["SECRET_KEY"] = env.get("SECRET_KEY") or _instance_secret(instance_path)
    url = env.get("DATABASE_URL") or f"sqlite:///{os.path.join(instance_path, 'roster.sqlite3')}"
    settings["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(url)
    if env.get("ROSTER_INSECURE_COOKIES") == "1":  # local http://127.0.0.1 serving (make run)
        settings["SESSION_COOKIE_SECURE"] = False
        settings["REMEMBER_COOKIE_SECURE"] = False
    settings["TRUSTED_PROXIES"] = _whole(env.get("ROSTER_TRUSTED_PROXIES"), "ROSTER_TRUSTED_PROXIES")
    if env.get("CLINIC_TIMEZONE"):
        settings["CLINIC_TIMEZONE"] = env["CLINIC_TIMEZONE"]
    if env.get("CLINIC_LOCALE"):
        settings["CLINIC_LOCALE"] = env["CLINIC_LOCALE"]
    if env.get("ROSTER_EXPORT_SHARE"):
        settings["EXPORT_SHARE"] = _share(env["ROSTER_EXPORT_SHARE"])
    settings.update(overrides or {})
    settings["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(settings["SQLALCHEMY_DATABASE_URI"],
                                                           settings["SQLALCHEMY_ENGINE_OPTIONS"])
    if not valid_locale(settings["CLINIC_LOCALE"]):
        raise ValueError(f"CLINIC_LOCALE {settings['CLINIC_LOCALE']!r} is not a locale Babel knows (e.g. en_US)")
    return settings


def _whole(value: str | None, name: str) -> int:
    """A count from the environment; blank is 0."""
    if not value or not value.strip():
        return 0
    if not value.strip().isdigit():
        raise ValueError(f"{name} must be a whole number (how many proxies in front of Roster), not {value!r}")
    return int(value)


def _share(value: str) -> float:
    """ROSTER_EXPORT_SHARE: the part of the time a large export works, above 0 and at most 1."""
    try:
        share = float(value)
    except ValueError:
        share = -1.0
    if not 0 < share <= 1:
        raise ValueError(f"ROSTER_EXPORT_SHARE must be a number above 0 and at most 1 (1: never pause), not {value!r}")
    return share


def normalise_database_url(url: str) -> str:
    """Accept the usual postgres:// spellings and use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _instance_secret(instance_path: str) -> str:
    """A per-installation secret kept in the instance folder, created once.

    Several workers may start at the same moment: each writes a complete key to a
    file of its own and links it into place (``os.link`` fails if the name exists,
    like ``O_EXCL``), so the file appears whole or not at all, and every worker
    reads the one key that won."""
    os.makedirs(instance_path, exist_ok=True)
    path = os.path.join(instance_path, "secret_key")
    if not os.path.exists(path):
        fd, draft = tempfile.mkstemp(prefix=".secret_key.", dir=instance_path)  # mode 0600
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(os.urandom(32).hex())
            os.link(draft, path)
        except FileExistsError:
            pass  # another worker's key is in place
        finally:
            os.unlink(draft)
    with open(path) as fh:
        return fh.read().strip()
