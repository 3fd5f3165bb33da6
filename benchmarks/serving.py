"""Processes and HTTP for the benchmark harness: gunicorn and a Celery worker on free ports,
`manage.py` commands, and plain HTTP requests with a session cookie."""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
BIN = Path(PY).parent


# -- processes ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def manage(*args: str) -> str:
    done = subprocess.run(
        [PY, "manage.py", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


class Process:
    """A child process (gunicorn, a Celery worker) started here and stopped here."""

    def __init__(self, args: list[str], log: Path):
        self.log = log.open("wb")
        self.proc = subprocess.Popen(
            args, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def start_gunicorn(port: int, logs: Path) -> Process:
    server = Process(
        [
            str(BIN / "gunicorn"),
            "benchmarks.bare_wsgi:application",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "300",
        ],
        logs / "gunicorn.log",
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if get(f"http://127.0.0.1:{port}/healthz", "")[0] == 200:
                return server
        except OSError:
            time.sleep(0.5)
    server.stop()
    sys.exit(f"gunicorn did not start; see {logs / 'gunicorn.log'}")


def start_worker(logs: Path) -> Process:
    from django.conf import settings

    return Process(
        [
            str(BIN / "celery"),
            "-A",
            "hengyang_cbec",
            "worker",
            "-c",
            "1",
            "-Q",
            ",".join(sorted({settings.NOTICE_QUEUE, "celery"})),
            "--without-gossip",
            "--without-mingle",
            "--loglevel=WARNING",
        ],
        logs / "worker.log",
    )


# -- HTTP -----------------------------------------------------------------------------------------


def get(url: str, session: str) -> tuple[int, bytes, dict[str, str]]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=600)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    headers = {"Host": "127.0.0.1", "Accept-Language": "zh-hans"}
    if session:
        from django.conf import settings

        headers["Cookie"] = f"{settings.SESSION_COOKIE_NAME}={session}"
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, body, dict(response.getheaders())


def timed_get(url: str, session: str) -> float:
    start = time.perf_counter()
    status, body, _headers = get(url, session)
    elapsed = time.perf_counter() - start
    if status != 200:
        raise RuntimeError(f"{url}: HTTP {status}: {body[:300]!r}")
    return elapsed
