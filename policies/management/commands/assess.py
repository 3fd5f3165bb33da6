"""`python manage.py assess [FILE|-]`: the rules engine on JSON, as MEASURES.md specifies."""

import json
import sys
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.utils import timezone

from policies.engine import AssessInputError, assess, parse_request
from policies.services import PolicyNotLoaded, current_versions, file_versions


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number")


class Command(BaseCommand):
    # The engine needs no system checks; they would import every URL configuration and view.
    requires_system_checks: list[str] = []

    help = (
        "Assess one object or a list of objects {measure, facts, context} read from FILE or "
        "standard input; print the results as JSON. context.policy names a policy version; "
        "absent, the version in force on context.on_date (default today) assesses. Bad input: "
        "exit 2, a message on stderr and nothing on stdout."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", default="-", help="a JSON file, or - for stdin")
        parser.add_argument(
            "--language",
            choices=["zh-hans", "en"],
            default="zh-hans",
            help="language of trace texts and reasons (both are always included)",
        )

    def handle(self, *args, file: str, language: str, **options):
        text = self._read(file)
        try:
            payload = json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)
        except ValueError as exc:
            raise CommandError(f"the input is not valid JSON: {exc}", returncode=2) from None
        catalogue = self._catalogue()
        items = payload if isinstance(payload, list) else [payload]
        today = timezone.localdate()
        requests = []
        for index, item in enumerate(items):
            try:
                requests.append(parse_request(catalogue, item, today))
            except AssessInputError as exc:
                where = f"item {index}: " if isinstance(payload, list) else ""
                raise CommandError(f"{where}{exc}", returncode=2) from None
        results = [
            assess(catalogue, code, facts, context).to_dict(language)
            for code, facts, context in requests
        ]
        output = results if isinstance(payload, list) else results[0]
        self.stdout.write(json.dumps(output, ensure_ascii=False, indent=2))

    def _read(self, file: str) -> str:
        if file == "-":
            return sys.stdin.read()
        try:
            with open(file, encoding="utf-8") as handle:  # noqa: PTH123
                return handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {file}: {exc}", returncode=2) from None

    def _catalogue(self):
        try:
            return current_versions()
        except (PolicyNotLoaded, DatabaseError):
            # A database that has not been migrated or loaded yet: the files are the catalogue.
            return file_versions()
