from django.conf import settings
from django.core.management.base import BaseCommand

from hengyang_cbec.accounts.services import disable_dormant_staff


class Command(BaseCommand):
    help = "Disable staff accounts unused for DORMANT_STAFF_DAYS days (beat runs this daily)."

    def handle(self, *args, **options):
        disabled = disable_dormant_staff()
        self.stdout.write(
            f"{len(disabled)} staff account(s) unused for {settings.DORMANT_STAFF_DAYS} days "
            f"disabled{': ' + ', '.join(disabled) if disabled else ''}"
        )
