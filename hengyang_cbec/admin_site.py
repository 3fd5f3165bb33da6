"""The admin site: every change made in it is written to the audit log (SECURITY.md 33).

`PortalAdminSite.register` gives every ModelAdmin registered with it (by any app, through
`@admin.register`) the `AuditedAdmin` behaviour, so no admin class can forget it: each addition,
change (including "nothing changed" saves and passwords set through the admin) and deletion that
Django's admin logs is also recorded as an `admin.add` / `admin.change` / `admin.delete` audit event
with the actor, the IP address, the object and the admin's change message, in the same transaction.
"""

from __future__ import annotations

from django.contrib import admin

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
    site_header = "衡阳市跨境电商补贴平台 · 管理"

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, AuditedAdmin):
            admin_class = type(
                admin_class.__name__,
                (AuditedAdmin, admin_class),
                {"__module__": admin_class.__module__, "__doc__": admin_class.__doc__},
            )
        super().register(model_or_iterable, admin_class, **options)
