"""Slow clients (slow-loris) against gunicorn: are other clients still served within 1 s?

    .venv/bin/python benchmarks/slow_clients.py [--loris 12] [--seconds 10]

Starts gunicorn twice on a free port, on an empty embedded profile in a temporary directory: once
with 4 sync workers (the setup the portal was first run with), once with deploy/gunicorn.conf.py
(gthread). Each time, `--loris` connections send a request's headers one line per second and never
finish, while a probe asks for /healthz every 0.25 s with a 1 s timeout. Prints, per setup, how
many probes were answered within 1 s and their slowest answer.

The same probe runs in the test suite (tests/test_serving.py) against the configured server.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.private_services import free_port, wait_port  # noqa: E402

GUNICORN = ROOT / ".venv/bin/gunicorn"
CONFIG = ROOT / "deploy/gunicorn.conf.py"
WSGI = "hengyang_cbec.wsgi:application"


@contextlib.contextmanager
def gunicorn(var_dir: Path, *args: str, env: dict[str, str] | None = None):
    """gunicorn on a free port with the embedded profile in `var_dir`; yields the port."""
    port = free_port()
    environment = {
        **os.environ,
        "VAR_DIR": str(var_dir),
        "DJANGO_SETTINGS_MODULE": "hengyang_cbec.settings",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_ACCESSLOG": "",
        **(env or {}),
    }
    for name in ("DATABASE_URL", "REDIS_URL", "PORTAL_PROFILE"):
        environment.pop(name, None)
    log = (var_dir / f"gunicorn-{port}.log").open("wb")
    args = [arg.replace("{bind}", f"127.0.0.1:{port}") for arg in args]
    process = subprocess.Popen(
        [str(GUNICORN), *args], cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        try:
            wait_port(port, up=True, timeout=60)
        except TimeoutError:
            log.flush()
            raise RuntimeError(
                (var_dir / f"gunicorn-{port}.log").read_text(errors="replace")[-3000:]
            ) from None
        # Every worker has imported Django once the first requests are answered.
        for _ in range(10):
            probe(port, timeout=30)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def probe(port: int, *, timeout: float = 1.0) -> float | None:
    """Seconds to GET /healthz, or None if not answered 200 within `timeout`."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", "/healthz")
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            return None
    except OSError:
        return None
    finally:
        connection.close()
    elapsed = time.perf_counter() - started
    return elapsed if elapsed <= timeout else None


@dataclass
class Loris:
    """`count` connections that send one header line per second and never end their request."""

    port: int
    count: int
    stop: threading.Event = field(default_factory=threading.Event)
    sockets: list[socket.socket] = field(default_factory=list)

    def __enter__(self) -> Loris:
        for _ in range(self.count):
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            self.sockets.append(sock)
        self.thread = threading.Thread(target=self._trickle, daemon=True)
        self.thread.start()
        return self

    def _trickle(self) -> None:
        while not self.stop.wait(1.0):
            for sock in self.sockets:
                with contextlib.suppress(OSError):
                    sock.sendall(b"X-Slow: 1\r\n")

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()
        for sock in self.sockets:
            sock.close()


def probes_under_loris(port: int, *, loris: int, seconds: float) -> list[float | None]:
    results: list[float | None] = []
    with Loris(port, loris):
        time.sleep(1.5)  # the slow clients have started their requests
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            results.append(probe(port))
            time.sleep(0.25)
    return results


def report(name: str, results: list[float | None]) -> None:
    answered = [r for r in results if r is not None]
    slowest = f"{max(answered) * 1000:.0f} ms" if answered else "-"
    print(f"{name:<34} {len(answered):>3}/{len(results):<3} probes within 1 s, slowest {slowest}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loris", type=int, default=12)
    parser.add_argument("--seconds", type=float, default=10)
    options = parser.parse_args()
    print(f"{options.loris} slow clients, probes for {options.seconds:.0f} s")
    with tempfile.TemporaryDirectory() as var:
        with gunicorn(
            Path(var), "-w", "4", "-k", "sync", "--no-control-socket", "-b", "{bind}", WSGI
        ) as port:
            report("4 sync workers", probes_under_loris(port, **_args(options)))
        with gunicorn(Path(var), "-c", str(CONFIG)) as port:
            report("deploy/gunicorn.conf.py (gthread)", probes_under_loris(port, **_args(options)))


def _args(options) -> dict:
    return {"loris": options.loris, "seconds": options.seconds}


if __name__ == "__main__":
    main()
