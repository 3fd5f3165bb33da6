"""Verify an auditor's dossier offline: the SHA-256 of every file and the audit chain excerpt.

    manage.py verify_dossier DOSSIER.zip [--sha256 HEX] [--without-key]

On the portal's own machine the audit chain's keys (AUDIT_HMAC_KEYS) check each event's HMAC too.
Elsewhere, the same check runs with the standard library alone: `python3 reviews/dossier/verify.py`
(or the copy of it inside the dossier) with `--key ID=SECRET`.
"""

from __future__ import annotations

import zipfile

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from reviews.dossier.verify import summary_lines, verify


class Command(BaseCommand):
    help = "Verify a dossier ZIP: every file's SHA-256 and the audit chain excerpt (with HMACs)."

    def add_arguments(self, parser):
        parser.add_argument("dossier")
        parser.add_argument("--sha256", default="", help="the ZIP's SHA-256 from the audit log")
        parser.add_argument(
            "--without-key", action="store_true", help="do not check HMACs with the portal's keys"
        )

    def handle(self, *args, **options):
        keys = {} if options["without_key"] else dict(settings.AUDIT_HMAC_KEYS)
        try:
            report = verify(options["dossier"], keys=keys, sha256=options["sha256"])
        except (OSError, zipfile.BadZipFile) as exc:
            raise CommandError(f"cannot read {options['dossier']}: {exc}") from exc
        for line in summary_lines(report):
            self.stdout.write(line)
        if not report.ok:
            raise SystemExit(1)
