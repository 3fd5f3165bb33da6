"""Show the newest e-mail the embedded profile wrote to var/mail/ (a sign-up link, a reset link)."""

from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Print the newest e-mail written under EMAIL_FILE_PATH (or the newest to one address)."

    def add_arguments(self, parser):
        parser.add_argument("--to", default="", help="only messages to this address")

    def handle(self, *args, to: str, **options):
        if not settings.EMAIL_BACKEND.endswith("filebased.EmailBackend"):
            raise CommandError(
                f"E-mail is not written to files here (EMAIL_BACKEND={settings.EMAIL_BACKEND})."
            )
        folder = Path(settings.EMAIL_FILE_PATH)
        files = sorted(folder.glob("*.log"), key=lambda path: path.stat().st_mtime, reverse=True)
        for path in files:
            # One file per connection; it may hold several messages separated by a line of dashes.
            chunks = path.read_bytes().split(b"\n" + b"-" * 79 + b"\n")
            for chunk in reversed([c for c in chunks if c.strip()]):
                message = message_from_bytes(chunk.lstrip(), policy=policy.default)
                if to and to.lower() not in str(message.get("To", "")).lower():
                    continue
                self.stdout.write(f"File:    {path}")
                for header in ("Date", "To", "Subject"):
                    self.stdout.write(f"{header + ':':<8} {message.get(header, '')}")
                body = message.get_body(preferencelist=("plain",))
                self.stdout.write("")
                self.stdout.write(body.get_content() if body else message.get_payload())
                return
        where = f" to {to}" if to else ""
        raise CommandError(f"No e-mail{where} in {folder}.")
