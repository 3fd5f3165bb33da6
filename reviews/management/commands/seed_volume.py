"""`manage.py seed_volume --applications N`: a large, plausible data set for measuring the portal.

Tops the data set up to N applications (run again with a larger N to grow it): enterprises in
every district (one per 20 applications), applications of eight measures and two years in every
state of the flow, with their assessments and awards, budget allocations, an approval batch, a
public notice with listings and open objections, and the paid lines of the disbursed ones in one
bank batch. It also adds, once per size, a confirmed disbursement batch PB-V-<n> of
`--batch-lines` lines to pay; tops one enterprise up to `--dashboard` applications (its member is
`volume-applicant`); and creates the staff accounts `volume-commerce`, `volume-finance`,
`volume-officer`, `volume-officer2` and `volume-registrar`. Everything is written with bulk
inserts. It refuses to run in production.
"""

from __future__ import annotations

import itertools
import time
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from applications.models import Application, Enterprise, Membership
from applications.validators import USCC_ALPHABET, uscc_check_character
from applications.workflow import State
from hengyang_cbec.accounts.models import User
from hengyang_cbec.accounts.roles import Role, sync_role_groups
from policies.models import FundSource, Measure, Place, Policy
from reviews.models import (
    ApprovalBatch,
    Assessment,
    Award,
    BudgetAllocation,
    DisbursementBatch,
    DisbursementLine,
    Objection,
    PublicNoticeBatch,
    PublicNoticeItem,
)

PREFIX = "HY-V-"
CHUNK = 5_000
GENERAL = {
    "registered_in_hengyang": True,
    "pays_taxes": True,
    "independent_legal_person": True,
    "has_cbec_performance": True,
    "in_customs_cbec_statistics": True,
    "entity_type": "enterprise",
}
# Eight measures an enterprise files for, with figures the engine accepts, and a typical amount.
MEASURES = {
    "M03": ({"platform_kind": "trading_platform", "eligible_expenses_cny": "80000"}, "40000"),
    "M04": ({"eligible_expenditure_cny": "600000"}, "180000"),
    "M05": ({"cbec_export_volume_usd": "600000"}, "100000"),
    "M06": (
        {"promotion_expenses_cny": "300000", "new_store": True, "settlement_fee_cny": "20000"},
        "170000",
    ),
    "M08": ({"introduced_this_year": True, "cbec_volume_usd": "120000000"}, "500000"),
    "M12": (
        {
            "premium_cny": "100000",
            "small_micro": False,
            "insured_via_single_window": False,
            "loan_principal_cny": "1000000",
            "loan_interest_paid_cny": "40000",
            "loan_days": 365,
        },
        "60000",
    ),
    "M13": (
        {"traditional_foreign_trade_enterprise": True, "training_expenses_cny": "30000"},
        "15000",
    ),
    "M16": ({"social_security_paid_cny": "500000"}, "50000"),
}
# The state of the i-th application, in a cycle of 20 whose first ten hold every state a queue
# tab shows (so ten rows fill every tab): most wait or are decided, few are held.
STATE_CYCLE = [
    State.SUBMITTED,
    State.COMMERCE_REVIEW,
    State.FINANCE_REVIEW,
    State.PUBLIC_NOTICE,
    State.PUBLIC_NOTICE,
    State.GOVERNMENT_APPROVAL,
    State.APPROVED,
    State.DISBURSED,
    State.REJECTED,
    State.RETURNED,
    *[State.SUBMITTED] * 3,
    State.COMMERCE_REVIEW,
    State.FINANCE_REVIEW,
    *[State.APPROVED] * 2,
    *[State.DISBURSED] * 2,
    State.DRAFT,
]
COMMITTED = {State.PUBLIC_NOTICE, State.GOVERNMENT_APPROVAL}
FIXED = {State.APPROVED, State.DISBURSED}
STAFF = {
    "volume-commerce": Role.COMMERCE_REVIEWER,
    "volume-finance": Role.FINANCE_REVIEWER,
    "volume-officer": Role.DISBURSEMENT_OFFICER,
    "volume-officer2": Role.DISBURSEMENT_OFFICER,
    "volume-registrar": Role.APPROVAL_REGISTRAR,
}


def uscc(number: int) -> str:
    body = "91430499"
    for _ in range(9):
        number, digit = divmod(number, len(USCC_ALPHABET))
        body += USCC_ALPHABET[digit]
    return body + uscc_check_character(body)


class Command(BaseCommand):
    help = "Top the data set up to N applications (and a large batch), for benchmarks."

    def add_arguments(self, parser):
        parser.add_argument("--applications", type=int, default=10_000)
        parser.add_argument("--batch-lines", type=int, default=5_000)
        parser.add_argument("--dashboard", type=int, default=50)

    def handle(self, *args, applications: int, batch_lines: int, dashboard: int, **options):
        if settings.PRODUCTION:
            raise CommandError("seed_volume never runs in production.")
        if not Policy.objects.exists():
            raise CommandError("Load the policy first: manage.py load_policy.")
        started = time.monotonic()
        self.setup()
        have = Application.objects.filter(scope_key__startswith="vA").count()
        if have < applications:
            self.add_applications(have, applications - have)
        if batch_lines and not DisbursementBatch.objects.filter(number=f"PB-V-{batch_lines}"):
            self.add_batch(batch_lines)
        if dashboard:
            self.add_dashboard(dashboard)
        total = Application.objects.filter(reference__startswith=PREFIX).count()
        self.stdout.write(
            f"{total} seeded applications ({applications} in the queues), "
            f"{time.monotonic() - started:.0f} s"
        )

    # -- the fixed parts -------------------------------------------------------------------------

    def setup(self) -> None:
        sync_role_groups()
        self.staff = {}
        for username, role in STAFF.items():
            user, _created = User.objects.get_or_create(
                username=username,
                defaults={"full_name": username.replace("volume-", "Volume ").title()},
            )
            user.groups.add(Group.objects.get(name=role.value))
            self.staff[username] = user
        self.applicant, _created = User.objects.get_or_create(
            username="volume-applicant", defaults={"full_name": "Volume Applicant"}
        )
        self.applicant.groups.add(Group.objects.get(name=Role.APPLICANT.value))
        self.policy = Policy.objects.order_by("-valid_from").first()
        self.measures = {
            m.code: m for m in Measure.objects.filter(policy=self.policy, code__in=MEASURES)
        }
        self.districts = list(Place.objects.order_by("position"))
        self.fund = FundSource.objects.order_by("code").first()
        self.allocations = {}
        for year in (2025, 2026):
            self.allocations[year], _created = BudgetAllocation.objects.get_or_create(
                fiscal_year=year,
                fund_source=self.fund,
                measure=None,
                defaults={"amount_cny": Decimal("900000000000")},
            )
        self.approval, _created = ApprovalBatch.objects.get_or_create(
            document_number="衡商发〔2026〕V1号",
            defaults={
                "document_date": timezone.localdate() - timedelta(days=30),
                "recorded_by": self.staff["volume-registrar"],
            },
        )
        now = timezone.now()
        self.notice, _created = PublicNoticeBatch.objects.get_or_create(
            published_by=self.staff["volume-registrar"],
            period_days=7,
            defaults={"published_at": now, "ends_at": now + timedelta(days=7)},
        )

    def enterprises(self, first: int, count: int) -> list[Enterprise]:
        rows = [
            Enterprise(
                uscc=uscc(7_000_000 + n),
                name=f"衡阳市跨境电商样本企业{n:05d}有限公司",
                entity_type="enterprise",
                district=self.districts[n % len(self.districts)],
                registered_address=f"衡阳市{self.districts[n % len(self.districts)].name_zh}{n}号",
                legal_representative="张三",
                contact_name="李四",
                contact_phone="13800000000",
                bank_name="中国银行衡阳分行",
                bank_account=f"6217{n:015d}",
                registered_in_hengyang=True,
                pays_taxes=True,
                independent_legal_person=True,
                has_cbec_performance=True,
                in_customs_cbec_statistics=True,
            )
            for n in range(first, first + count)
        ]
        Enterprise.objects.bulk_create(rows, batch_size=CHUNK, ignore_conflicts=True)
        return list(Enterprise.objects.filter(uscc__in=[r.uscc for r in rows]).order_by("uscc"))

    # -- applications, assessments, awards -------------------------------------------------------

    def add_applications(self, have: int, missing: int) -> None:
        first_enterprise = have // 20
        enterprises = self.enterprises(
            first_enterprise, max(1, (have + missing) // 20 - first_enterprise + 1)
        )
        codes = sorted(MEASURES)
        for start in range(have, have + missing, CHUNK):
            numbers = range(start, min(start + CHUNK, have + missing))
            with transaction.atomic():
                specs = [
                    (
                        n,
                        STATE_CYCLE[n % len(STATE_CYCLE)],
                        codes[(n // 3) % len(codes)],
                        enterprises[(n // 20 - first_enterprise) % len(enterprises)],
                    )
                    for n in numbers
                ]
                self.write(specs, prefix="A")
            self.stdout.write(f"  {numbers.stop} applications")

    def write(self, specs, *, prefix: str) -> list[Application]:
        """Applications (state, measure, enterprise) with what their state implies."""
        now = timezone.now()
        apps = []
        for n, state, code, enterprise in specs:
            facts, amount = MEASURES[code]
            year = 2025 + n % 2
            submitted = None if state == State.DRAFT else now - timedelta(hours=n % 9000 + 1)
            apps.append(
                Application(
                    enterprise=enterprise,
                    measure=self.measures[code],
                    year=year,
                    scope_key=f"v{prefix}{n}",
                    state=state,
                    reference=None if state == State.DRAFT else f"{PREFIX}{prefix}{n:07d}",
                    draft_facts={**facts, "year": year},
                    declared_facts={**GENERAL, **facts, "year": year},
                    estimate_cny=Decimal(amount),
                    policy=self.policy,
                    reference_date=submitted.date() if submitted else None,
                    signer_name="张三",
                    declared_at=submitted,
                    submitted_at=submitted,
                    submitted_by=self.applicant if submitted else None,
                    created_by=self.applicant,
                    resubmission_count=1 if state == State.SUBMITTED and n % 10 == 0 else 0,
                    approved_amount_cny=Decimal(amount) if state in FIXED else None,
                )
            )
        Application.objects.bulk_create(apps, batch_size=CHUNK)
        awarded = [a for a in apps if a.state in COMMITTED | FIXED]
        assessments = Assessment.objects.bulk_create(
            [
                Assessment(
                    application=a,
                    created_by=self.staff["volume-commerce"],
                    on_date=a.reference_date,
                    verified_facts=a.declared_facts,
                    rules_version="volume",
                    eligible=True,
                    cap_cny=a.estimate_cny,
                    amount_cny=a.estimate_cny,
                )
                for a in awarded
            ],
            batch_size=CHUNK,
        )
        awards = Award.objects.bulk_create(
            [
                Award(
                    application=a,
                    assessment=assessment,
                    status=Award.Status.FIXED if a.state in FIXED else Award.Status.COMMITTED,
                    amount_cny=a.estimate_cny,
                    cap_cny=a.estimate_cny,
                    fund_source=self.fund,
                    allocation=self.allocations[a.year],
                    approval_batch=self.approval if a.state in FIXED else None,
                    submitter=self.applicant,
                    commerce_reviewer=self.staff["volume-commerce"],
                    finance_reviewer=self.staff["volume-finance"],
                    registrar=self.staff["volume-registrar"] if a.state in FIXED else None,
                    committed_at=a.submitted_at + timedelta(days=10),
                    fixed_at=a.submitted_at + timedelta(days=25) if a.state in FIXED else None,
                )
                for a, assessment in zip(awarded, assessments, strict=True)
            ],
            batch_size=CHUNK,
        )
        self.publicity(
            [(a, w) for a, w in zip(awarded, awards, strict=True) if a.state == State.PUBLIC_NOTICE]
        )
        paid = [(a, w) for a, w in zip(awarded, awards, strict=True) if a.state == State.DISBURSED]
        if paid:
            self.lines(self.paid_batch(), paid, paid=True)
        return apps

    def publicity(self, pairs) -> None:
        """Every other application on public notice is listed; one in ten listed has an open
        objection."""
        listed = pairs[::2]
        items = PublicNoticeItem.objects.bulk_create(
            [
                PublicNoticeItem(
                    batch=self.notice,
                    application=a,
                    award=w,
                    enterprise_name=a.enterprise.name,
                    measure_code=a.measure.code,
                    measure_title_zh=a.measure.title_zh,
                    measure_title_en=a.measure.title_en,
                    amount_cny=w.amount_cny,
                    status=PublicNoticeItem.Status.LISTED,
                )
                for a, w in listed
            ]
        )
        Objection.objects.bulk_create(
            [
                Objection(
                    item=item,
                    application=item.application,
                    author=self.applicant,
                    real_name="王五",
                    contact="13900000000",
                    text="该企业申报的出口额与实际不符。",
                )
                for item in items[::10]
            ]
        )

    def paid_batch(self) -> DisbursementBatch:
        batch, _created = DisbursementBatch.objects.get_or_create(
            number="PB-V-PAID",
            defaults={
                "state": DisbursementBatch.State.PAID,
                "prepared_by": self.staff["volume-officer"],
                "confirmed_by": self.staff["volume-officer2"],
                "confirmed_at": timezone.now(),
            },
        )
        return batch

    def lines(self, batch: DisbursementBatch, pairs, *, paid: bool) -> None:
        start = batch.lines.order_by("-sequence").values_list("sequence", flat=True).first() or 0
        today = timezone.localdate()
        DisbursementLine.objects.bulk_create(
            [
                DisbursementLine(
                    batch=batch,
                    award=w,
                    sequence=seq,
                    line_reference=DisbursementLine.reference_for(batch.number, seq),
                    payee_name=a.enterprise.name,
                    uscc=a.enterprise.uscc,
                    bank_name=a.enterprise.bank_name,
                    bank_account=a.enterprise.bank_account,
                    amount_cny=w.amount_cny,
                    measure_code=a.measure.code,
                    measure_title=a.measure.title_zh,
                    fund_source=self.fund.name_zh,
                    approval_document=self.approval.document_number,
                    application_reference=a.reference,
                    state=DisbursementLine.State.PAID if paid else DisbursementLine.State.TO_PAY,
                    paid_on=today - timedelta(days=seq % 200) if paid else None,
                    bank_reference=f"BOC-V-{seq}" if paid else "",
                    recorded_by=self.staff["volume-officer"] if paid else None,
                )
                for seq, (a, w) in enumerate(pairs, start=start + 1)
            ],
            batch_size=CHUNK,
        )

    # -- the extras, once ------------------------------------------------------------------------

    def add_batch(self, count: int) -> None:
        """A confirmed batch PB-V-<count> of `count` lines to pay (the batch page's worst case)."""
        enterprises = self.enterprises(8_000_000, max(1, count // 20))
        codes = itertools.cycle(sorted(MEASURES))
        with transaction.atomic():
            specs = [
                (n, State.APPROVED, next(codes), enterprises[n % len(enterprises)])
                for n in range(count)
            ]
            apps = self.write(specs, prefix=f"B{count}-")
            awards = {w.application_id: w for w in Award.objects.filter(application__in=apps)}
            batch = DisbursementBatch.objects.create(
                number=f"PB-V-{count}",
                state=DisbursementBatch.State.CONFIRMED,
                prepared_by=self.staff["volume-officer"],
                confirmed_by=self.staff["volume-officer2"],
                confirmed_at=timezone.now(),
            )
            self.lines(batch, [(a, awards[a.pk]) for a in apps], paid=False)
        self.stdout.write(f"  a confirmed batch of {count} lines")

    def add_dashboard(self, count: int) -> None:
        """One enterprise with `count` applications (two years, every measure and state) and
        its member `volume-applicant` (topped up like the queues)."""
        have = Application.objects.filter(scope_key__startswith="vD").count()
        if have >= count:
            return
        (enterprise,) = self.enterprises(9_000_000, 1)
        Membership.objects.get_or_create(
            user=self.applicant,
            enterprise=enterprise,
            defaults={"role": Membership.Role.ADMINISTRATOR, "status": Membership.Status.ACTIVE},
        )
        codes = sorted(MEASURES)
        with transaction.atomic():
            self.write(
                [
                    (n, STATE_CYCLE[n % len(STATE_CYCLE)], codes[n % len(codes)], enterprise)
                    for n in range(have, count)
                ],
                prefix="D",
            )
        self.stdout.write(f"  one enterprise with {count} applications")
