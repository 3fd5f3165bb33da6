"""An approval notice prints what was decided when it was issued: a later change to the award,
its fund source, its approval document or its assessment never changes the notice."""

from __future__ import annotations

import importlib
from decimal import Decimal

import pytest
from django.apps import apps

from applications.workflow import State
from policies.models import FundSource
from reviews import pdf
from reviews.models import Award, Notice

from .factories import advance

pytestmark = pytest.mark.django_db

REASON = "经核定，按实际出口额的百分之八十给予支持"


@pytest.fixture
def issued(submitted, crew, django_capture_on_commit_callbacks):
    """A notice issued for an award below its cap (so the reason is printed), not yet rendered."""
    advance(submitted, State.GOVERNMENT_APPROVAL, crew=crew)
    Award.objects.filter(application=submitted).update(cap_cny=Decimal("200000.00"), reason=REASON)
    with django_capture_on_commit_callbacks(execute=False):
        advance(submitted, State.APPROVED, crew=crew)
    return Notice.objects.get(application=submitted)


def _change_the_award_afterwards(notice: Notice) -> None:
    award = Award.objects.select_related("approval_batch", "assessment").get(pk=notice.award_id)
    other_fund = FundSource.objects.exclude(pk=award.fund_source_id).first()
    Award.objects.filter(pk=award.pk).update(
        cap_cny=Decimal("100000.00"), reason="改过的理由", fund_source=other_fund
    )
    batch = award.approval_batch
    batch.document_number = "衡政函〔2099〕1号"
    batch.save(update_fields=["document_number"])
    assessment = award.assessment
    for field in ("result_zh", "result_en"):
        result = getattr(assessment, field)
        result["trace"] = [{"clause": "X", "text": "改过的依据", "text_zh": "改过的依据"}]
        result["policy"] = "HY-CBEC-2099"
        setattr(assessment, field, result)
    assessment.save(update_fields=["result_zh", "result_en"])


@pytest.mark.parametrize("language", ["zh", "en"])
def test_changing_the_award_afterwards_does_not_change_the_printed_notice(issued, language):
    award = Award.objects.select_related("approval_batch", "fund_source").get(pk=issued.award_id)
    before = pdf.render_html(Notice.objects.get(pk=issued.pk), language)
    assert REASON in before
    assert award.approval_batch.document_number in before
    fund = award.fund_source.name_en if language == "en" else award.fund_source.name_zh
    assert fund in before
    assert "200,000.00" in before

    _change_the_award_afterwards(issued)

    after = pdf.render_html(Notice.objects.get(pk=issued.pk), language)
    assert after == before
    assert "改过的" not in after and "2099" not in after


def test_the_migration_freezes_what_existing_notices_print(issued):
    """Notices issued before the frozen fields existed get them from their award."""
    award = Award.objects.select_related("approval_batch", "fund_source").get(pk=issued.award_id)
    printed = {
        lang: pdf.render_html(Notice.objects.get(pk=issued.pk), lang) for lang in ("zh", "en")
    }
    Notice.objects.filter(pk=issued.pk).update(
        cap_cny=None,
        reason="",
        fund_source_zh="",
        fund_source_en="",
        approval_number="",
        approval_date=None,
        trace_zh=[],
        trace_en=[],
        policy_code="",
    )
    migration = importlib.import_module("reviews.migrations.0009_notice_frozen_award")
    migration.freeze_existing(apps, None)
    notice = Notice.objects.get(pk=issued.pk)
    assert notice.cap_cny == Decimal("200000.00") and notice.reason == REASON
    assert notice.fund_source_zh == award.fund_source.name_zh
    assert notice.approval_number == award.approval_batch.document_number
    assert notice.approval_date == award.approval_batch.document_date
    assert notice.trace_zh and notice.policy_code == "HY-CBEC-2025"
    for lang, html in printed.items():
        assert pdf.render_html(notice, lang) == html
