"""`python manage.py assess [FILE|-]`: the rules engine on JSON, as MEASURES.md specifies."""

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from policies.assessing import AssessRequestError, assess_payload, parse_json


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
            output = assess_payload(parse_json(text), language=language)
        except AssessRequestError as exc:
            raise CommandError(str(exc), returncode=2) from None
        self.stdout.write(json.dumps(output, ensure_ascii=False, indent=2))

    def _read(self, file: str) -> str:
        if file == "-":
            return sys.stdin.read()
        try:
            with open(file, encoding="utf-8") as handle:  # noqa: PTH123
                return handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {file}: {exc}", returncode=2) from None
