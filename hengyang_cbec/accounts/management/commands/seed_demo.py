from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.module_loading import import_string

# Each step is idempotent; apps append theirs as they gain demo data.
DEMO_STEPS = (
    "hengyang_cbec.accounts.demo.seed_accounts",
    "applications.demo.seed",
    "reviews.demo.seed",
    "reviews.demo.seed_disbursements",
    "hengyang_cbec.api.demo.seed",
    "reviews.demo.seed_dossiers",
    "reviews.demo.seed_statistics",
    "hengyang_cbec.api.demo.seed_statistics_proposal",
)


class Command(BaseCommand):
    help = "Create or refresh the demo accounts and demo data (idempotent; never in production)."

    def handle(self, *args, **options):
        if not settings.DEMO_ALLOWED:
            raise CommandError("Demo data is not allowed with PORTAL_PROFILE=production.")
        for step in DEMO_STEPS:
            import_string(step)()
        from hengyang_cbec.accounts.demo import DEMO_ACCOUNTS

        names = ", ".join(account.username for account in DEMO_ACCOUNTS)
        self.stdout.write(self.style.SUCCESS(f"Demo accounts ready: {names}"))
