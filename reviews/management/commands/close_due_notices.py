"""Close every public notice whose period is over (what beat does in production, on demand).

In the embedded setup (no beat) an operator runs it to move the flow on without waiting for the
period or switching the public notice off: `manage.py close_due_notices`.
"""

from django.core.management.base import BaseCommand
from django.utils.translation import ngettext

from reviews.services.publicity import close_due_notices


class Command(BaseCommand):
    help = "Close the public notices whose period is over and that no open objection holds."

    def handle(self, *args, **options):
        closed = close_due_notices()
        self.stdout.write(
            ngettext("%(n)s notice closed.", "%(n)s notices closed.", closed) % {"n": closed}
        )
