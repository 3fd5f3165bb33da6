"""gunicorn configuration of the portal's web process (`gunicorn -c deploy/gunicorn.conf.py`).

Worker class `gthread`: each worker process serves `threads` requests at once, and a connection
that sends nothing is parked on the worker's poller instead of holding a thread, so a few slow
clients no longer stall the site as they did with sync workers (one slow client per worker was
enough). Behind nginx (deploy/nginx/), which buffers whole requests and responses, gunicorn only
ever talks to a fast local client. Measured on the development machine: see README, "Deployment".

Every value can be changed by an environment variable of the same name in upper case with the
GUNICORN_ prefix (GUNICORN_WORKERS, GUNICORN_THREADS, ...).
"""

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(f"GUNICORN_{name}", "").strip()
    return int(value) if value else default


wsgi_app = "hengyang_cbec.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

worker_class = "gthread"
workers = _int("WORKERS", multiprocessing.cpu_count() * 2 + 1)
# Each thread keeps its own database connection (CONN_MAX_AGE): workers × threads, plus the
# Celery workers, must stay below PostgreSQL's max_connections.
threads = _int("THREADS", 8)
# A worker silent this long is killed and replaced (requests are short: PDFs and large exports
# are written by Celery workers, never in a request).
timeout = _int("TIMEOUT", 60)
graceful_timeout = _int("GRACEFUL_TIMEOUT", 30)
# Idle keep-alive connections (and connections that have sent nothing yet) are closed after this.
keepalive = _int("KEEPALIVE", 5)
backlog = _int("BACKLOG", 2048)
# Workers are replaced now and then, so that a slow leak cannot grow for ever.
max_requests = _int("MAX_REQUESTS", 2000)
max_requests_jitter = _int("MAX_REQUESTS_JITTER", 200)

limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190

# The proxy's address, trusted for X-Forwarded-Proto (see TRUST_X_FORWARDED_PROTO).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
proxy_allow_ips = forwarded_allow_ips

# Heartbeat files in memory, not on a possibly slow disk (gunicorn's own advice).
_SHM = "/dev/shm"  # noqa: S108 - only gunicorn's heartbeat files, created with mkstemp
worker_tmp_dir = _SHM if os.path.isdir(_SHM) else None  # noqa: PTH112
# "-" is standard output; GUNICORN_ACCESSLOG= (empty) turns the access log off.
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'

# The control socket (gunicornc) only where asked for: several servers on one machine would share
# its default path.
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True
