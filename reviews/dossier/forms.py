"""The form of the dossier page: what to put in a dossier."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from applications.models import Application
from applications.workflow import State
from policies.models import Measure

from ..models import DisbursementBatch, DossierJob


def _measure_choices():
    codes = Measure.objects.order_by("code").values_list("code", flat=True).distinct()
    return [("", "—")] + [(code, code) for code in codes]


class DossierForm(forms.Form):
    scope = forms.ChoiceField(
        label=_("What the dossier covers"),
        choices=DossierJob.Scope.choices,
        widget=forms.RadioSelect,
        initial=DossierJob.Scope.APPLICATION,
    )
    reference = forms.CharField(
        label=_("Application reference"),
        max_length=30,
        required=False,
        help_text=_("For one application, for example HY-CBEC-2026-00001."),
    )
    measure = forms.ChoiceField(
        label=_("Measure"),
        required=False,
        choices=(),
        help_text=_("For a measure and year, with the year below."),
    )
    year = forms.IntegerField(
        label=_("Performance year"), required=False, min_value=2000, max_value=2100
    )
    batch = forms.CharField(
        label=_("Disbursement batch number"),
        max_length=20,
        required=False,
        help_text=_("For a disbursement batch, for example PB-2026-0001."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["measure"].choices = _measure_choices()

    def clean(self):
        data = super().clean()
        scope = data.get("scope")
        if scope == DossierJob.Scope.APPLICATION:
            reference = (data.get("reference") or "").strip()
            application = (
                Application.objects.exclude(state=State.DRAFT).filter(reference=reference).first()
                if reference
                else None
            )
            if application is None:
                self.add_error(
                    "reference", _("There is no submitted application with this reference.")
                )
            data["subject"] = {"application": application}
        elif scope == DossierJob.Scope.MEASURE_YEAR:
            if not data.get("measure"):
                self.add_error("measure", _("Choose a measure."))
            if data.get("year") is None and "year" not in self.errors:
                self.add_error("year", _("Enter the performance year."))
            data["subject"] = {"measure_code": data.get("measure"), "year": data.get("year")}
        elif scope == DossierJob.Scope.BATCH:
            number = (data.get("batch") or "").strip().upper()
            batch = DisbursementBatch.objects.filter(number=number).first() if number else None
            if batch is None:
                self.add_error("batch", _("There is no disbursement batch with this number."))
            data["subject"] = {"batch": batch}
        return data
