"""What an assessment returns: the result, its components, reasons and trace steps."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .numbers import money


def is_english(lang: str) -> bool:
    """``"en"``/``"en-us"`` -> True, ``"zh-hans"``/``"zh"`` -> False; anything else is an error."""
    lowered = lang.lower()
    if lowered.startswith("en"):
        return True
    if lowered.startswith("zh"):
        return False
    raise ValueError(f"unsupported language {lang!r}; use 'zh-hans' or 'en'")


@dataclass(frozen=True, slots=True)
class TraceStep:
    """One step of the reasoning: what was compared or computed, citing the clause."""

    clause: str
    text_zh: str
    text_en: str
    interpretation: str | None = None

    def to_dict(self, english: bool = False) -> dict[str, Any]:
        step: dict[str, Any] = {
            "clause": self.clause,
            "text": self.text_en if english else self.text_zh,
            "text_zh": self.text_zh,
            "text_en": self.text_en,
        }
        if self.interpretation is not None:
            step["interpretation"] = self.interpretation
        return step


@dataclass(frozen=True, slots=True)
class Reason:
    """Why an application is ineligible, in both languages."""

    text_zh: str
    text_en: str
    clause: str | None = None
    interpretation: str | None = None

    def text(self, english: bool = False) -> str:
        return self.text_en if english else self.text_zh


@dataclass(frozen=True, slots=True)
class Component:
    """One part of an amount (e.g. M07 rent and start-up); components sum to the amount."""

    name: str
    amount_cny: Decimal
    clause: str
    label_zh: str
    label_en: str


@dataclass(frozen=True, slots=True)
class Result:
    """The outcome of `assess`.

    `amount_cny` is the most that may be approved (None where the text fixes no amount);
    `cap_cny` equals it for computed measures, is the expenses for discretionary ones and None
    for M15. `parameters_used` lists (key, value text, effective_from) for the audit snapshot.
    """

    measure: str
    eligible: bool
    amount_cny: Decimal | None
    cap_cny: Decimal | None
    components: tuple[Component, ...]
    reasons: tuple[Reason, ...]
    trace: tuple[TraceStep, ...]
    rules_version: str
    year: int | None = None
    parameters_used: tuple[tuple[str, str, str], ...] = ()
    policy: str = ""

    def to_dict(self, lang: str = "zh-hans") -> dict[str, Any]:
        """The output object of MEASURES.md, texts in `lang` (``"zh-hans"`` or ``"en"``)."""
        english = is_english(lang)
        return {
            "measure": self.measure,
            "eligible": self.eligible,
            "amount_cny": None if self.amount_cny is None else money(self.amount_cny),
            "cap_cny": None if self.cap_cny is None else money(self.cap_cny),
            "components": [
                {
                    "name": c.name,
                    "amount_cny": money(c.amount_cny),
                    "clause": c.clause,
                    "label": c.label_en if english else c.label_zh,
                }
                for c in self.components
            ],
            "reasons": [r.text_en if english else r.text_zh for r in self.reasons],
            "trace": [step.to_dict(english) for step in self.trace],
            "rules_version": self.rules_version,
            "policy": self.policy,
        }
