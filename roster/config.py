"""Configuration objects. Nothing here reads the environment at import time."""

from __future__ import annotations

import os
from datetime import timedelta


class Config:
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SECURE = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=10)
    WTF_CSRF_TIME_LIMIT = None  # the session lifetime bounds the token
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCK_MINUTES = 15
    CLINIC_TIMEZONE = "America/Chicago"
    CLINIC_NAME = "Riverside Rehabilitation"
    PAGE_SIZE = 25
    MAX_CONTENT_LENGTH = 4 * 1024 * 1024  # no request body is larger (CSV imports are capped at 2 MB)
    MAX_FORM_MEMORY_SIZE = 3 * 1024 * 1024  # the CSV import's confirm step sends the file back in a field
    TESTING = False


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
    if env.get("CLINIC_TIMEZONE"):
        settings["CLINIC_TIMEZONE"] = env["CLINIC_TIMEZONE"]
    settings.update(overrides or {})
    return settings


def normalise_database_url(url: str) -> str:
    """Accept the usual postgres:// spellings and use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _instance_secret(instance_path: str) -> str:
    """A per-installation secret kept in the instance folder (created once)."""
    os.makedirs(instance_path, exist_ok=True)
    path = os.path.join(instance_path, "secret_key")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as fh:
            fh.write(os.urandom(32).hex())
    with open(path) as fh:
        return fh.read().strip()
