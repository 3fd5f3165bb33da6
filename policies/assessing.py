"""Assessing JSON requests as MEASURES.md specifies: the one entry point of `manage.py assess` and
of the API's `POST /api/v1/assess`, so that both read the same input and answer the same output.

A request is one object ``{measure, facts, context}`` or a list of them. Amounts are parsed as
`Decimal` (never floats), NaN and infinities are refused, each item is validated before any is
assessed, and the first bad item stops everything with an `AssessRequestError` naming the item,
the measure and the fact.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import DatabaseError
from django.utils import timezone

from .engine import AssessInputError, PolicyVersions, assess, parse_request
from .services import PolicyNotLoaded, current_versions, file_versions

LANGUAGES = ("zh-hans", "en")


class AssessRequestError(ValueError):
    """The request cannot be assessed. `str()` is the English message (the command's stderr);
    `message(language)` says it in Chinese or English; `measure`, `fact` and `item` name where."""

    def __init__(
        self,
        message_en: str,
        message_zh: str,
        *,
        item: int | None = None,
        measure: str | None = None,
        fact: str | None = None,
    ) -> None:
        self.item = item
        self.measure = measure
        self.fact = fact
        self.message_en = message_en
        self.message_zh = message_zh
        super().__init__(message_en)

    @classmethod
    def from_input_error(cls, error: AssessInputError, item: int | None) -> AssessRequestError:
        where_en = f"item {item}: " if item is not None else ""
        where_zh = f"第 {item} 项：" if item is not None else ""
        prefix_zh = ""
        if error.measure is not None:
            prefix_zh += f"措施 {error.measure}："
        if error.fact is not None:
            prefix_zh += f"事实 {error.fact!r}："
        return cls(
            f"{where_en}{error}",
            f"{where_zh}{prefix_zh}{error.message_zh}",
            item=item,
            measure=error.measure,
            fact=error.fact,
        )

    def message(self, language: str) -> str:
        return self.message_en if language == "en" else self.message_zh


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number")


def parse_json(text: str | bytes) -> Any:
    """The request's JSON with amounts as Decimal; AssessRequestError when it is not JSON."""
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        return json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise AssessRequestError(
            f"the input is not valid JSON: {exc}", f"输入不是有效的 JSON：{exc}"
        ) from None


def catalogue() -> PolicyVersions:
    """The stored versions; before the database is migrated or loaded, the files."""
    try:
        return current_versions()
    except (PolicyNotLoaded, DatabaseError):
        return file_versions()


def assess_payload(
    payload: Any, *, language: str = "zh-hans", today: date | None = None
) -> dict[str, Any] | list[dict[str, Any]]:
    """The engine's results for one request object (a dict) or a list of them (a list)."""
    if language not in LANGUAGES:
        raise AssessRequestError(
            f"the language must be one of {', '.join(LANGUAGES)}",
            f"语言须为 {'、'.join(LANGUAGES)} 之一",
        )
    versions = catalogue()
    items = payload if isinstance(payload, list) else [payload]
    today = today or timezone.localdate()
    requests = []
    for index, item in enumerate(items):
        try:
            requests.append(parse_request(versions, item, today))
        except AssessInputError as exc:
            raise AssessRequestError.from_input_error(
                exc, index if isinstance(payload, list) else None
            ) from None
    results = [
        assess(versions, code, facts, context).to_dict(language)
        for code, facts, context in requests
    ]
    return results if isinstance(payload, list) else results[0]
