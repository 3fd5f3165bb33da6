"""The catalogue in the admin, for policy administrators.

Dated parameter values and interpretation effects can only be added (validated by the engine like
the files are), never changed or deleted, so every past assessment can be re-derived. Measures,
the policy versions and the interpretations' original texts come from the reviewed files and are
read-only here: what an interpretation does, and its text, change together from a date onwards
through an interpretation effect.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from hengyang_cbec.admin_mixins import AddOnlyAdmin, ReadOnlyAdmin, ReadOnlyInline
from hengyang_cbec.audit.services import client_ip

from .changes import (
    add_interpretation_effect,
    add_parameter_value,
    check_new_effect,
    check_new_parameter_value,
    parse_effect_value,
)
from .engine import CatalogueError
from .models import (
    ExternalPolicy,
    FundSource,
    Interpretation,
    InterpretationEffect,
    Measure,
    OverlapGroup,
    Parameter,
    ParameterValue,
    Place,
    Policy,
)
from .services import bump_catalogue_version, current_versions


@admin.register(Policy)
class PolicyAdmin(ReadOnlyAdmin):
    list_display = ("code", "title_zh", "published_on", "valid_from", "valid_to", "loaded_at")
    exclude = ("data",)


@admin.register(Measure)
class MeasureAdmin(ReadOnlyAdmin):
    list_display = ("code", "policy", "clause", "title_zh", "kind", "one_time", "annual_cap")
    list_filter = ("policy", "kind", "one_time", "annual_cap")
    list_select_related = ("policy",)
    exclude = ("data",)


class ParameterValueInline(ReadOnlyInline):
    model = ParameterValue
    fields = ("text", "effective_from", "effective_to", "note", "created_by", "created_at")


@admin.register(Parameter)
class ParameterAdmin(ReadOnlyAdmin):
    list_display = ("key", "policy", "clause", "kind", "unit", "comparison")
    list_filter = ("policy", "kind", "unit")
    list_select_related = ("policy",)
    search_fields = ("key", "label_zh", "label_en")
    inlines = [ParameterValueInline]


class ParameterValueForm(forms.ModelForm):
    class Meta:
        model = ParameterValue
        fields = ("parameter", "text", "effective_from", "effective_to", "note")
        labels = {"text": _("value")}

    def clean(self):
        cleaned = super().clean()
        parameter = cleaned.get("parameter")
        if parameter is None or not cleaned.get("text") or not cleaned.get("effective_from"):
            return cleaned
        try:
            check_new_parameter_value(
                parameter=parameter,
                value_text=cleaned["text"],
                effective_from=cleaned["effective_from"],
                effective_to=cleaned.get("effective_to"),
            )
        except CatalogueError as exc:
            raise ValidationError(str(exc)) from None
        return cleaned


@admin.register(ParameterValue)
class ParameterValueAdmin(AddOnlyAdmin):
    form = ParameterValueForm
    list_display = ("parameter", "text", "effective_from", "effective_to", "created_by")
    list_filter = ("parameter__kind",)
    search_fields = ("parameter__key",)
    list_select_related = ("parameter", "created_by")

    def save_model(self, request, obj, form, change):
        created = add_parameter_value(
            parameter=form.cleaned_data["parameter"],
            value_text=form.cleaned_data["text"],
            effective_from=form.cleaned_data["effective_from"],
            effective_to=form.cleaned_data.get("effective_to"),
            note=form.cleaned_data.get("note", ""),
            user=request.user,
            ip=client_ip(request),
        )
        obj.pk = created.pk


class InterpretationEffectInline(ReadOnlyInline):
    model = InterpretationEffect
    fields = ("effective_from", "setting", "measure", "value", "text_zh", "created_by")


@admin.register(Interpretation)
class InterpretationAdmin(ReadOnlyAdmin):
    """Every version's interpretations, with what each one does today and its dated changes."""

    list_display = ("code", "policy", "title_zh", "title_en")
    list_filter = ("policy",)
    list_select_related = ("policy",)
    fields = (
        "policy",
        "code",
        "title_zh",
        "title_en",
        "clauses",
        "applies_to",
        "governs_today",
        "text_today",
        "text_zh",
        "text_en",
    )
    readonly_fields = fields
    inlines = [InterpretationEffectInline]

    @admin.display(description=_("what it decides today"))
    def governs_today(self, obj):
        catalogue = current_versions().get(obj.policy.code)
        if catalogue is None or obj.code not in catalogue.interpretations:
            return "—"
        dated = catalogue.on(timezone.localdate())
        governs = catalogue.interpretations[obj.code].governs
        rows = [
            (code, setting, getattr(dated.measures[code], setting, None))
            if setting != "overlap_groups"
            else (code, setting, [g.code for g in dated.measures[code].overlap_groups])
            for code in (catalogue.interpretations[obj.code].applies_to or ())
            if code in dated.measures
            for setting in governs
        ]
        if not rows:
            return "—"
        return format_html_join("", "<div>{} {}: {}</div>", rows)

    @admin.display(description=_("text in force today (English)"))
    def text_today(self, obj):
        catalogue = current_versions().get(obj.policy.code)
        if catalogue is None or obj.code not in catalogue.interpretations:
            return obj.text_en
        return catalogue.interpretation_on(obj.code, timezone.localdate()).text_en


class InterpretationEffectForm(forms.ModelForm):
    value_text = forms.CharField(
        label=_("value"),
        required=False,
        help_text=_(
            "yes or no for one-time and annual cap; codes separated by commas for components, "
            "waived conditions and overlap groups; empty for a wording change"
        ),
    )

    class Meta:
        model = InterpretationEffect
        fields = (
            "interpretation",
            "setting",
            "measure",
            "value_text",
            "effective_from",
            "text_zh",
            "text_en",
            "note",
        )

    def clean(self):
        cleaned = super().clean()
        interpretation = cleaned.get("interpretation")
        setting = cleaned.get("setting")
        start = cleaned.get("effective_from")
        if interpretation is None or not setting or start is None:
            return cleaned
        try:
            cleaned["value"] = parse_effect_value(setting, cleaned.get("value_text", ""))
            check_new_effect(
                interpretation=interpretation,
                setting=setting,
                measure=(cleaned.get("measure") or "").strip(),
                value=cleaned["value"],
                effective_from=start,
                text_zh=cleaned.get("text_zh") or "",
                text_en=cleaned.get("text_en") or "",
            )
        except CatalogueError as exc:
            raise ValidationError(str(exc)) from None
        return cleaned


@admin.register(InterpretationEffect)
class InterpretationEffectAdmin(AddOnlyAdmin):
    """Change what an interpretation does from a date onwards, restating its text."""

    form = InterpretationEffectForm
    list_display = ("interpretation", "setting", "measure", "value", "effective_from", "created_by")
    list_filter = ("interpretation__policy", "setting")
    list_select_related = ("interpretation__policy", "created_by")

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        created = add_interpretation_effect(
            interpretation=data["interpretation"],
            setting=data["setting"],
            measure=(data.get("measure") or "").strip(),
            value=data["value"],
            effective_from=data["effective_from"],
            text_zh=data["text_zh"],
            text_en=data["text_en"],
            note=data.get("note", ""),
            user=request.user,
        )
        obj.pk = created.pk


@admin.register(ExternalPolicy)
class ExternalPolicyAdmin(admin.ModelAdmin):
    list_display = ("code", "title_zh")

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # Other processes rebuild their catalogue only once this change is committed.
        transaction.on_commit(bump_catalogue_version)


@admin.register(OverlapGroup)
class OverlapGroupAdmin(admin.ModelAdmin):
    list_display = ("code", "policy", "clause", "interpretation")
    list_filter = ("policy",)
    readonly_fields = ("policy", "code", "clause", "interpretation", "measures")
    filter_horizontal = ("external_policies",)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Other processes rebuild their catalogue only once this change is committed.
        transaction.on_commit(bump_catalogue_version)


@admin.register(FundSource)
class FundSourceAdmin(ReadOnlyAdmin):
    list_display = ("code", "name_zh", "clause")


@admin.register(Place)
class PlaceAdmin(ReadOnlyAdmin):
    list_display = ("code", "name_zh", "kind")
