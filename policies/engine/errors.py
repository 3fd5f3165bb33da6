"""Errors the engine raises.

`CatalogueError` means the policy data is inconsistent (an administrator must fix it);
`AssessInputError` and its subclasses mean one assessment request is malformed (the caller must fix
it). An assessment that is well-formed but not eligible is not an error: it is a `Result` with
`eligible=False` and reasons.
"""

from __future__ import annotations


class CatalogueError(ValueError):
    """The catalogue data cannot be used; the message names the offending item."""


class AssessInputError(ValueError):
    """A request to assess is malformed.

    `message_en` / `message_zh` describe the problem without the measure and fact prefix;
    `str(error)` is the full English message naming the measure and fact where known.
    """

    def __init__(
        self,
        message_en: str,
        message_zh: str | None = None,
        *,
        measure: str | None = None,
        fact: str | None = None,
    ) -> None:
        self.message_en = message_en
        self.message_zh = message_zh if message_zh is not None else message_en
        self.measure = measure
        self.fact = fact
        prefix = ""
        if measure is not None:
            prefix += f"measure {measure}: "
        if fact is not None:
            prefix += f"fact {fact!r}: "
        super().__init__(prefix + message_en)


class UnknownMeasure(AssessInputError):
    """The measure code is not in the catalogue."""

    def __init__(self, measure: str) -> None:
        super().__init__(
            f"unknown measure {measure!r}",
            f"未知的措施代码 {measure!r}",
        )
        self.measure = measure


class FactError(AssessInputError):
    """A fact of a measure is missing, unknown or malformed."""

    def __init__(self, measure: str, fact: str, message_en: str, message_zh: str) -> None:
        super().__init__(message_en, message_zh, measure=measure, fact=fact)
