from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "hengyang_cbec.accounts"
    label = "accounts"
    verbose_name = _("Accounts and roles")

    def ready(self) -> None:
        from hengyang_cbec.cache import create_fallback_table

        from . import checks, signals  # noqa: F401  (receivers and system checks)
        from .roles import sync_role_groups

        # After every migrate, so permissions that later apps add reach their roles. Once per
        # migrate (or test flush), not once per app: the receiver creates every app's
        # permissions itself before it syncs the groups.
        post_migrate.connect(
            sync_role_groups, sender=self, dispatch_uid="accounts.sync_role_groups"
        )
        # The database table the Redis cache falls back to when Redis is down.
        post_migrate.connect(
            create_fallback_table, sender=self, dispatch_uid="cache.create_fallback_table"
        )
