"""The admin site behind the portal's own login (one lockout, one second factor, one audit trail).

Its login page only sends visitors to the portal's; a session must have given its second factor
before any admin page opens.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.utils.translation import gettext_lazy as _


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
        if models:
            super().register(models, admin_class, **options)

    def login(self, request, extra_context=None):
        return redirect_to_login(request.GET.get("next") or self.index_url())

    def index_url(self) -> str:
        from django.urls import reverse

        return reverse("admin:index", current_app=self.name)
