from django.core.management.base import BaseCommand, CommandError

from hengyang_cbec.audit.anchors import write_anchor
from hengyang_cbec.audit.services import verify_chain


class Command(BaseCommand):
    help = (
        "Recompute the audit log's keyed hash chain and compare it with the signed chain heads "
        "kept outside the database; exits non-zero when it is broken. --anchor first appends the "
        "current chain head."
    )

    def add_arguments(self, parser):
        parser.add_argument("--anchor", action="store_true", help="append the chain head first")

    def handle(self, *args, anchor=False, **options):
        if anchor:
            written = write_anchor()
            self.stdout.write(f"anchored event {written.event_id}")
        report = verify_chain()
        if not report.ok:
            raise CommandError(
                f"audit chain broken at event {report.broken_at}: {report.reason} "
                f"({report.checked} events verified before it)"
            )
        self.stdout.write(
            f"audit chain verifies: {report.checked} events, {report.anchors} anchors, "
            f"{report.unkeyed} written before the chain was keyed"
        )
