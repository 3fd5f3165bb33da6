"""Demo work for every queue (`seed_demo`): applications in each state, budgets, a co-reviewer,
and disbursements (a paid batch and an open one).

Idempotent: an application already present for an enterprise, measure and year is left alone,
whoever created it (the applications demo runs first and owns its own examples).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from applications.models import Application, Enterprise, Membership
from applications.workflow import State
from hengyang_cbec.accounts.models import User
from hengyang_cbec.accounts.roles import Role
from policies.models import FundSource, Measure, Place

from .models import BudgetAllocation, DisbursementBatch, PublicNoticeBatch
from .services.approval import approval_record
from .services.assessment import preview_assessment
from .services.finance import batch_confirm, batch_create, line_mark_paid, payable_awards
from .services.publicity import notice_publish
from .services.review import (
    application_commit,
    application_recommend,
    application_return,
    application_take,
    coreview_request,
)

# Used only when the applications demo has not registered the enterprises.
_ENTERPRISES = {
    "enterprise": {
        "uscc": "91430400MA4L1A2B3Y",
        "name": "衡阳湘南跨境贸易有限公司",
        "district": "yanfeng",
        "bank_account": "0622020903001234567",
    },
    "enterprise2": {
        "uscc": "91430400MA4PXQ8K55",
        "name": "衡阳雁城电子商务有限公司",
        "district": "zhengxiang",
        "bank_account": "43050166000000012345",
    },
}
M16 = {"social_security_paid_cny": "600000"}
M05 = {"cbec_export_volume_usd": "600000"}
M06 = {"promotion_expenses_cny": "160000", "new_store": True, "settlement_fee_cny": "30000"}
# A target beyond the states: on public notice with the period already over.
NOTICE_DUE = "notice_due"
# (enterprise user, measure, year, declared facts, state to reach)
_APPLICATIONS = (
    ("enterprise", "M16", 2025, M16, State.APPROVED),
    ("enterprise", "M05", 2026, M05, State.GOVERNMENT_APPROVAL),
    ("enterprise2", "M05", 2026, M05, State.PUBLIC_NOTICE),
    ("enterprise2", "M16", 2026, M16, State.FINANCE_REVIEW),
    ("enterprise2", "M16", 2025, M16, State.COMMERCE_REVIEW),
    ("enterprise2", "M05", 2025, M05, State.RETURNED),
    ("enterprise2", "M06", 2026, M06, State.SUBMITTED),
    # On notice with its period already over: `manage.py close_due_notices` moves it on.
    ("enterprise2", "M06", 2025, M06, NOTICE_DUE),
)
ALLOCATION_CNY = Decimal("5000000")


def _enterprise(username: str) -> tuple[Enterprise, User]:
    user = User.objects.get(username=username)
    membership = Membership.objects.filter(user=user, status=Membership.Status.ACTIVE).first()
    if membership is not None:
        return membership.enterprise, user
    spec = _ENTERPRISES[username]
    enterprise = Enterprise.objects.filter(uscc=spec["uscc"]).first()
    if enterprise is None:
        enterprise = Enterprise.objects.create(
            uscc=spec["uscc"],
            name=spec["name"],
            entity_type="enterprise",
            district=Place.objects.filter(code=spec["district"]).first() or Place.objects.first(),
            registered_address="衡阳市",
            legal_representative="王建国",
            contact_name=user.full_name[:100],
            contact_phone="13807340001",
            bank_name="中国工商银行衡阳分行",
            bank_account=spec["bank_account"],
            **dict.fromkeys(Enterprise.GENERAL_FACTS, True),
            # The demo's filing enterprises are verified (the applications demo verifies its own).
            verification=Enterprise.Verification.VERIFIED,
        )
    Membership.objects.create(
        user=user,
        enterprise=enterprise,
        role=Membership.Role.ADMINISTRATOR,
        status=Membership.Status.ACTIVE,
    )
    return enterprise, user


def _coreviewer() -> User:
    user, created = User.objects.get_or_create(
        username="coreviewer",
        defaults={"full_name": "何静（市人社局）", "unit": "hrss_bureau"},
    )
    if created or not user.check_password(settings.DEMO_PASSWORD):
        user.set_password(settings.DEMO_PASSWORD)
        user.save()
    user.groups.add(Group.objects.get(name=Role.CO_REVIEWER.value))
    return user


def _submitted(enterprise, user, code, year, facts, index) -> Application:
    declared = {**enterprise.general_facts(), "year": year, **facts}
    now = timezone.now() - timedelta(days=3 + 9 * index)
    return Application.objects.create(
        enterprise=enterprise,
        measure=Measure.objects.get(code=code),
        year=year,
        state=State.SUBMITTED,
        reference=f"HY-CBEC-{year}-8{index:05d}",
        draft_facts={k: str(v) for k, v in declared.items()},
        declared_facts=declared,
        signer_name=user.full_name[:100],
        declared_at=now,
        submitted_at=now,
        submitted_by=user,
        created_by=user,
    )


def _v(application: Application) -> int:
    application.refresh_from_db()
    return application.version


def _advance(application: Application, target: State, staff: dict, allocation) -> None:
    commerce, finance, registrar = staff["commerce"], staff["finance"], staff["registrar"]
    if target == State.SUBMITTED:
        return
    application_take(user=commerce, application=application, version=_v(application))
    if target == State.COMMERCE_REVIEW:
        coreview_request(
            user=commerce,
            application=application,
            units=[u for u in application.measure.responsible_units if u == "hrss_bureau"]
            or [application.measure.responsible_units[-1]],
            message="请核实社保缴费数据。",
            version=_v(application),
        )
        return
    if target == State.RETURNED:
        application_return(
            user=commerce,
            application=application,
            fields=list(application.declared_facts.keys() & {"cbec_export_volume_usd"}),
            documents=["business_licence"],
            message="出口额与海关统计不一致，请核对并上传海关证明。",
            version=_v(application),
        )
        return
    result = preview_assessment(application)
    amount = result["result"].amount_cny if result["result"] else Decimal("10000")
    application_recommend(
        user=commerce, application=application, amount=amount, version=_v(application)
    )
    if target == State.FINANCE_REVIEW:
        return
    application_commit(
        user=finance, application=application, allocation=allocation, version=_v(application)
    )
    if target in (State.PUBLIC_NOTICE, NOTICE_DUE):
        batch = notice_publish(user=registrar, application_ids=[application.pk])
        if target == NOTICE_DUE:
            # Demo only: the period ended a minute ago, so the whole flow can be walked today.
            ended = timezone.now() - timedelta(minutes=1)
            PublicNoticeBatch.objects.filter(pk=batch.pk).update(
                published_at=ended - timedelta(days=batch.period_days), ends_at=ended
            )
        return
    with override_settings(PUBLIC_NOTICE_DAYS=0):
        notice_publish(user=registrar, application_ids=[application.pk])
    if target == State.GOVERNMENT_APPROVAL:
        return
    approval_record(
        user=registrar,
        application_ids=[application.pk],
        document_number=f"衡政函〔{timezone.localdate().year}〕演示{application.pk}号",
        document_date=timezone.localdate(),
    )


@transaction.atomic
def seed() -> None:
    """Budgets for 2026 × both fund sources, a co-reviewer, and an application in each state."""
    for source in FundSource.objects.all():
        BudgetAllocation.objects.get_or_create(
            fiscal_year=2026,
            fund_source=source,
            measure=None,
            defaults={"amount_cny": ALLOCATION_CNY, "note": "demo"},
        )
    allocation = (
        BudgetAllocation.objects.filter(fiscal_year=2026, measure__isnull=True)
        .order_by("fund_source__code")
        .first()
    )
    _coreviewer()
    staff = {
        "commerce": User.objects.get(username="commerce"),
        "finance": User.objects.get(username="finance"),
        "registrar": User.objects.get(username="registrar"),
    }
    for index, (username, code, year, facts, target) in enumerate(_APPLICATIONS):
        enterprise, user = _enterprise(username)
        if Application.objects.filter(
            enterprise=enterprise, measure__code=code, year=year
        ).exists():
            continue
        application = _submitted(enterprise, user, code, year, facts, index)
        _advance(application, target, staff, allocation)


# --- Disbursements --------------------------------------------------------------------------------

# (enterprise user, measure, year, declared facts): approved awards for the demo batches.
_AWARDS = (
    (
        "enterprise2",
        "M10A",
        2026,
        {"provincial_public_warehouse": True, "registered_with_hengyang_customs": True},
    ),
    (
        "enterprise",
        "M02",
        2026,
        {"integrates_required_functions": True, "incubated_enterprises": 12},
    ),
)


@transaction.atomic
def seed_disbursements() -> None:
    """Demo disbursements: a paid batch and an open one (after `seed`)."""
    if DisbursementBatch.objects.exists():
        return
    staff = {name: User.objects.get(username=name) for name in ("commerce", "finance", "registrar")}
    allocation = (
        BudgetAllocation.objects.filter(fiscal_year=2026, measure__isnull=True)
        .order_by("fund_source__code")
        .first()
    )
    for index, (username, code, year, facts) in enumerate(_AWARDS, start=20):
        enterprise, user = _enterprise(username)
        if not Application.objects.filter(enterprise=enterprise, measure__code=code).exists():
            application = _submitted(enterprise, user, code, year, facts, index)
            _advance(application, State.APPROVED, staff, allocation)
    maker, checker = User.objects.get(username="finance"), User.objects.get(username="finance2")
    payable = list(payable_awards().order_by("pk"))
    if len(payable) < 2:
        return
    paid_batch = batch_create(user=maker, award_ids=[a.pk for a in payable[:-1]])
    batch_confirm(user=checker, batch=paid_batch)
    for line in paid_batch.lines.all():
        line_mark_paid(
            user=maker,
            line=line,
            paid_on=timezone.localdate(),
            reference=f"ICBC-DEMO-{line.sequence:03d}",
        )
    batch_create(user=maker, award_ids=[payable[-1].pk], note="演示：待复核")


def seed_dossiers() -> None:
    """Demo dossier: the auditor's dossier of a paid application, ready to download (after
    `seed_disbursements`; built in-process in the embedded setup)."""
    from .models import DossierJob
    from .services.dossier import dossier_request

    auditor = User.objects.filter(username="auditor").first()
    paid = (
        Application.objects.filter(state=State.DISBURSED, reference__isnull=False)
        .order_by("reference")
        .first()
    )
    if auditor is None or paid is None or DossierJob.objects.filter(requested_by=auditor).exists():
        return
    dossier_request(user=auditor, scope=DossierJob.Scope.APPLICATION, application=paid)


# --- Official statistics (免申即享) ---------------------------------------------------------

STATISTICS_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "statistics"
DEMO_STATISTICS = (
    ("customs", "customs-cbec-2026.csv"),
    ("social_security", "social-security-2026.csv"),
)


def seed_statistics() -> None:
    """The sample customs and social-security files, imported by `commerce` and approved by
    `commerce2`, then matched: the demo enterprises see their entitlements on first login."""
    import hashlib

    from django.core.files.uploadedfile import SimpleUploadedFile

    from .models import StatisticsImport
    from .services.entitlements import match
    from .services.statistics import import_approve, import_create

    importer = User.objects.get(username="commerce")
    approver = User.objects.get(username="commerce2")
    for source, name in DEMO_STATISTICS:
        content = (STATISTICS_FIXTURES / name).read_bytes()
        if StatisticsImport.objects.filter(
            source=source, sha256=hashlib.sha256(content).hexdigest()
        ).exists():
            continue
        upload = SimpleUploadedFile(name, content, "text/csv")
        created = import_create(user=importer, source=source, upload=upload, note="demo")
        import_approve(user=approver, statistics_import=created)
    match()
