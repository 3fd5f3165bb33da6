"""Who is acting, for audit rows written by model signals (admin, portal, shell alike).

The middleware sets the request's user and address for the duration of the request; outside a
request (shell, management command, Celery task) nobody is set and the row says so.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    user: object | None
    ip: str | None
    via: str  # "web" or "shell"


_current: ContextVar[Actor | None] = ContextVar("portal_actor", default=None)


def current_actor() -> Actor:
    return _current.get() or Actor(None, None, "shell")


@contextmanager
def acting(user, ip: str | None, via: str = "web"):
    token = _current.set(Actor(user, ip, via))
    try:
        yield
    finally:
        _current.reset(token)
