"""The admin site behind the portal's own login, with every change written to the audit log.

Its login page only sends visitors to the portal's (one lockout, one second factor, one audit
trail); a session must have given its second factor before any admin page opens.

`PortalAdminSite.register` gives every ModelAdmin registered with it (by any app, through
`@admin.register`) the `AuditedAdmin` behaviour, so no admin class can forget it: each addition,
change (including "nothing changed" saves and passwords set through the admin) and deletion that
Django's admin logs is also recorded as an `admin.add` / `admin.change` / `admin.delete` audit event
with the actor, the IP address, the object and the admin's change message, in the same transaction
(SECURITY.md 33).
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from hengyang_cbec.audit.services import client_ip, record


def _record(request, action: str, obj, message) -> None:
    record(
        action=action,
        actor=request.user,
        actor_role="admin",
        ip=client_ip(request),
        obj=obj,
        data={"object": str(obj)[:200], "changes": message or []},
    )


class AuditedAdmin:
    """Mixed into every registered ModelAdmin by PortalAdminSite."""

    def log_addition(self, request, obj, message):
        entry = super().log_addition(request, obj, message)
        _record(request, "admin.add", obj, message)
        return entry

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        _record(request, "admin.change", obj, message)
        return entry

    def log_deletions(self, request, queryset):
        entries = super().log_deletions(request, queryset)
        for obj in queryset:  # called before the deletion: the objects are still there
            _record(request, "admin.delete", obj, [])
        return entries


class PortalAdminSite(admin.AdminSite):
    site_header = _("Hengyang CBEC Subsidy Portal · Administration")
    site_title = _("Administration")

    def has_permission(self, request):
        user = request.user
        return bool(
            user.is_active and user.is_staff and getattr(user, "is_verified", lambda: False)()
        )

    def register(self, model_or_iterable, admin_class=None, **options):
        # Second-factor devices belong to their holders: no administrator edits them (an
        # administrator who could would log in as anyone whose password they learn).
        models = [model_or_iterable] if isinstance(model_or_iterable, type) else model_or_iterable
        models = [m for m in models if not m._meta.app_label.startswith("otp_")]
        if not models:
            return
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, AuditedAdmin):
            admin_class = type(
                admin_class.__name__,
                (AuditedAdmin, admin_class),
                {"__module__": admin_class.__module__, "__doc__": admin_class.__doc__},
            )
        super().register(models, admin_class, **options)

    def login(self, request, extra_context=None):
        if request.user.is_authenticated:
            # Logged in, but not someone the admin site is for (an applicant, a reviewer): a 403.
            # Sending them to the portal's login would send them straight back here, in a loop.
            raise PermissionDenied
        return redirect_to_login(request.GET.get("next") or self.index_url())

    def index_url(self) -> str:
        from django.urls import reverse

        return reverse("admin:index", current_app=self.name)
