from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from hengyang_cbec.accounts import second_factor
from hengyang_cbec.accounts.demo import DEMO_ACCOUNTS
from hengyang_cbec.accounts.models import User


class Command(BaseCommand):
    help = (
        "Print the current second-factor code of the demo accounts (embedded profile only). "
        "The seed of each demo account is published; add it to an authenticator app, or run this."
    )

    def add_arguments(self, parser):
        parser.add_argument("usernames", nargs="*", help="demo accounts (default: all staff ones)")
        parser.add_argument("--seed", action="store_true", help="also print the base32 seeds")

    def handle(self, *args, usernames, seed, **options):
        if not settings.DEMO_ALLOWED:
            raise CommandError("There are no demo accounts with PORTAL_PROFILE=production.")
        demo_names = [account.username for account in DEMO_ACCOUNTS]
        unknown = sorted(set(usernames) - set(demo_names))
        if unknown:
            raise CommandError(f"Not demo accounts: {', '.join(unknown)}")
        for username in usernames or demo_names:
            user = User.objects.filter(username=username).first()
            device = user and user.totpdevice_set.filter(name="demo", confirmed=True).first()
            if device is None:
                continue
            line = f"{username:<12} {second_factor.current_code(device)}"
            if seed:
                line += f"   seed {second_factor.secret_base32(device)}"
            self.stdout.write(line)
