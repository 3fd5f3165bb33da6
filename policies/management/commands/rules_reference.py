from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from policies.engine import CatalogueError, PolicyVersions
from policies.reference import rules_reference
from policies.services import CATALOGUE_DIR, read_catalogue_files

DEFAULT_OUTPUT = Path(settings.BASE_DIR) / "docs" / "rules-reference.md"


class Command(BaseCommand):
    help = (
        "Write the rules reference (every version's measures, facts, dated parameters with their "
        "clauses, overlap groups and interpretations) as Markdown, generated from the catalogue "
        "files. '-' writes to standard output."
    )

    def add_arguments(self, parser):
        parser.add_argument("--directory", type=Path, default=CATALOGUE_DIR)
        parser.add_argument("--output", default=str(DEFAULT_OUTPUT))

    def handle(self, *args, directory: Path, output: str, **options):
        try:
            text = rules_reference(PolicyVersions.from_data(read_catalogue_files(directory)))
        except CatalogueError as exc:
            raise CommandError(f"The catalogue is not valid: {exc}") from None
        if output == "-":
            self.stdout.write(text, ending="")
            return
        path = Path(output)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        self.stdout.write(self.style.SUCCESS(f"Wrote {path}"))
