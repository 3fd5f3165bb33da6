"""The rules version: which engine code and which parameter values produced a result."""

from __future__ import annotations

import hashlib
from pathlib import Path

from .definitions import ParameterValue


def _engine_source_hash() -> str:
    """SHA-256 over the engine's own source files, computed once at import."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


ENGINE_HASH = _engine_source_hash()
_CACHE: dict[tuple[str, tuple[tuple[str, str, str], ...]], str] = {}


def used_parameters(used: dict[str, ParameterValue]) -> tuple[tuple[str, str, str], ...]:
    """(key, value text, effective_from) of each parameter read, sorted by key."""
    return tuple(
        sorted((key, value.text, value.effective_from.isoformat()) for key, value in used.items())
    )


def rules_version(measure_digest: str, used: tuple[tuple[str, str, str], ...]) -> str:
    """16 hex digits of SHA-256 over the engine source, the measure's rule data and the values used.

    The measure digest covers the data an interpretation is made of (one-time, annual cap,
    overlap groups, waived conditions, admitted types), so a change there changes the version too.
    """
    cache_key = (measure_digest, used)
    found = _CACHE.get(cache_key)
    if found is None:
        text = "|".join([ENGINE_HASH, measure_digest, *(f"{k}={v}@{d}" for k, v, d in used)])
        found = hashlib.sha256(text.encode()).hexdigest()[:16]
        if len(_CACHE) < 10_000:  # bounded: parameter sets are few, this only guards misuse
            _CACHE[cache_key] = found
    return found
