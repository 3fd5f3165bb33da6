from django.core.management.base import BaseCommand

from applications.retention import purge_personal_data


class Command(BaseCommand):
    help = (
        "Apply the retention rule: remove the personal data of closed applications and dormant "
        "applicant accounts past their periods (RETENTION_* settings). --dry-run only lists them."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="change nothing, list only")

    def handle(self, *args, dry_run=False, **options):
        report = purge_personal_data(dry_run=dry_run)
        verb = "would purge" if dry_run else "purged"
        counts = report.counts()
        self.stdout.write(
            f"{verb}: {counts['applications']} closed applications "
            f"({counts['evidence_files']} evidence files), {counts['accounts']} dormant accounts"
        )
        if report.applications:
            self.stdout.write(f"applications: {', '.join(map(str, report.applications))}")
        if report.accounts:
            self.stdout.write(f"accounts: {', '.join(map(str, report.accounts))}")
