"""Private Redis and PostgreSQL instances that a test or a fault run may stop and start.

The shared services are never stopped: a run that needs to take Redis or PostgreSQL away starts its
own instance on a free port, in a temporary directory, and removes it afterwards.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, *, up: bool, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.2)
            is_up = sock.connect_ex(("127.0.0.1", port)) == 0
        if is_up == up:
            return
        time.sleep(0.05)
    raise TimeoutError(f"port {port} still {'down' if up else 'up'} after {timeout} s")


def missing_binaries(*names: str) -> str | None:
    absent = [name for name in names if not shutil.which(name)]
    return f"needs {', '.join(absent)} on PATH" if absent else None


class PrivateRedis:
    """`redis-server` on a free port, without persistence; `stop()` and `start()` at will."""

    def __init__(self, directory: Path, port: int | None = None):
        self.directory = Path(directory)
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> PrivateRedis:
        self.directory.mkdir(parents=True, exist_ok=True)
        log = (self.directory / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_port(self.port, up=True)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None
        wait_port(self.port, up=False)


class PrivatePostgres:
    """A PostgreSQL cluster made by `initdb` in a temporary directory, on a free port (trust).

    PostgreSQL refuses to run as root: as root the cluster belongs to the `postgres` account.
    """

    def __init__(self, directory: Path, port: int | None = None):
        self.directory = Path(directory)
        self.data = self.directory / "data"
        self.port = port or free_port()

    def _run(self, command: list[str], *, check: bool = True):
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, check=False, capture_output=True, text=True)
        if check and result.returncode:
            raise RuntimeError(f"{' '.join(command)} failed: {result.stderr.strip()[-2000:]}")
        return result

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def init(self) -> PrivatePostgres:
        if not (self.data / "PG_VERSION").exists():
            self.directory.mkdir(parents=True, exist_ok=True)
            if os.geteuid() == 0:
                shutil.chown(self.directory, "postgres", "postgres")
                for parent in self.directory.parents:  # the postgres account must get through
                    if parent.stat().st_uid == 0 and not parent.stat().st_mode & 0o001:
                        parent.chmod(parent.stat().st_mode | 0o711)
            self._run(
                ["initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
            )
        return self

    def start(self) -> PrivatePostgres:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            [
                "pg_ctl",
                "-D",
                str(self.data),
                "-l",
                str(self.directory / "postgres.log"),
                "-o",
                options,
                "-w",
                "start",
            ]
        )
        wait_port(self.port, up=True)
        return self

    def stop(self, mode: str = "fast") -> None:
        self._run(["pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop"], check=False)
        wait_port(self.port, up=False)

    def createdb(self, name: str) -> str:
        subprocess.run(
            ["createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name],
            check=True,
            capture_output=True,
        )
        return self.url(name)


@contextlib.contextmanager
def private_redis(directory: Path):
    server = PrivateRedis(directory).start()
    try:
        yield server
    finally:
        server.stop()
