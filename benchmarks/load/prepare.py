"""Accounts and drafts for the load test (`make load`), in the running portal's database.

    .venv/bin/python benchmarks/load/prepare.py --applicants 50 > var/load/personas.json

Run with the same environment as the portal (DATABASE_URL ...). Creates, or refreshes, the
applicants `load-applicant-N`, each the administrator of its own enterprise with one draft M05
application; uses the demo staff accounts (`make run` / `seed_demo` creates them). Prints the
personas as JSON for the locustfile. Never in production: it refuses PORTAL_PROFILE=production.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import django  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hengyang_cbec.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.db import transaction  # noqa: E402

from applications.models import Application, Enterprise, Membership  # noqa: E402
from applications.validators import USCC_ALPHABET, uscc_check_character  # noqa: E402
from hengyang_cbec.accounts.models import User  # noqa: E402
from hengyang_cbec.accounts.roles import Role  # noqa: E402
from policies.models import Measure, Place  # noqa: E402

STAFF = {
    "reviewer": ["commerce", "commerce2", "registrar", "auditor"],
    "finance": ["finance", "finance2"],
}


def uscc(number: int) -> str:
    """A valid code of its own for each number: "L" then the number in base 31, 8 places."""
    digits = ""
    for _ in range(8):
        number, digit = divmod(number, len(USCC_ALPHABET))
        digits = USCC_ALPHABET[digit] + digits
    body = "91430400L" + digits
    return body + uscc_check_character(body)


@transaction.atomic
def applicant(number: int, password: str) -> dict:
    username = f"load-applicant-{number}"
    user, _created = User.objects.get_or_create(
        username=username, defaults={"email": f"{username}@load.invalid", "full_name": username}
    )
    if not user.check_password(password):  # setting it again would sign the user out
        user.set_password(password)
    user.save()
    user.groups.set(Group.objects.filter(name=Role.APPLICANT.value))
    enterprise, _created = Enterprise.objects.get_or_create(
        uscc=uscc(900_000 + number),
        defaults={
            "name": f"衡阳压测跨境电商有限公司{number}",
            "entity_type": "enterprise",
            "district": Place.objects.order_by("pk").first(),
            "registered_address": "衡阳市雁峰区",
            "legal_representative": "压测",
            "contact_name": "压测",
            "contact_phone": "13800000000",
            "bank_name": "中国银行衡阳分行",
            "bank_account": f"62170000{number:011d}",
            "registered_in_hengyang": True,
            "pays_taxes": True,
            "independent_legal_person": True,
            "has_cbec_performance": True,
            "in_customs_cbec_statistics": True,
            # Load applicants file for enterprises the bureau has verified.
            "verification": "verified",
        },
    )
    Membership.objects.get_or_create(
        user=user,
        enterprise=enterprise,
        defaults={
            "role": Membership.Role.ADMINISTRATOR,
            "status": Membership.Status.ACTIVE,
        },
    )
    application = (
        Application.objects.filter(enterprise=enterprise, state="draft").order_by("pk").first()
    )
    if application is None:
        application = Application.objects.create(
            enterprise=enterprise,
            measure=Measure.objects.get(code="M05"),
            year=2026,
            created_by=user,
            draft_facts={"year": "2026"},
        )
    return {"username": username, "application": application.pk}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applicants", type=int, default=50)
    parser.add_argument("--sample-pdf", help="also write a valid evidence PDF here")
    options = parser.parse_args()
    if settings.PRODUCTION:
        sys.exit("The load test never runs against PORTAL_PROFILE=production.")
    password = os.environ.get("LOAD_PASSWORD") or settings.DEMO_PASSWORD
    missing = [
        name for names in STAFF.values() for name in names if not User.objects.filter(username=name)
    ]
    if missing:
        sys.exit(f"Demo staff accounts missing ({', '.join(missing)}): run `make demo` first.")
    if options.sample_pdf:
        from applications.demo import demo_pdf

        Path(options.sample_pdf).write_bytes(demo_pdf())
    personas = {
        "password": password,
        "applicants": [applicant(n, password) for n in range(1, options.applicants + 1)],
        **STAFF,
    }
    json.dump(personas, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
