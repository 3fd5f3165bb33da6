"""免申即享 matching at scale: 10,000 enterprises × the covered measures, as the Celery job.

    .venv/bin/python benchmarks/match_benchmark.py [--n 10000] [--reset]

Sets Django up against the configured database (DATABASE_URL, else the embedded SQLite; it must
be migrated), loads the policy if it is missing and creates `n` registered enterprises (bench
credit codes) if fewer exist. Then, timed:

1. a customs file and a social-security file of `n` lines each through the import services
   (validation of every line, storage, the second reviewer's approval);
2. the matching job `reviews.tasks.match_entitlements` over everything (goal < 60 s): run by a
   worker through the broker when REDIS_URL is set (start `make worker`), else in-process;
3. the same job again (idempotent: nothing written);
4. a correction of 100 lines and the job on the pairs it touched.

Prints each time and the entitlement counts. Bench rows stay in the database (their credit codes
start with 91439999); run it on a database made for it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hengyang_cbec.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from applications.models import Enterprise  # noqa: E402
from applications.validators import USCC_ALPHABET, uscc_check_character  # noqa: E402
from hengyang_cbec.accounts.models import User  # noqa: E402
from hengyang_cbec.accounts.roles import Role, sync_role_groups  # noqa: E402
from hengyang_cbec.audit.models import AuditEvent  # noqa: E402
from policies.models import Place, Policy  # noqa: E402
from reviews.models import Entitlement, StatisticsRecord  # noqa: E402
from reviews.services import entitlements  # noqa: E402
from reviews.services.statistics import import_approve, import_create  # noqa: E402
from reviews.tasks import match_entitlements  # noqa: E402

PREFIX = "91439999"


def uscc(n: int) -> str:
    body = PREFIX
    for _ in range(9):
        n, r = divmod(n, len(USCC_ALPHABET))
        body += USCC_ALPHABET[r]
    return body + uscc_check_character(body)


def ensure_policy() -> None:
    if not Policy.objects.exists():
        from policies.services import bump_catalogue_version, load_catalogue, read_catalogue_files

        load_catalogue(read_catalogue_files())
        bump_catalogue_version()


def staff(username: str) -> User:
    user, _created = User.objects.get_or_create(username=username, defaults={"full_name": username})
    sync_role_groups()
    from django.contrib.auth.models import Group

    user.groups.add(Group.objects.get(name=Role.COMMERCE_REVIEWER.value))
    return user


def ensure_enterprises(n: int) -> list[str]:
    codes = [uscc(i) for i in range(n)]
    have = set(Enterprise.objects.filter(uscc__startswith=PREFIX).values_list("uscc", flat=True))
    district = Place.objects.order_by("position").first()
    Enterprise.objects.bulk_create(
        [
            Enterprise(
                name=f"衡阳基准测试跨境电商有限公司{i}",
                uscc=code,
                entity_type="enterprise",
                district=district,
                registered_address="衡阳市",
                legal_representative="张三",
                contact_name="李四",
                contact_phone="13800000000",
                bank_name="中国银行衡阳分行",
                bank_account=f"6217{i:015d}",
                **dict.fromkeys(Enterprise.GENERAL_FACTS, True),
            )
            for i, code in enumerate(codes)
            if code not in have
        ],
        batch_size=1000,
    )
    return codes


def run_job(keys=None) -> tuple[str, dict]:
    """Wall time (and, in-process, this process's CPU time: the machine may be shared)."""
    start, cpu = time.perf_counter(), time.process_time()
    if settings.REDIS_URL:
        # No result backend: the job's own audit event says when it ended and what it did.
        last = AuditEvent.objects.filter(action="entitlements.match").order_by("-pk").first()
        match_entitlements.delay(keys)
        while time.perf_counter() - start < 600:
            done = AuditEvent.objects.filter(
                action="entitlements.match", pk__gt=last.pk if last else 0
            ).first()
            if done is not None:
                return f"{time.perf_counter() - start:.1f} s (worker)", done.data
            time.sleep(0.2)
        raise SystemExit("the worker did not finish the job in 600 s (is `make worker` running?)")
    result = match_entitlements.apply(args=[keys]).get()
    wall, used = time.perf_counter() - start, time.process_time() - cpu
    return f"{wall:.1f} s (CPU {used:.1f} s)", result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument(
        "--reset", action="store_true", help="delete the bench entitlements first (a first run)"
    )
    args = parser.parse_args()
    ensure_policy()
    codes = ensure_enterprises(args.n)
    importer, approver = staff("bench-importer"), staff("bench-approver")
    # The approval's own matching is timed separately below.
    entitlements.request_matching = lambda keys=None: True

    fresh = not StatisticsRecord.objects.filter(uscc__startswith=PREFIX, current=True).exists()
    if fresh:
        start = time.perf_counter()
        customs = [
            {
                "uscc": code,
                "name": f"衡阳基准测试跨境电商有限公司{i}",
                "year": 2026,
                "export_usd": str(Decimal(20_000 + (i * 7919) % 3_000_000)),
                "import_usd": str(Decimal((i * 104729) % 60_000_000)),
                "customs_office": "衡阳海关",
            }
            for i, code in enumerate(codes)
        ]
        social = [
            {"uscc": code, "year": 2026, "contributions_cny": str(100_000 + (i * 31) % 900_000)}
            for i, code in enumerate(codes)
        ]
        for source, rows in (("customs", customs), ("social_security", social)):
            created = import_create(user=importer, source=source, rows=rows)
            import_approve(user=approver, statistics_import=created)
        print(f"imports: 2 × {args.n:,} lines validated, stored and approved in "
              f"{time.perf_counter() - start:.1f} s")  # fmt: skip

    if args.reset:
        Entitlement.objects.filter(uscc__startswith=PREFIX).delete()
    seconds, result = run_job()
    print(f"matching job, all pairs ({args.n:,} enterprises × M05, M08, M16): {seconds} "
          f"{result}")  # fmt: skip
    seconds, result = run_job()
    print(f"matching job again (idempotent): {seconds} {result}")

    current = {
        r.uscc: r
        for r in StatisticsRecord.objects.filter(
            uscc__in=codes[:100], source="customs", current=True
        )
    }
    rows = [
        {
            "uscc": code,
            "name": current[code].name,
            "year": 2026,
            "export_usd": current[code].export_usd + 1,
            "import_usd": current[code].import_usd,
            "customs_office": "衡阳海关",
        }
        for code in codes[:100]
    ]
    correction = import_create(user=importer, source="customs", rows=rows)
    import_approve(user=approver, statistics_import=correction)
    seconds, result = run_job([[code, 2026] for code in codes[:100]])
    print(f"matching job on a 100-line correction: {seconds} {result}")
    counts = Entitlement.objects.filter(uscc__startswith=PREFIX).values_list("status", flat=True)
    print(f"entitlements of bench enterprises: {len(counts):,}; load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
