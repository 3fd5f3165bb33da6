"""Dated changes by a policy administrator: a new parameter value, a new interpretation effect.

Both are validated the way the files are (the catalogue with the change must pass the engine's own
validation), take effect after every stored change and are never overwritten; the catalogue
version is bumped after commit so that every process rebuilds it.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone

from hengyang_cbec.audit.services import record

from .engine import Catalogue, CatalogueError
from .models import Interpretation, InterpretationEffect, Parameter, ParameterValue
from .services import bump_catalogue_version, catalogue_data_from_db

# --- Changing parameters ------------------------------------------------------------------------


def check_new_parameter_value(
    *,
    parameter: Parameter,
    value_text: str,
    effective_from: date,
    effective_to: date | None = None,
) -> Decimal:
    """Validate a new dated value the way the files are validated; raise CatalogueError.

    A new value must take effect after every stored one (values are never overwritten); an
    open-ended previous value will be closed the day before. The catalogue with the new value
    must pass the engine's own validation.
    """
    text = value_text.strip()
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise CatalogueError(f"parameter {parameter.key}: {value_text!r} is not a number") from None
    if not value.is_finite() or value < 0:
        raise CatalogueError(f"parameter {parameter.key}: the value must be a finite number ≥ 0")
    latest = parameter.values.order_by("-effective_from").first()
    if latest is not None and effective_from <= latest.effective_from:
        raise CatalogueError(
            f"parameter {parameter.key}: a new value must take effect after "
            f"{latest.effective_from}, the start of the latest stored value"
        )
    if effective_to is not None and effective_to < effective_from:
        raise CatalogueError(f"parameter {parameter.key}: the end date is before the start")
    data = catalogue_data_from_db(parameter.policy.code)
    for item in data["parameters"]:
        if item["key"] != parameter.key:
            continue
        previous = item["values"][-1] if item["values"] else None
        if previous is not None and (
            previous["effective_to"] is None or previous["effective_to"] >= effective_from
        ):
            previous["effective_to"] = effective_from - timedelta(days=1)
        item["values"].append(
            {"value": text, "effective_from": effective_from, "effective_to": effective_to}
        )
    Catalogue.from_data(data)
    return value


@transaction.atomic
def add_parameter_value(
    *,
    parameter: Parameter,
    value_text: str,
    effective_from: date,
    effective_to: date | None = None,
    note: str = "",
    user=None,
    ip: str | None = None,
) -> ParameterValue:
    """Add a dated value (see check_new_parameter_value); nothing is saved when it is refused.

    Audited in the same transaction: a parameter value changes award amounts (SECURITY.md 33).
    """
    parameter = Parameter.objects.select_for_update().get(pk=parameter.pk)
    value = check_new_parameter_value(
        parameter=parameter,
        value_text=value_text,
        effective_from=effective_from,
        effective_to=effective_to,
    )
    latest = parameter.values.order_by("-effective_from").first()
    closed = None
    if latest is not None and (
        latest.effective_to is None or latest.effective_to >= effective_from
    ):
        latest.effective_to = effective_from - timedelta(days=1)
        latest.save(update_fields=["effective_to"])
        closed = {"id": latest.pk, "text": latest.text, "effective_to": latest.effective_to}
    created = ParameterValue.objects.create(
        parameter=parameter,
        value=value,
        text=value_text.strip(),
        effective_from=effective_from,
        effective_to=effective_to,
        note=note,
        created_by=user,
    )
    record(
        action="parameter.add_value",
        actor=user,
        actor_role="policy_administrator" if user is not None else "system",
        ip=ip,
        obj=created,
        data={
            "parameter": parameter.key,
            "text": created.text,
            "effective_from": effective_from,
            "effective_to": effective_to,
            "note": note,
            "previous_value_closed": closed,
        },
    )
    transaction.on_commit(bump_catalogue_version)
    return created


# --- Changing what an interpretation does -------------------------------------------------------


def parse_effect_value(setting: str, text: str) -> Any:
    """The value of a setting as an administrator types it: yes/no, or codes separated by
    commas; raises CatalogueError naming what is wrong."""
    text = (text or "").strip()
    if setting == InterpretationEffect.Setting.WORDING:
        if text:
            raise CatalogueError("a wording change has no value")
        return None
    if setting in (InterpretationEffect.Setting.ONE_TIME, InterpretationEffect.Setting.ANNUAL_CAP):
        answers = {"yes": True, "true": True, "是": True, "no": False, "false": False, "否": False}
        if text.lower() not in answers:
            raise CatalogueError(f"{setting}: answer yes or no, not {text!r}")
        return answers[text.lower()]
    return [part.strip() for part in text.replace("，", ",").split(",") if part.strip()]


def check_new_effect(
    *,
    interpretation: Interpretation,
    setting: str,
    measure: str,
    value: Any,
    effective_from: date,
    text_zh: str,
    text_en: str,
) -> None:
    """Validate a new effect the way the files are validated: the version with it must be a
    valid catalogue on every date, it must take effect after every stored effect of the
    interpretation and today, and it must restate the text. Raises CatalogueError."""
    if effective_from <= timezone.localdate():
        raise CatalogueError(
            f"{interpretation.code}: a change takes effect from a future date, so that no "
            "assessment already made changes"
        )
    latest = interpretation.effects.order_by("-effective_from").first()
    if latest is not None and effective_from <= latest.effective_from:
        raise CatalogueError(
            f"{interpretation.code}: a new change must take effect after {latest.effective_from}"
        )
    data = catalogue_data_from_db(interpretation.policy.code)
    data["effects"].append(
        {
            "interpretation": interpretation.code,
            "setting": setting,
            "measure": measure or None,
            "value": value,
            "effective_from": effective_from,
            "text_zh": text_zh.strip(),
            "text_en": text_en.strip(),
        }
    )
    data["effects"].sort(key=lambda e: e["effective_from"])
    Catalogue.from_data(data)


@transaction.atomic
def add_interpretation_effect(
    *,
    interpretation: Interpretation,
    setting: str,
    measure: str,
    value: Any,
    effective_from: date,
    text_zh: str,
    text_en: str,
    note: str = "",
    user=None,
) -> InterpretationEffect:
    """Change what an interpretation does from a date onwards (see check_new_effect)."""
    interpretation = Interpretation.objects.select_for_update().get(pk=interpretation.pk)
    check_new_effect(
        interpretation=interpretation,
        setting=setting,
        measure=measure,
        value=value,
        effective_from=effective_from,
        text_zh=text_zh,
        text_en=text_en,
    )
    effect = InterpretationEffect.objects.create(
        interpretation=interpretation,
        setting=setting,
        measure=measure or "",
        value=value,
        effective_from=effective_from,
        text_zh=text_zh.strip(),
        text_en=text_en.strip(),
        note=note,
        created_by=user,
    )
    transaction.on_commit(bump_catalogue_version)
    return effect
