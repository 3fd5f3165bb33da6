"""Redis as a cache, never a dependency of the pages.

`ResilientRedisCache` is Django's Redis cache with every read and write guarded. When Redis fails
(refused, timed out, reset), the operation goes to a fallback cache in the database instead, and so
do the operations of the next `RETRY_SECONDS`: a dead Redis costs one failed call per interval, not
one per cache access. Each process logs the outage once per `LOG_SECONDS` and logs its end.

Sessions (`cached_db`) keep the database as their source of truth, the login lockout keeps counting
(in the database) and the catalogue's version stays shared between processes while Redis is away.

Keys written to the fallback during an outage may be stale in Redis when it returns (a session
logged out, a catalogue bumped meanwhile): the process deletes them from both stores at the first
successful Redis call, so the next read rebuilds them from the database. Values in the fallback
live at most `FALLBACK_MAX_SECONDS`.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

import redis
from django.core.cache import caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from django.db import DatabaseError

logger = logging.getLogger("hengyang_cbec.cache")

# What a dead, restarting or unreachable Redis raises through redis-py.
CACHE_ERRORS = (redis.exceptions.RedisError, OSError)
_RAISE_MISSING = object()
# Keys remembered for deletion after an outage, per process; beyond this the oldest are dropped
# (they expire from the fallback anyway and Redis sessions are re-read from the database).
MAX_DIRTY_KEYS = 10_000


@dataclass
class _State:
    """Outage state of one Redis location, shared by the per-thread cache objects of a process."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    down_until: float = 0.0
    down_since: float | None = None
    last_logged: float = float("-inf")
    last_error: str = ""
    dirty: dict[tuple[str, int | None], None] = field(default_factory=dict)


_states: dict[str, _State] = {}
_states_lock = threading.Lock()


def _state_for(location: str) -> _State:
    with _states_lock:
        return _states.setdefault(location, _State())


class ResilientRedisCache(RedisCache):
    """Django's RedisCache that degrades to a fallback cache (in the database) on any Redis error.

    OPTIONS takes, besides redis-py's: FALLBACK (alias of the fallback cache, default "database"),
    RETRY_SECONDS (how long to stay on the fallback after an error, default 5), LOG_SECONDS (at
    most one warning per interval, default 60), FALLBACK_MAX_SECONDS (cap on fallback timeouts,
    default 300).
    """

    def __init__(self, server, params):
        params = dict(params)
        options = dict(params.get("OPTIONS", {}))
        self.fallback_alias = options.pop("FALLBACK", "database")
        self.retry_seconds = float(options.pop("RETRY_SECONDS", 5))
        self.log_seconds = float(options.pop("LOG_SECONDS", 60))
        self.fallback_max_seconds = int(options.pop("FALLBACK_MAX_SECONDS", 300))
        params["OPTIONS"] = options
        super().__init__(server, params)
        self._state = _state_for(",".join(self._servers))

    # --- State ------------------------------------------------------------------------------

    @property
    def degraded(self) -> bool:
        """True while this process sends cache operations to the fallback."""
        return self._state.down_since is not None

    @property
    def fallback(self):
        return caches[self.fallback_alias]

    def _use_redis(self) -> bool:
        return time.monotonic() >= self._state.down_until

    def _failed(self, exc: BaseException) -> None:
        state = self._state
        now = time.monotonic()
        with state.lock:
            state.down_until = now + self.retry_seconds
            state.last_error = f"{type(exc).__name__}: {exc}"[:300]
            if state.down_since is None:
                state.down_since = now
            log = now - state.last_logged >= self.log_seconds
            if log:
                state.last_logged = now
        if log:
            logger.warning(
                "cache unavailable, using the database fallback for %.0f s: %s",
                self.retry_seconds,
                state.last_error,
            )

    def _recovered(self) -> None:
        """First successful call after an outage: drop the keys written meanwhile, everywhere."""
        state = self._state
        with state.lock:
            if state.down_since is None:
                return
            dirty = list(state.dirty)
            state.dirty.clear()
            outage = time.monotonic() - state.down_since
            state.down_since = None
            state.last_logged = float("-inf")
        try:
            for key, version in dirty:
                super().delete(key, version=version)
                self.fallback.delete(key, version=version)
        except CACHE_ERRORS as exc:
            with state.lock:
                state.dirty.update(dict.fromkeys(dirty))
            self._failed(exc)
            return
        logger.warning(
            "cache available again after %.0f s; %d keys written meanwhile invalidated",
            outage,
            len(dirty),
        )

    def _mark_dirty(self, keys, version) -> None:
        state = self._state
        with state.lock:
            for key in keys:
                state.dirty[(key, version)] = None
            while len(state.dirty) > MAX_DIRTY_KEYS:
                state.dirty.pop(next(iter(state.dirty)))

    def _fallback_timeout(self, timeout):
        if timeout == DEFAULT_TIMEOUT:
            timeout = self.default_timeout
        if timeout is None:
            return self.fallback_max_seconds
        return min(timeout, self.fallback_max_seconds)

    def _guarded(self, redis_call, fallback_call, *, writes=(), version=None, default=None):
        if self._use_redis():
            try:
                result = redis_call()
            except CACHE_ERRORS as exc:
                self._failed(exc)
            else:
                if self._state.down_since is not None:
                    self._recovered()
                return result
        if writes:
            self._mark_dirty(writes, version)
        try:
            return fallback_call()
        except DatabaseError as exc:
            # The fallback is unusable too (no table yet, database away): a miss, never an
            # error page. incr keeps its contract for a missing key.
            self._failed(exc)
            if default is _RAISE_MISSING:
                raise ValueError("cache fallback unavailable") from exc
            return default

    # --- The cache API ----------------------------------------------------------------------

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guarded(
            lambda: super(ResilientRedisCache, self).add(key, value, timeout, version),
            lambda: self.fallback.add(key, value, self._fallback_timeout(timeout), version),
            writes=[key],
            version=version,
            default=False,
        )

    def get(self, key, default=None, version=None):
        return self._guarded(
            lambda: super(ResilientRedisCache, self).get(key, default, version),
            lambda: self.fallback.get(key, default, version),
            default=default,
        )

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guarded(
            lambda: super(ResilientRedisCache, self).set(key, value, timeout, version),
            lambda: self.fallback.set(key, value, self._fallback_timeout(timeout), version),
            writes=[key],
            version=version,
        )

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guarded(
            lambda: super(ResilientRedisCache, self).touch(key, timeout, version),
            lambda: self.fallback.touch(key, self._fallback_timeout(timeout), version),
            writes=[key],
            version=version,
        )

    def delete(self, key, version=None):
        return self._guarded(
            lambda: super(ResilientRedisCache, self).delete(key, version),
            lambda: self.fallback.delete(key, version),
            writes=[key],
            version=version,
        )

    def get_many(self, keys, version=None):
        return self._guarded(
            lambda: super(ResilientRedisCache, self).get_many(keys, version),
            lambda: self.fallback.get_many(keys, version),
            default={},
        )

    def has_key(self, key, version=None):
        return self._guarded(
            lambda: super(ResilientRedisCache, self).has_key(key, version),
            lambda: self.fallback.has_key(key, version),
            default=False,
        )

    def incr(self, key, delta=1, version=None):
        return self._guarded(
            lambda: super(ResilientRedisCache, self).incr(key, delta, version),
            lambda: self.fallback.incr(key, delta, version),
            writes=[key],
            version=version,
            default=_RAISE_MISSING,
        )

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guarded(
            lambda: super(ResilientRedisCache, self).set_many(data, timeout, version),
            lambda: self.fallback.set_many(data, self._fallback_timeout(timeout), version),
            writes=list(data),
            version=version,
        )

    def delete_many(self, keys, version=None):
        keys = list(keys)
        return self._guarded(
            lambda: super(ResilientRedisCache, self).delete_many(keys, version),
            lambda: self.fallback.delete_many(keys, version),
            writes=keys,
            version=version,
        )

    def clear(self):
        # Redis' clear is FLUSHDB: never called by the portal; kept guarded for the API's sake.
        return self._guarded(
            lambda: super(ResilientRedisCache, self).clear(), lambda: self.fallback.clear()
        )

    def ping(self) -> None:
        """Raise when Redis does not answer (for /healthz); never falls back."""
        self._cache.get_client(write=False).ping()


def create_fallback_table(**kwargs) -> None:
    """After migrate: the database cache table exists (createcachetable is idempotent)."""
    from django.conf import settings
    from django.core.management import call_command

    if any(c["BACKEND"].endswith("DatabaseCache") for c in settings.CACHES.values()):
        call_command("createcachetable", database=kwargs.get("using", "default"), verbosity=0)
