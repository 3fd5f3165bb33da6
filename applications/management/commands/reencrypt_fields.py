from django.core.management.base import BaseCommand

from hengyang_cbec.fieldcrypto import reencrypt_all


class Command(BaseCommand):
    help = (
        "After putting a new key first in FIELD_ENCRYPTION_KEYS or FIELD_HASH_KEYS: re-encrypt "
        "every encrypted column (bank accounts) with the new key and hash it with the new hash "
        "key. The old keys must still be listed while it runs; remove them afterwards."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="count, change nothing")

    def handle(self, *args, dry_run=False, **options):
        for name, count in reencrypt_all(dry_run=dry_run).items():
            verb = "would change" if dry_run else "changed"
            self.stdout.write(f"{name}: {verb} {count} rows")
