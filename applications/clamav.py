"""A small client for ClamAV's clamd protocol: PING and INSTREAM (SECURITY.md 22, 40).

The protocol (clamd(8)): a command prefixed with `z` and ended with NUL; INSTREAM then sends the
file as chunks, each preceded by its length as a 4-byte big-endian integer, and a zero length to
end; clamd answers one NUL-terminated line, `stream: OK`, `stream: <signature> FOUND` or
`<reason> ERROR` (for example when the stream exceeds clamd's StreamMaxLength). Replaces the
unmaintained `clamd` package; tested against a real clamd (scripts/test-clamd).
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

CHUNK_BYTES = 64 * 1024
MAX_REPLY_BYTES = 4096


class ClamdError(Exception):
    """clamd could not be reached, broke the connection or answered something unexpected."""


@dataclass(frozen=True)
class Verdict:
    status: str  # "OK", "FOUND" or "ERROR"
    detail: str = ""  # the signature when FOUND, clamd's reason when ERROR


def parse_url(url: str) -> tuple[int, Any]:
    """`tcp://host:port` or `unix:///path` -> (socket family, address)."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme == "tcp" and parts.hostname and port:
        return socket.AF_INET6 if ":" in parts.hostname else socket.AF_INET, (parts.hostname, port)
    if parts.scheme == "unix" and parts.path:
        return socket.AF_UNIX, parts.path
    raise ImproperlyConfigured(
        f"CLAMD_URL must be tcp://host:port or unix:///path/to/clamd.ctl, got {url!r}"
    )


class ClamdClient:
    def __init__(self, url: str, *, timeout: float) -> None:
        self.url = url
        self.family, self.address = parse_url(url)
        self.timeout = timeout

    def _connect(self) -> socket.socket:
        sock = socket.socket(self.family, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.address)
        except OSError as error:
            sock.close()
            raise ClamdError(f"cannot connect to clamd at {self.url}: {error}") from None
        return sock

    @staticmethod
    def _reply(sock: socket.socket) -> str:
        data = b""
        while b"\0" not in data and len(data) < MAX_REPLY_BYTES:
            try:
                chunk = sock.recv(MAX_REPLY_BYTES)
            except OSError as error:  # includes timeouts
                raise ClamdError(f"clamd did not answer: {error}") from None
            if not chunk:
                break
            data += chunk
        if not data:
            raise ClamdError("clamd closed the connection without an answer")
        return data.split(b"\0", 1)[0].decode("utf-8", "replace").strip()

    def ping(self) -> bool:
        with self._connect() as sock:
            try:
                sock.sendall(b"zPING\0")
            except OSError as error:
                raise ClamdError(f"clamd connection failed: {error}") from None
            return self._reply(sock) == "PONG"

    def instream(self, chunks) -> Verdict:
        """Scan the byte chunks given; the connection is closed afterwards."""
        with self._connect() as sock:
            try:
                sock.sendall(b"zINSTREAM\0")
                for chunk in chunks:
                    for start in range(0, len(chunk), CHUNK_BYTES):
                        part = chunk[start : start + CHUNK_BYTES]
                        sock.sendall(struct.pack("!L", len(part)) + part)
                sock.sendall(struct.pack("!L", 0))
            except OSError as error:
                # clamd closes early when the stream is over its limit: its answer says so.
                try:
                    return parse_reply(self._reply(sock))
                except ClamdError:
                    raise ClamdError(f"clamd connection failed: {error}") from None
            return parse_reply(self._reply(sock))


def parse_reply(reply: str) -> Verdict:
    """`stream: OK` / `stream: Eicar-Test-Signature FOUND` / `... ERROR` -> a Verdict."""
    if reply.endswith("ERROR"):
        return Verdict("ERROR", reply[: -len("ERROR")].strip())
    _name, sep, result = reply.partition(": ")
    if sep and result == "OK":
        return Verdict("OK")
    if sep and result.endswith(" FOUND"):
        return Verdict("FOUND", result[: -len(" FOUND")].strip() or "unknown")
    raise ClamdError(f"clamd answered something unexpected: {reply[:200]!r}")
