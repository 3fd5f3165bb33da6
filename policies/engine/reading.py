"""Reading catalogue data: the YAML files of the policy versions, and the typed fields of the
plain dict they merge into (each refusal a CatalogueError naming the item)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from .definitions import ParameterValue
from .errors import CatalogueError


def load_catalogue_tree(path: str | Path) -> list[dict[str, Any]]:
    """Every policy version under `path`: one folder per version, oldest first.

    ``*.yaml`` files directly in `path` hold what all versions share (the places); a version's
    own files may not define the same keys. A folder without ``*.yaml`` files is an error.
    """
    root = Path(path)
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))
    if not folders:
        raise CatalogueError(f"no policy version folders in {path}")
    shared = _merge_yaml(sorted(root.glob("*.yaml")))
    versions = []
    for folder in folders:
        data = load_catalogue_dir(folder)
        for key, value in shared.items():
            if key in data:
                raise CatalogueError(f"{folder.name}: key {key!r} is also defined in {root.name}/")
            data[key] = value
        code = data.get("policy", {}).get("code") if isinstance(data.get("policy"), dict) else None
        if code != folder.name:
            raise CatalogueError(
                f"{folder.name}: the folder must be named after its policy code, not {code!r}"
            )
        versions.append(data)
    versions.sort(key=lambda d: str(d["policy"].get("valid_from")))
    return versions


def load_catalogue_dir(path: str | Path) -> dict[str, Any]:
    """Merge the top-level keys of every ``*.yaml`` file in `path` (one version) into one dict.

    A key defined in two files is an error: each list lives in exactly one file.
    """
    files = sorted(Path(path).glob("*.yaml"))
    if not files:
        raise CatalogueError(f"no *.yaml files in {path}")
    return _merge_yaml(files)


def _merge_yaml(files: list[Path]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for file in files:
        with file.open(encoding="utf-8") as handle:
            content = yaml.safe_load(handle) or {}
        if not isinstance(content, dict):
            raise CatalogueError(f"{file.name}: the top level must be a mapping")
        for key, value in content.items():
            if key in merged:
                raise CatalogueError(f"{file.name}: key {key!r} is also defined in another file")
            merged[key] = value
    return merged


def _get(item: Mapping[str, Any], key: str, where: str, kind: type) -> Any:
    value = item.get(key)
    if not isinstance(value, kind):
        raise CatalogueError(f"{where}: {key!r} is missing or not a {kind.__name__}")
    return value


def _text(item: Mapping[str, Any], key: str, where: str) -> str:
    value = item.get(key) if isinstance(item, Mapping) else None
    if not isinstance(value, str) or not value.strip():
        raise CatalogueError(f"{where}: {key!r} is missing or empty")
    return value


def _index(items: Any, key: str, where: str) -> dict[str, dict[str, Any]]:
    if not isinstance(items, list):
        raise CatalogueError(f"{where} must be a list")
    result: dict[str, dict[str, Any]] = {}
    for item in items:
        code = _text(item, key, where)
        if code in result:
            raise CatalogueError(f"{where}: {code!r} is defined twice")
        result[code] = dict(item)
    return result


def _codes(
    item: Mapping[str, Any], key: str, where: str, known: Mapping[str, Any], what: str
) -> tuple[str, ...]:
    codes = tuple(_get(item, key, where, list))
    for code in codes:
        if code not in known:
            raise CatalogueError(f"{where}: unknown {what} {code!r}")
    return codes


def _date(value: Any, where: str) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise CatalogueError(f"{where}: {value!r} is not a date")


def _optional_decimal(value: Any, where: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, (bool, float)):
        raise CatalogueError(f"{where}: {value!r} must be an integer or a string")
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise CatalogueError(f"{where}: {value!r} is not a number") from None


def _parameter_value(item: Any, where: str) -> ParameterValue:
    if not isinstance(item, Mapping):
        raise CatalogueError(f"{where}: a value must be a mapping")
    raw = item.get("value")
    if not isinstance(raw, (str, Decimal)) or isinstance(raw, bool):
        raise CatalogueError(f'{where}: value {raw!r} must be a string such as "500000"')
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise CatalogueError(f"{where}: value {raw!r} is not a number") from None
    if not value.is_finite() or value < 0:
        raise CatalogueError(f"{where}: value {raw!r} must be a finite non-negative number")
    start = _date(item.get("effective_from"), f"{where} effective_from")
    end_raw = item.get("effective_to")
    end = None if end_raw is None else _date(end_raw, f"{where} effective_to")
    if end is not None and end < start:
        raise CatalogueError(f"{where}: effective_to {end} is before effective_from {start}")
    return ParameterValue(value=value, text=str(raw), effective_from=start, effective_to=end)
