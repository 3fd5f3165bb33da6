from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PoliciesConfig(AppConfig):
    name = "policies"
    verbose_name = _("Policies and measures")

    def ready(self) -> None:
        from django.core import signals

        from . import services

        signals.request_started.connect(services.request_started, dispatch_uid="policies.start")
        signals.request_finished.connect(services.request_finished, dispatch_uid="policies.end")
