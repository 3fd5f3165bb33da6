from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from policies.engine import CatalogueError
from policies.services import CATALOGUE_DIR, load_catalogue, read_catalogue_files


class Command(BaseCommand):
    help = (
        "Load every policy version (policies/catalogue/<version>/*.yaml) into the database. "
        "Idempotent; refuses invalid data and overlapping versions, and never overwrites a "
        "stored parameter value."
    )

    def add_arguments(self, parser):
        parser.add_argument("--directory", type=Path, default=CATALOGUE_DIR)

    def handle(self, *args, directory: Path, **options):
        try:
            report = load_catalogue(read_catalogue_files(directory))
        except CatalogueError as exc:
            raise CommandError(f"The catalogue was not loaded: {exc}") from None
        for item in report.kept:
            self.stdout.write(self.style.WARNING(f"Kept {item}"))
        self.stdout.write(self.style.SUCCESS(f"Policy catalogue loaded: {report.summary()}"))
