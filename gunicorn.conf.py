"""gunicorn settings for Roster (`make serve`, or `gunicorn -c gunicorn.conf.py`).

Everything can be changed through the environment, read when gunicorn starts:
  ROSTER_BIND             address to listen on (default 127.0.0.1:8000; behind a TLS proxy keep it local)
  ROSTER_WORKERS          worker processes (default 2 x CPUs + 1, at most 8)
  ROSTER_THREADS          threads per worker (default 4)
  ROSTER_TRUSTED_PROXIES  how many proxies in front of Roster set X-Forwarded-* (default 0: none trusted);
                          read by the app itself (roster/config.py), which applies werkzeug's ProxyFix
"""

import gc
import logging
import multiprocessing
import os
import re
import time

from gunicorn.glogging import Logger

wsgi_app = "app:app"
bind = os.environ.get("ROSTER_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("ROSTER_WORKERS", min(8, multiprocessing.cpu_count() * 2 + 1)))
threads = int(os.environ.get("ROSTER_THREADS", 4))
worker_class = "gthread"
timeout = 60  # a CSV export of a large range streams well within this
graceful_timeout = 30
keepalive = 5
max_requests = 2000  # recycle workers now and then
max_requests_jitter = 200
# The app is loaded once, in the master, and warmed there (when_ready): every worker, and every
# worker that replaces a recycled one, starts with its templates compiled and its mappers configured
# instead of paying that (~2 s of CPU) in its first requests.
preload_app = True
accesslog = "-"
errorlog = "-"
# ProxyFix in the app decides which forwarded headers to believe (ROSTER_TRUSTED_PROXIES);
# gunicorn itself derives nothing from them.
secure_scheme_headers: dict[str, str] = {}


# Path segments that are secrets or patient identifiers: a calendar feed's secret, a patient's MRN
_HIDDEN_PREFIXES = ("/calendar/", "/api/v1/patients/")
_HIDDEN_SEGMENT = re.compile(r"^(/calendar/|/api/v1/patients/)[^/]+")


def logged_path(path: str) -> str:
    return _HIDDEN_SEGMENT.sub(r"\1-", path) if path.startswith(_HIDDEN_PREFIXES) else path


class AccessLog(Logger):
    """One access line per request: client address, time, method, path, status, bytes, milliseconds.

    The query string and the Referer are left out: they carry what a desk types (a walk-in search
    for a caregiver's name) and so patient data, which has no place in a server log; so does a
    patient's MRN in an API path, and a calendar feed's path its secret (``logged_path``). The line is
    written directly; gunicorn's own formatter gathers every request header, response header and
    environ entry into a dictionary for each request (about 2% of a server's CPU under load)
    whatever ``access_log_format`` asks for. ``access_log_format`` is therefore not used. The
    time is written once a second, and the record is made without logging's look for its caller
    (a walk up the stack for a file and line no access line shows)."""

    _stamp = (0, "")

    def now(self):
        second = int(time.time())
        stamp = self._stamp
        if stamp[0] != second:
            stamp = self._stamp = (second, time.strftime("[%d/%b/%Y:%H:%M:%S %z]", time.localtime(second)))
        return stamp[1]

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        status = resp.status
        if isinstance(status, str):
            status = status.split(None, 1)[0]
        log = self.access_log
        try:
            if log.isEnabledFor(logging.INFO):
                log.handle(log.makeRecord(log.name, logging.INFO, __file__, 0, '%s - - %s "%s %s %s" %s %s %dms', (
                    environ.get("REMOTE_ADDR", "-"), self.now(), environ.get("REQUEST_METHOD", "-"),
                    logged_path(environ.get("PATH_INFO", "-")), environ.get("SERVER_PROTOCOL", "-"), status,
                    getattr(resp, "sent", None) or "-", request_time.seconds * 1000 + request_time.microseconds // 1000,
                ), None))
        except Exception:  # pragma: no cover - as gunicorn's own: a log line never fails a request
            self.exception("Could not write the access log line")


logger_class = AccessLog


def when_ready(server):
    """Before the first worker is forked: compile every template and configure the mappers, compile the
    statements of the desk's busiest requests (``warmup.warm``: the walk-in search's shapes, a check-in, double
    tap, undo, presence mark and close, run in a transaction that is rolled back), then move all that out of the
    garbage collector's reach (gc.freeze), so forked workers share it unchanged: every worker, and every worker
    that replaces a recycled one, serves its first close as fast as its later ones (each first one compiled
    ~50 ms of CPU, ~500 ms of wall under load). The master then closes its database connection: no worker
    inherits one."""
    from sqlalchemy.orm import configure_mappers

    from roster.extensions import db
    from roster import warmup

    app = server.app.wsgi()
    configure_mappers()
    for name in app.jinja_env.list_templates():
        app.jinja_env.get_template(name)
    warmup.warm(app)  # logs what failed (the database away): the workers then warm themselves
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose()
    gc.collect()  # not the warm-up's garbage: it would be frozen for good
    gc.freeze()


def post_fork(server, worker):
    """A worker never uses a database connection its master opened (the master closed its own before forking;
    this makes sure): the pools are emptied without closing the master's connections."""
    from roster.extensions import db

    with server.app.wsgi().app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)


def post_worker_init(worker):
    """A worker whose master could not warm up (``when_ready``: the database was away when gunicorn started, or the
    app is not preloaded) warms itself before it serves (``warmup.warm``, which never raises); each opens its first
    database connection (``warmup.connect``: not in its first request). Then its objects
    (modules, routes, mappers, templates, compiled statements) are moved out of the garbage collector's reach: a
    full collection then walks only what requests made, not the whole app (a full pass over everything took
    ~80 ms in the middle of a request)."""
    from roster import warmup

    app = worker.wsgi
    if not app.extensions.get(warmup.WARMED):
        warmup.warm(app)
    warmup.connect(app)
    gc.freeze()
