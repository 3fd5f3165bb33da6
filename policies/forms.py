"""Forms generated from the catalogue's fact definitions.

The calculator on a measure page and the application form (applications app) both use
FactsForm, so a fact is labelled, bounded and validated the same way everywhere.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from hengyang_cbec.i18n import english_active

from .engine import Catalogue

# Decimal places a form accepts per kind (the engine refuses more).
_PLACES = {"money_cny": 2, "money_usd": 2, "area_sqm": 2, "rate": 6}
_STEP = {"money_cny": "0.01", "money_usd": "0.01", "area_sqm": "0.01", "rate": "0.000001"}


class YesNoField(forms.TypedChoiceField):
    """A yes-or-no question that must be answered (I-12), stored as a boolean."""

    def __init__(self, **kwargs):
        super().__init__(
            choices=[("", "—"), ("yes", _("Yes")), ("no", _("No"))],
            coerce=lambda value: value == "yes",
            empty_value=None,
            **kwargs,
        )

    def to_python(self, value):
        if value is True or value in ("True", "true", "on"):
            value = "yes"
        elif value is False or value in ("False", "false"):
            value = "no"
        return super().to_python(value)


class FactsForm(forms.Form):
    """The facts of one measure: general facts first, then the measure's own."""

    def __init__(
        self,
        *args,
        catalogue: Catalogue,
        measure_code: str,
        include_general: bool = True,
        applicant: bool = False,
        **kwargs,
    ):
        """include_general=False leaves out the general facts except `year`: an application
        takes them from the enterprise's profile. `applicant` is the form of someone who
        declares (the application form, the public calculator): it never offers the facts only
        a reviewer may set (the M12 rate) and, on the application form, asks the facts that
        need an explicit answer (I-12) as a required yes or no."""
        super().__init__(*args, **kwargs)
        self.catalogue = catalogue
        self.measure = catalogue.measures[measure_code]
        self.include_general = include_general
        self.applicant = applicant
        raw_defs = {item["name"]: item for item in catalogue.data.get("facts", [])}
        english = english_active()
        for fact, required in self.fact_definitions():
            raw = raw_defs.get(fact.name, {})
            label = fact.label_en if english else fact.label_zh
            unit = fact.unit_en if english else fact.unit_zh
            if fact.kind == "money_cny":
                unit = unit or ("CNY" if english else "元")
            elif fact.kind == "money_usd":
                unit = unit or ("USD" if english else "美元")
            elif fact.kind == "area_sqm":
                unit = unit or ("sqm" if english else "平方米")
            if unit:
                label = f"{label} ({unit})" if english else f"{label}（{unit}）"
            help_text = raw.get("help_en" if english else "help_zh", "")
            self.fields[fact.name] = self._field(fact, required, label, help_text)
            self.fields[fact.name].fact_scope = fact.scope

    def fact_definitions(self):
        """(definition, required) for every fact this measure asks, general ones first."""
        defs = [
            pair
            for pair in self.measure.fact_defs
            if (self.include_general or pair[0].scope != "general" or pair[0].name == "year")
            and not (self.applicant and pair[0].reviewer_only)
        ]
        return sorted(defs, key=lambda pair: 0 if pair[0].scope == "general" else 1)

    def _field(self, fact, required: bool, label: str, help_text: str) -> forms.Field:
        common = {"label": label, "help_text": help_text}
        kind = fact.kind
        if kind == "bool" and fact.answer_required and self.applicant and not self.include_general:
            return YesNoField(required=True, **common)
        if kind == "bool":
            return forms.BooleanField(required=False, **common)
        if fact.name == "year" and not self.include_general:
            years = range(self.catalogue.first_performance_year, self.catalogue.valid_to.year + 1)
            return forms.TypedChoiceField(
                required=True, coerce=int, choices=[(y, str(y)) for y in years], **common
            )
        if kind == "int":
            return forms.IntegerField(
                required=required,
                min_value=int(fact.minimum) if fact.minimum is not None else 0,
                max_value=int(fact.maximum) if fact.maximum is not None else None,
                **common,
            )
        if kind in _PLACES:
            return forms.DecimalField(
                required=required,
                min_value=fact.minimum,
                max_value=fact.maximum,
                decimal_places=_PLACES[kind],
                max_digits=24,
                widget=forms.NumberInput(attrs={"step": _STEP[kind], "inputmode": "decimal"}),
                **common,
            )
        if kind == "date":
            return forms.DateField(
                required=required, widget=forms.DateInput(attrs={"type": "date"}), **common
            )
        if kind == "choice":
            english = english_active()
            choices = [
                (value, label_en if english else label_zh)
                for value, label_zh, label_en in fact.choice_labels
            ]
            if fact.name == "entity_type":
                admitted = set(self.measure.entity_types)
                choices = [c for c in choices if c[0] in admitted] + [
                    c for c in choices if c[0] not in admitted
                ]
            if not required:
                choices = [("", "—"), *choices]
            return forms.ChoiceField(required=required, choices=choices, **common)
        return forms.CharField(required=required, max_length=fact.max_length, **common)

    def engine_facts(self) -> dict[str, Any]:
        """The cleaned values as the engine reads them (absent optional facts left out)."""
        facts: dict[str, Any] = {}
        for name, value in self.cleaned_data.items():
            if value is None or value == "":
                continue
            if isinstance(value, Decimal | date | bool | int | str):
                facts[name] = value
        return facts


def calculator_initial(catalogue: Catalogue, measure_code: str, *, year: int) -> dict[str, Any]:
    """Sensible starting values: general conditions met, an admitted type, this year."""
    measure = catalogue.measures[measure_code]
    initial: dict[str, Any] = {"year": year}
    if measure.entity_types:
        initial["entity_type"] = measure.entity_types[0]
    for name in catalogue.general_must_be_true:
        initial[name] = True
    return initial
