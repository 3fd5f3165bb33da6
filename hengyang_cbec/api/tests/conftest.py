"""Keys of every kind, a confirmed disbursement batch, and rate limits switched off by default."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from applications.workflow import State
from hengyang_cbec.accounts.roles import Role
from hengyang_cbec.api import keys
from hengyang_cbec.api.models import ApiKey, Scope
from reviews.models import Award
from reviews.services import finance
from reviews.tests.factories import (
    Crew,
    advance,
    make_application,
    make_enterprise,
    make_member,
    make_staff,
)


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    """Rate limits off unless a test turns one on (the counters are shared by all tests)."""
    limits = copy.deepcopy(settings.RATE_LIMITS)
    for name in ("api_public", "api_assess", "api_key", "verify_notice"):
        limits[name] = {"address": "", "account": ""}
    settings.RATE_LIMITS = limits
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def security_admin(db):
    return make_staff(Role.SECURITY_ADMINISTRATOR, "security")


def new_key(admin, *scopes: str, name: str = "省政务服务平台") -> tuple[ApiKey, str]:
    return keys.key_create(user=admin, name=name, scopes=list(scopes), days=30)


@pytest.fixture
def make_key(security_admin):
    def _make(*scopes: str, state: str = "active", name: str = "省政务服务平台") -> str:
        if list(scopes) == [Scope.READ_OWN_APPLICATIONS]:
            enterprise = make_enterprise()
            key, secret = keys.token_create(user=make_member(enterprise), days=30)
        else:
            key, secret = new_key(security_admin, *scopes, name=name)
        if state == "expired":
            ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(1))
        elif state == "revoked":
            keys.key_revoke(user=security_admin, key=key, reason="测试吊销")
        return secret

    return _make


@pytest.fixture
def officers(db):
    return (
        make_staff(Role.DISBURSEMENT_OFFICER, "maker"),
        make_staff(Role.DISBURSEMENT_OFFICER, "checker"),
    )


@pytest.fixture
def confirmed_batch(catalogue, officers):
    """A confirmed batch with one CNY 100,000.00 line of an approved M05 application."""
    enterprise = make_enterprise("衡阳湘南跨境贸易有限公司", bank_account="6222020000012345678")
    application = make_application(enterprise=enterprise, submitter=make_member(enterprise))
    advance(application, State.APPROVED, crew=Crew(), amount="100000")
    award = Award.objects.get(application=application, status=Award.Status.FIXED)
    batch = finance.batch_create(user=officers[0], award_ids=[award.pk])
    return finance.batch_confirm(user=officers[1], batch=batch)


ALL_SCOPES = list(Scope.values)
SYSTEM_SCOPES = [s for s in ALL_SCOPES if s != Scope.READ_OWN_APPLICATIONS]


def ready_notice(award: Award, *, sha256_zh: str = "a" * 64, sha256_en: str = "b" * 64):
    """The award's approval notice as a worker leaves it once rendered (files named, hashed)."""
    from reviews.models import Notice
    from reviews.services.notices import notice_issue

    notice = Notice.objects.filter(award=award).first() or notice_issue(award=award)
    Notice.objects.filter(pk=notice.pk).update(
        status=Notice.Status.READY,
        file_zh="notices/test-zh.pdf",
        sha256_zh=sha256_zh,
        file_en="notices/test-en.pdf",
        sha256_en=sha256_en,
        ready_at=timezone.now(),
    )
    notice.refresh_from_db()
    return notice


def key_of(secret: str) -> ApiKey:
    return ApiKey.objects.get(prefix=secret.split("_")[1])
