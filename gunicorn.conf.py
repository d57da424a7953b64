"""gunicorn settings for Roster (`make serve`, or `gunicorn -c gunicorn.conf.py`).

Everything can be changed through the environment, read when gunicorn starts:
  ROSTER_BIND             address to listen on (default 127.0.0.1:8000; behind a TLS proxy keep it local)
  ROSTER_WORKERS          worker processes (default 2 x CPUs + 1, at most 8)
  ROSTER_THREADS          threads per worker (default 4)
  ROSTER_TRUSTED_PROXIES  how many proxies in front of Roster set X-Forwarded-* (default 0: none trusted);
                          read by the app itself (roster/config.py), which applies werkzeug's ProxyFix
"""

import gc
import multiprocessing
import os

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
accesslog = "-"
errorlog = "-"
# ProxyFix in the app decides which forwarded headers to believe (ROSTER_TRUSTED_PROXIES);
# gunicorn itself derives nothing from them.
secure_scheme_headers: dict[str, str] = {}


def post_worker_init(worker):
    """Once the app is loaded, its objects (modules, routes, mappers, templates) are moved out of the
    garbage collector's reach: a full collection then walks only what requests made, not the whole app
    (a full pass over everything took ~80 ms in the middle of a request)."""
    gc.freeze()
