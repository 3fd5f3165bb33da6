"""Factories of the bureau's side: enterprises, submitted applications, budgets, and the path
of an application through the services to any state of the workflow."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from applications.models import Application, Enterprise, Evidence, Membership
from applications.validators import USCC_ALPHABET, uscc_check_character
from applications.workflow import State
from hengyang_cbec.accounts.roles import Role
from policies.models import FundSource, Measure, Place
from reviews.models import BudgetAllocation, PublicNoticeBatch
from reviews.services.approval import approval_record
from reviews.services.publicity import notice_close, notice_publish
from reviews.services.review import application_commit, application_recommend, application_take
from tests.factories import make_user

_seq = itertools.count(1)

DECLARED = {
    "M05": {"cbec_export_volume_usd": "600000"},
    "M16": {"social_security_paid_cny": "600000"},
}


def make_uscc(n: int) -> str:
    """A valid unified social credit code, distinct for each n."""
    body = "91430400"
    for _ in range(9):
        n, r = divmod(n, len(USCC_ALPHABET))
        body += USCC_ALPHABET[r]
    return body + uscc_check_character(body)


def make_enterprise(name: str | None = None, **fields) -> Enterprise:
    n = next(_seq)
    data = {
        "name": name or f"衡阳审核测试跨境电商有限公司{n}",
        "uscc": make_uscc(n * 7919 + 104729),
        "entity_type": "enterprise",
        "district": Place.objects.order_by("position").first(),
        "registered_address": "衡阳市雁峰区",
        "legal_representative": "张三",
        "contact_name": "李四",
        "contact_phone": "13800000000",
        "bank_name": "中国银行衡阳分行",
        "bank_account": f"62170000{n:011d}",
        **dict.fromkeys(Enterprise.GENERAL_FACTS, True),
        # Verified by the Bureau of Commerce, as every enterprise that has filed is.
        "verification": Enterprise.Verification.VERIFIED,
    }
    data.update(fields)
    return Enterprise.objects.create(**data)


def make_member(enterprise: Enterprise, username: str | None = None):
    user = make_user(Role.APPLICANT, username=username or f"applicant{next(_seq)}")
    Membership.objects.create(
        user=user,
        enterprise=enterprise,
        role=Membership.Role.ADMINISTRATOR,
        status=Membership.Status.ACTIVE,
    )
    return user


def make_staff(role: Role, username: str | None = None, **fields):
    return make_user(role, username=username or f"{role.value}{next(_seq)}", **fields)


def make_application(
    *,
    enterprise: Enterprise | None = None,
    submitter=None,
    code: str = "M05",
    year: int = 2026,
    state: State = State.SUBMITTED,
    facts: dict | None = None,
    submitted_days_ago: int = 1,
) -> Application:
    """An application as the applicant's submission leaves it (declared facts frozen)."""
    enterprise = enterprise or make_enterprise()
    if submitter is None:
        membership = enterprise.members.select_related("user").first()
        submitter = membership.user if membership else make_member(enterprise)
    declared = {
        **enterprise.general_facts(),
        "year": year,
        **(facts if facts is not None else DECLARED.get(code, {})),
    }
    n = next(_seq)
    submitted_at = timezone.now() - timedelta(days=submitted_days_ago)
    return Application.objects.create(
        enterprise=enterprise,
        measure=Measure.objects.get(code=code),
        year=year,
        state=state,
        reference=f"HY-CBEC-{year}-9{n:05d}",
        draft_facts={k: str(v) for k, v in declared.items()},
        declared_facts=declared,
        estimate_cny=Decimal("100000.00"),
        signer_name="王芳",
        declared_at=submitted_at,
        submitted_at=submitted_at if state != State.DRAFT else None,
        submitted_by=submitter if state != State.DRAFT else None,
        created_by=submitter,
    )


def add_evidence(
    application: Application,
    *,
    sha256: str = "ab" * 32,
    clean: bool = True,
    document_type: str = "business_licence",
    frozen: bool = True,
):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from applications.tests.factories import pdf_bytes

    name = default_storage.save(f"evidence/test/{next(_seq)}.pdf", ContentFile(pdf_bytes()))
    return Evidence.objects.create(
        application=application,
        document_type=document_type,
        file=name,
        original_name="营业执照 2026.pdf",
        kind="pdf",
        content_type="application/pdf",
        size=len(pdf_bytes()),
        sha256=sha256,
        scan_state=Evidence.ScanState.CLEAN if clean else Evidence.ScanState.PENDING,
        frozen=frozen,
        uploaded_by=application.created_by,
    )


def make_allocation(
    amount: str | Decimal = "5000000", *, year: int = 2026, source: str = "provincial_special"
) -> BudgetAllocation:
    allocation, _created = BudgetAllocation.objects.get_or_create(
        fiscal_year=year,
        fund_source=FundSource.objects.get(code=source),
        measure=None,
        defaults={"amount_cny": Decimal(amount)},
    )
    return allocation


class Crew:
    """Four different accounts, one per four-eyes capacity, created on first use."""

    def __init__(self):
        self._users = {}

    def _get(self, role: Role):
        if role not in self._users:
            self._users[role] = make_staff(role)
        return self._users[role]

    @property
    def commerce(self):
        return self._get(Role.COMMERCE_REVIEWER)

    @property
    def finance(self):
        return self._get(Role.FINANCE_REVIEWER)

    @property
    def registrar(self):
        return self._get(Role.APPROVAL_REGISTRAR)


def advance(
    application: Application,
    target: State,
    *,
    crew: Crew | None = None,
    amount: str = "100000",
    allocation: BudgetAllocation | None = None,
    notice_days: int = 7,
) -> Application:
    """Drive a submitted application through the real services up to `target`."""
    crew = crew or Crew()
    path = [
        State.SUBMITTED,
        State.COMMERCE_REVIEW,
        State.FINANCE_REVIEW,
        State.PUBLIC_NOTICE,
        State.GOVERNMENT_APPROVAL,
        State.APPROVED,
    ]
    application.refresh_from_db()
    while application.state != target:
        state = application.state
        if state not in path or path.index(state) >= path.index(target):
            raise ValueError(f"cannot advance from {state} to {target}")
        if state == State.SUBMITTED:
            application_take(
                user=crew.commerce, application=application, version=application.version
            )
        elif state == State.COMMERCE_REVIEW:
            application_recommend(
                user=crew.commerce,
                application=application,
                amount=amount,
                reason="" if application.measure.kind == "computed" else "测试",
                version=application.version,
            )
        elif state == State.FINANCE_REVIEW:
            application_commit(
                user=crew.finance,
                application=application,
                allocation=allocation or make_allocation(),
                version=application.version,
            )
        elif state == State.PUBLIC_NOTICE:
            publish(application, crew.registrar, days=notice_days, over=True)
            application.refresh_from_db()
            if application.state == State.PUBLIC_NOTICE:
                notice_close(user=crew.registrar, application=application)
        elif state == State.GOVERNMENT_APPROVAL:
            approval_record(
                user=crew.registrar,
                application_ids=[application.pk],
                document_number=f"衡政函〔2026〕{next(_seq)}号",
                document_date=timezone.localdate(),
            )
        application.refresh_from_db()
    return application


def publish(application, registrar, *, days: int = 7, over: bool = False):
    from django.test import override_settings

    with override_settings(PUBLIC_NOTICE_DAYS=days):
        batch = notice_publish(user=registrar, application_ids=[application.pk])
    if over:
        end_notice(application)
    return batch


def end_notice(application: Application) -> None:
    """Let the notice period of the application's open batch be over (as time passing would)."""
    now = timezone.now()
    PublicNoticeBatch.objects.filter(items__application=application, closed_at__isnull=True).update(
        published_at=now - timedelta(days=8), ends_at=now - timedelta(seconds=1)
    )
