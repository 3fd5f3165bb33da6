from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from hengyang_cbec.audit.services import client_ip

from . import services
from .models import User


class AccountCreationForm(forms.ModelForm):
    """No password field: nobody chooses another person's password. The holder gets a link."""

    class Meta:
        model = User
        fields = ("username", "full_name", "email", "phone", "unit")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """Accounts for the system administrator: create, correct, deactivate, send a reset link.

    Roles are granted on the security administrator's page (with a second approval), never here;
    passwords are never set here, not even by a superuser.
    """

    list_display = ("username", "full_name", "email", "is_active", "last_login")
    list_filter = ("is_active", "groups")
    search_fields = ("username", "full_name", "email")
    add_form = AccountCreationForm
    add_fieldsets = ((None, {"fields": ("username", "full_name", "email", "phone", "unit")}),)
    fieldsets = (
        (None, {"fields": ("username",)}),
        (_("Personal info"), {"fields": ("full_name", "email", "phone", "unit")}),
        (_("Status"), {"fields": ("is_active", "must_change_password", "groups")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined", "password_changed_at")}),
    )
    readonly_fields = ("groups", "last_login", "date_joined", "password_changed_at")
    actions = ("send_reset_link",)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields

    def user_change_password(self, request, id, form_url=""):
        raise PermissionDenied  # use "send a password reset link" instead

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        created = services.create_account(
            actor=request.user, request=request, ip=client_ip(request), **form.cleaned_data
        )
        obj.pk = created.pk
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        if change:
            super().save_related(request, form, formsets, change)

    @admin.action(description=_("Send a password reset link"))
    def send_reset_link(self, request, queryset):
        sent = 0
        for user in queryset.exclude(email=""):
            services.send_password_reset(user=user, request=request)
            sent += 1
        self.message_user(
            request,
            ngettext("%(count)d link sent.", "%(count)d links sent.", sent) % {"count": sent},
            messages.SUCCESS,
        )
