"""Forms of the bureau's pages. They validate input; the services decide."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from hengyang_cbec.accounts.models import User

from .models import BudgetAllocation, ReviewOpinion


class VersionForm(forms.Form):
    """Carries the version of the application the page was drawn at (stale forms are refused)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class AssignForm(VersionForm):
    assignee = forms.ModelChoiceField(queryset=User.objects.none(), label=_("Assign to"))

    def __init__(self, *args, assignees=None, **kwargs):
        super().__init__(*args, **kwargs)
        if assignees is not None:
            self.fields["assignee"].queryset = assignees


class ReturnForm(VersionForm):
    fields_to_reopen = forms.MultipleChoiceField(
        label=_("Figures to correct"), required=False, widget=forms.CheckboxSelectMultiple
    )
    documents_to_reopen = forms.MultipleChoiceField(
        label=_("Documents to replace or add"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    message = forms.CharField(
        label=_("Message to the applicant"), widget=forms.Textarea(attrs={"rows": 3})
    )
    working_days = forms.IntegerField(
        label=_("Deadline in working days"), min_value=1, max_value=60, initial=10
    )

    def __init__(self, *args, fact_choices=(), document_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fields_to_reopen"].choices = list(fact_choices)
        self.fields["documents_to_reopen"].choices = list(document_choices)


class RejectForm(VersionForm):
    reason = forms.CharField(
        label=_("Reason for the applicant"), widget=forms.Textarea(attrs={"rows": 3})
    )


class RecommendForm(VersionForm):
    amount = forms.DecimalField(
        label=_("Amount to approve (CNY)"),
        max_digits=14,
        decimal_places=2,
        min_value=0.01,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}),
    )
    reason = forms.CharField(
        label=_("Reason (required when lower than the cap or for a discretionary measure)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ReturnToCommerceForm(VersionForm):
    message = forms.CharField(
        label=_("Message to the commerce reviewer"), widget=forms.Textarea(attrs={"rows": 2})
    )


class CommitForm(VersionForm):
    allocation = forms.ModelChoiceField(
        queryset=BudgetAllocation.objects.none(), label=_("Budget allocation")
    )

    def __init__(self, *args, allocations=None, **kwargs):
        super().__init__(*args, **kwargs)
        if allocations is not None:
            self.fields["allocation"].queryset = allocations
        self.fields["allocation"].label_from_instance = lambda a: (
            _("%(allocation)s — remaining CNY %(remaining)s")
            % {"allocation": a, "remaining": f"{a.remaining_cny:,.2f}"}
        )


class CoReviewRequestForm(VersionForm):
    units = forms.MultipleChoiceField(
        label=_("Responsible units"), widget=forms.CheckboxSelectMultiple
    )
    message = forms.CharField(
        label=_("Question"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, unit_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["units"].choices = list(unit_choices)


class OpinionForm(forms.Form):
    decision = forms.ChoiceField(label=_("Opinion"), choices=ReviewOpinion.Decision.choices)
    text = forms.CharField(label=_("Written opinion"), widget=forms.Textarea(attrs={"rows": 3}))


class ResolveObjectionForm(VersionForm):
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[
            ("dismissed", _("Dismiss: the application continues")),
            ("upheld", _("Uphold: back to commerce review")),
        ],
    )
    resolution = forms.CharField(label=_("Resolution"), widget=forms.Textarea(attrs={"rows": 2}))


class BatchForm(forms.Form):
    applications = forms.TypedMultipleChoiceField(
        coerce=int, label=_("Applications"), widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["applications"].choices = [(i, str(i)) for i in ids]


class ApprovalForm(BatchForm):
    document_number = forms.CharField(label=_("Government document number"), max_length=80)
    document_date = forms.DateField(
        label=_("Document date"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean_document_date(self):
        value = self.cleaned_data["document_date"]
        if value > timezone.localdate():
            raise forms.ValidationError(_("The document date cannot be in the future."))
        return value


class ObjectionForm(forms.Form):
    real_name = forms.CharField(label=_("Your real name"), max_length=100)
    contact = forms.CharField(label=_("Phone or e-mail"), max_length=100)
    text = forms.CharField(label=_("Your objection"), widget=forms.Textarea(attrs={"rows": 4}))
    file = forms.FileField(label=_("Supporting file (PDF or image)"), required=False)


# --- Finance --------------------------------------------------------------------------------------


class PaymentForm(forms.Form):
    paid_on = forms.DateField(label=_("Paid on"), widget=forms.DateInput(attrs={"type": "date"}))
    reference = forms.CharField(label=_("Bank reference"), max_length=80)

    def clean_paid_on(self):
        value = self.cleaned_data["paid_on"]
        if value > timezone.localdate():
            raise forms.ValidationError(gettext("A payment cannot be dated in the future."))
        return value


class FailureForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)


class ResultFileForm(forms.Form):
    file = forms.FileField(
        label=_("The bank's result file (CSV or XLSX)"),
        help_text=_(
            "Columns: line (the line reference of the export), account, amount, reference, "
            "status (paid or failed), reason."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > 5 * 1024 * 1024:
            raise forms.ValidationError(gettext("The file is larger than 5 MB."))
        return upload


class EnterpriseDecisionForm(forms.Form):
    """The bureau's decision on an enterprise claim; the reason is required unless verifying."""

    REGISTRATION = (
        ("verify", _("Verify: the documents prove the right to represent the enterprise")),
        ("return", _("Return: ask for new documents")),
        ("reject", _("Reject: the right to represent the enterprise is not shown")),
    )
    DISPUTE = (
        ("keep", _("Keep the current administrator")),
        ("transfer", _("Transfer the administration to the claimant")),
        ("return", _("Return: ask the claimant for more evidence")),
    )

    decision = forms.ChoiceField(label=_("Outcome"), widget=forms.RadioSelect)
    reason = forms.CharField(
        label=_("Reason (the enterprise reads it)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    evidence = forms.FileField(
        label=_("Evidence for the decision (optional)"),
        required=False,
        help_text=_(
            "For example a record of a call to the legal representative, or papers from the "
            "current administrator. Kept with the dispute."
        ),
    )

    def __init__(self, *args, dispute: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["decision"].choices = self.DISPUTE if dispute else self.REGISTRATION
        if not dispute:
            del self.fields["evidence"]

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("decision") not in (None, "verify")
            and not cleaned.get("reason", "").strip()
        ):
            self.add_error("reason", gettext("Give the reason: the enterprise reads it."))
        return cleaned


class StatisticsImportForm(forms.Form):
    """An official statistics file (XLSX or CSV in the template's columns)."""

    source = forms.ChoiceField(label=_("Source"), choices=())
    file = forms.FileField(label=_("File (XLSX or CSV)"))
    corrects = forms.ModelChoiceField(
        label=_("Correction of"),
        queryset=None,
        required=False,
        empty_label=_("— not a correction —"),
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=300)

    def __init__(self, *args, **kwargs):
        from .models import StatisticsImport, StatisticsSource

        super().__init__(*args, **kwargs)
        self.fields["source"].choices = StatisticsSource.choices
        self.fields["corrects"].queryset = StatisticsImport.objects.filter(
            state=StatisticsImport.State.APPLIED
        )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300)
