"""The catalogue in the admin, for policy administrators.

Dated parameter values can only be added (validated by the engine like the files are), never
changed or deleted, so every past assessment can be re-derived. Measures and the policy itself
come from the reviewed files and are read-only here.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from hengyang_cbec.admin_mixins import ReadOnlyAdmin
from hengyang_cbec.audit.services import client_ip

from .engine import CatalogueError
from .models import (
    ExternalPolicy,
    FundSource,
    Interpretation,
    Measure,
    OverlapGroup,
    Parameter,
    ParameterValue,
    Place,
    Policy,
)
from .services import add_parameter_value, bump_catalogue_version, check_new_parameter_value


@admin.register(Policy)
class PolicyAdmin(ReadOnlyAdmin):
    list_display = ("code", "title_zh", "valid_from", "valid_to", "loaded_at")
    exclude = ("data",)


@admin.register(Measure)
class MeasureAdmin(ReadOnlyAdmin):
    list_display = ("code", "clause", "title_zh", "kind", "one_time", "annual_cap")
    list_filter = ("kind", "one_time", "annual_cap")
    exclude = ("data",)


class ParameterValueInline(admin.TabularInline):
    model = ParameterValue
    fields = ("text", "effective_from", "effective_to", "note", "created_by", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Parameter)
class ParameterAdmin(ReadOnlyAdmin):
    list_display = ("key", "clause", "kind", "unit", "comparison")
    list_filter = ("kind", "unit")
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
class ParameterValueAdmin(admin.ModelAdmin):
    form = ParameterValueForm
    list_display = ("parameter", "text", "effective_from", "effective_to", "created_by")
    list_filter = ("parameter__kind",)
    search_fields = ("parameter__key",)
    list_select_related = ("parameter", "created_by")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

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


@admin.register(Interpretation)
class InterpretationAdmin(admin.ModelAdmin):
    list_display = ("code", "title_zh", "title_en")
    readonly_fields = ("code", "clauses", "applies_to", "implemented_by")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj.edited_in_admin = True
        super().save_model(request, obj, form, change)
        # Other processes rebuild their catalogue only once this change is committed.
        transaction.on_commit(bump_catalogue_version)


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
    list_display = ("code", "clause", "interpretation")
    readonly_fields = ("code", "clause", "interpretation", "measures")
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
