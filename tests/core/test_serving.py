"""Production server in the box: `make serve` through gunicorn, every import pinned, a trusted proxy."""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import os
import pkgutil
import re
import runpy
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import roster
from roster import create_app

ROOT = Path(__file__).resolve().parents[2]
OURS = {"roster", "tests", "app", "migrations", "bench"}


def _requirement_names(*files: str) -> set[str]:
    names = set()
    for name in files:
        for line in (ROOT / name).read_text().splitlines():
            line = line.split("#")[0].strip()
            if line and not line.startswith("-"):
                names.add(_normalise(re.split(r"[\[=<>!~ ;]", line)[0]))
    return names


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _top_level_imports(paths: list[Path]) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in OURS and top != "__future__":
                    found.setdefault(top, path)
    return found


def _unpinned(paths: list[Path], requirements: set[str]) -> list[str]:
    distributions = importlib.metadata.packages_distributions()
    missing = []
    for module, where in sorted(_top_level_imports(paths).items()):
        names = {_normalise(d) for d in distributions.get(module, [module])}
        if not names & requirements:
            missing.append(f"{module} (imported in {where.relative_to(ROOT)}; distribution {sorted(names)})")
    return missing


def test_every_module_of_roster_imports():
    names = [m.name for m in pkgutil.walk_packages(roster.__path__, "roster.")]
    assert len(names) > 30
    for name in names:
        importlib.import_module(name)


def test_every_third_party_import_of_the_app_is_pinned_in_requirements_txt():
    runtime = [*ROOT.glob("roster/**/*.py"), ROOT / "app.py", ROOT / "gunicorn.conf.py",
               *ROOT.glob("migrations/**/*.py")]
    assert _unpinned(runtime, _requirement_names("requirements.txt")) == []
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line.strip() and not line.startswith(("#", "-")):
            assert "==" in line, f"not pinned: {line}"


def test_every_third_party_import_of_the_tests_is_pinned_in_requirements_dev_txt():
    paths = [*ROOT.glob("tests/**/*.py"), *ROOT.glob("bench/**/*.py")]
    assert _unpinned(paths, _requirement_names("requirements.txt", "requirements-dev.txt")) == []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_make_serve_serves_the_sign_in_page_through_gunicorn_from_a_fresh_clone(tmp_path):
    """The tracked files only (as a clone has them), the shared virtualenv, a database of its own."""
    clone = tmp_path / "roster"
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, files.decode().split("\0")):
        if (ROOT / name).is_file() and not (ROOT / name).is_symlink():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, clone / name)
    (clone / ".venv").symlink_to(Path(sys.prefix))
    (clone / ".venv" / ".runtime-installed").touch()  # installed already: make need not run pip
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY")}
    env |= {"ROSTER_BIND": f"127.0.0.1:{port}", "ROSTER_WORKERS": "1"}
    if os.environ.get("TEST_DATABASE_URL"):  # the PostgreSQL pass serves from its database
        env["DATABASE_URL"] = os.environ["TEST_DATABASE_URL"]
    server = subprocess.Popen(["make", "-s", "serve"], cwd=clone, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, start_new_session=True)
    try:
        page, deadline = None, time.monotonic() + 90
        while page is None and time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as response:
                    page = (response.status, response.read().decode(), response.headers.get("Server", ""))
            except OSError:
                time.sleep(0.5)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
        output = server.communicate(timeout=60)[0].decode(errors="replace")
    assert page is not None, output[-3000:]
    status, html, server_header = page
    assert status == 200 and "Sign in" in html
    assert "gunicorn" in server_header.lower() or "gunicorn" in output.lower(), output[-3000:]


def _proxied_app(trusted: int):
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "TRUSTED_PROXIES": trusted,
                      "SQLALCHEMY_DATABASE_URI": "sqlite://"})

    @app.get("/test/who")
    def who():
        from flask import request

        return {"addr": request.remote_addr, "scheme": request.scheme}

    return app


FORWARDED = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "roster.clinic.test"}


def test_behind_a_trusted_proxy_client_address_https_and_hsts_are_right():
    client = _proxied_app(1).test_client()
    assert client.get("/test/who", headers=FORWARDED).get_json() == {"addr": "203.0.113.9", "scheme": "https"}
    assert "Strict-Transport-Security" in client.get("/login", headers=FORWARDED).headers


def test_without_a_trusted_proxy_forwarded_headers_are_ignored():
    client = _proxied_app(0).test_client()
    assert client.get("/test/who", headers=FORWARDED).get_json() == {"addr": "127.0.0.1", "scheme": "http"}
    assert "Strict-Transport-Security" not in client.get("/login", headers=FORWARDED).headers


def test_the_access_log_names_method_path_status_and_time_but_no_query_string_mrn_or_calendar_secret(tmp_path):
    """gunicorn.conf.py's access line (written directly: gunicorn's formatter gathered every header
    and environ entry per request); what desks type and patients' identifiers stay out of it."""
    from datetime import timedelta
    from types import SimpleNamespace

    from gunicorn.config import Config

    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert settings["preload_app"] is True and settings["logger_class"] is settings["AccessLog"]
    cfg = Config()
    cfg.set("accesslog", str(tmp_path / "access.log"))
    log = settings["AccessLog"](cfg)
    for path, query in (("/frontdesk/sessions/7/search", "q=Zelinsky"), ("/api/v1/patients/MRN-4411/caregivers", ""),
                        ("/calendar/s3cr3t-feed/clinic.ics", "")):
        environ = {"REMOTE_ADDR": "10.0.0.5", "REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": query,
                   "RAW_URI": f"{path}?{query}", "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_REFERER": f"/x?{query}"}
        log.access(SimpleNamespace(status="200 OK", sent=512), None, environ, timedelta(milliseconds=12, microseconds=700))
    for handler in log.access_log.handlers:
        handler.flush()
    lines = (tmp_path / "access.log").read_text().splitlines()
    assert [line.split('"')[1] for line in lines] == [
        "GET /frontdesk/sessions/7/search HTTP/1.1", "GET /api/v1/patients/-/caregivers HTTP/1.1",
        "GET /calendar/-/clinic.ics HTTP/1.1"]
    assert all(line.startswith("10.0.0.5 ") and line.endswith('" 200 512 12ms') for line in lines), lines
    assert all(re.search(r"^\S+ - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] ", line) for line in lines), lines
    assert not any(secret in "\n".join(lines) for secret in ("Zelinsky", "MRN-4411", "s3cr3t"))


def test_a_views_own_security_header_is_kept_and_every_other_default_is_set_once():
    from flask import make_response

    from roster.security import DEFAULT_HEADERS

    app = _proxied_app(1)

    @app.get("/test/framed")
    def framed():
        response = make_response("ok")
        response.headers["x-frame-options"] = "SAMEORIGIN"
        return response

    response = app.test_client().get("/test/framed", headers=FORWARDED)
    assert response.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    for name, value in DEFAULT_HEADERS:
        if name != "X-Frame-Options":
            assert response.headers.getlist(name) == [value], name
    assert len(response.headers.getlist("Strict-Transport-Security")) == 1
    assert response.headers.getlist("Cache-Control") == ["no-store"]


def test_the_export_share_is_read_from_the_environment_and_a_bad_one_is_refused_by_name(monkeypatch, tmp_path):
    from roster.config import load_config

    monkeypatch.setenv("SECRET_KEY", "x")
    assert load_config(str(tmp_path))["EXPORT_SHARE"] == 0.5
    monkeypatch.setenv("ROSTER_EXPORT_SHARE", "0.3")
    assert load_config(str(tmp_path))["EXPORT_SHARE"] == 0.3
    for bad in ("0", "1.5", "half"):
        monkeypatch.setenv("ROSTER_EXPORT_SHARE", bad)
        with pytest.raises(ValueError, match="ROSTER_EXPORT_SHARE"):
            load_config(str(tmp_path))
