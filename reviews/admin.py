from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from hengyang_cbec.accounts.roles import Role, has_role
from hengyang_cbec.admin_mixins import ReadOnlyAdmin
from hengyang_cbec.audit.services import client_ip
from hengyang_cbec.errors import PortalError

from .models import ApprovalBatch, Award, BudgetAllocation, PublicNoticeBatch
from .services.budgets import allocation_save


class BudgetAllocationForm(forms.ModelForm):
    class Meta:
        model = BudgetAllocation
        fields = ("fiscal_year", "fund_source", "measure", "amount_cny", "note")

    def clean(self):
        cleaned = super().clean()
        amount = cleaned.get("amount_cny")
        if self.instance.pk and amount is not None and amount < self.instance.committed_cny:
            # The service refuses this too, under a row lock; here it is a form error, not a 500.
            raise ValidationError(
                _("An allocation cannot be lower than what is already committed (CNY %(c)s).")
                % {"c": f"{self.instance.committed_cny:,.2f}"}
            )
        return cleaned


@admin.register(BudgetAllocation)
class BudgetAllocationAdmin(admin.ModelAdmin):
    """Policy administrators maintain allocations; the committed total is never typed in."""

    form = BudgetAllocationForm

    list_display = ("fiscal_year", "fund_source", "measure", "amount_cny", "committed_cny")
    list_filter = ("fiscal_year", "fund_source")
    readonly_fields = ("committed_cny", "updated_at")
    fields = ("fiscal_year", "fund_source", "measure", "amount_cny", "note", "committed_cny")

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            # Year, source and measure identify the allocation once awards point to it.
            return ("fiscal_year", "fund_source", "measure", *self.readonly_fields)
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        data = {
            name: form.cleaned_data.get(name) for name in self.fields if name in form.cleaned_data
        }
        try:
            saved = allocation_save(
                user=request.user,
                allocation=obj if change else None,
                data=data,
                ip=client_ip(request),
            )
        except PortalError as exc:
            messages.error(request, str(exc))
            raise ValidationError(str(exc)) from exc
        obj.pk = saved.pk
        obj.committed_cny = saved.committed_cny

    # Only the role the budget service requires may change allocations; anyone else with admin
    # access (a superuser without the role included) reads them, never gets a refusal as a 500.
    def has_add_permission(self, request):
        return _may_edit_budgets(request) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return _may_edit_budgets(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return (
            obj is not None
            and obj.committed_cny == 0
            and _may_edit_budgets(request)
            and super().has_delete_permission(request, obj)
        )


def _may_edit_budgets(request) -> bool:
    return has_role(request.user, Role.POLICY_ADMINISTRATOR)


@admin.register(Award)
class AwardAdmin(ReadOnlyAdmin):
    list_display = ("application", "status", "amount_cny", "cap_cny", "fund_source")
    list_filter = ("status",)


@admin.register(ApprovalBatch)
class ApprovalBatchAdmin(ReadOnlyAdmin):
    list_display = ("document_number", "document_date", "recorded_at")


@admin.register(PublicNoticeBatch)
class PublicNoticeBatchAdmin(ReadOnlyAdmin):
    list_display = ("published_at", "period_days", "ends_at", "closed_at")
