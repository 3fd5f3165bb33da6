"""The bureau assesses an application with its own policy version and reference date (I-7)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from applications.models import Application
from applications.workflow import State
from policies.changes import add_parameter_value
from policies.models import Parameter
from reviews import pdf
from reviews.models import Assessment, Notice
from reviews.services.assessment import review_warnings
from reviews.services.review import application_take, review_save_facts
from reviews.services.steps import ReviewError

from .factories import Crew, advance, make_application

pytestmark = pytest.mark.django_db

FILED = date(2026, 6, 1)
M16 = {"social_security_paid_cny": "600000"}


@pytest.fixture
def m16(enterprise, member, catalogue) -> Application:
    """An M16 application filed on 2026-06-01 under HY-CBEC-2025: 10% of CNY 600,000."""
    application = make_application(enterprise=enterprise, submitter=member, code="M16", facts=M16)
    Application.objects.filter(pk=application.pk).update(
        reference_date=FILED, policy=application.measure.policy
    )
    application.refresh_from_db()
    return application


@pytest.fixture
def later_rate(m16, django_capture_on_commit_callbacks):
    """The M16 rate rises to 12% from 2026-09-01, after the application was filed."""
    with django_capture_on_commit_callbacks(execute=True):
        add_parameter_value(
            parameter=Parameter.objects.get(policy__code="HY-CBEC-2025", key="M16.rate"),
            value_text="0.12",
            effective_from=date(2026, 9, 1),
        )


def test_the_review_page_assesses_on_the_reference_date_and_links_the_interpretations(
    client, m16, later_rate, password
):
    crew = Crew()
    client.login(username=crew.commerce.username, password=password)
    html = client.get(f"/staff/applications/{m16.pk}/").content.decode()
    assert 'data-cap="60000.00"' in html  # 10% as on 2026-06-01, not today's 12%
    assert "<span data-result-policy>HY-CBEC-2025</span>" in html
    assert "<span data-reference-date>2026-06-01</span>" in html
    assert 'data-interpretation="I-7" href="/interpretations/?version=HY-CBEC-2025#I-7"' in html


def test_the_finance_commit_uses_the_reference_date(m16, later_rate, allocation):
    crew = Crew()
    advance(m16, State.PUBLIC_NOTICE, crew=crew, amount="60000", allocation=allocation)
    commit = Assessment.objects.filter(application=m16).order_by("-created_at", "-id").first()
    assert commit.on_date == FILED
    assert commit.amount_cny == Decimal("60000.00")
    assert commit.result_zh["policy"] == "HY-CBEC-2025"


def test_another_date_only_explicitly_with_a_reason_that_the_trace_shows(
    client, m16, later_rate, password
):
    crew = Crew()
    application_take(user=crew.commerce, application=m16, version=m16.version)
    m16.refresh_from_db()
    today = timezone.localdate()
    with pytest.raises(ReviewError, match="reason"):
        review_save_facts(
            user=crew.commerce, application=m16, facts=M16, version=m16.version, on_date=today
        )
    assessment = review_save_facts(
        user=crew.commerce,
        application=m16,
        facts=M16,
        version=m16.version,
        on_date=today,
        reason="申报人书面申请按新比例复核",
    )
    assert assessment.on_date == today and assessment.amount_cny == Decimal("72000.00")
    texts = [step["text_en"] for step in assessment.result_zh["trace"]]
    assert any(
        f"explicitly assessed on {today} instead of the application's reference date 2026-06-01"
        in text
        and "申报人书面申请按新比例复核" in text
        for text in texts
    )
    client.login(username=crew.commerce.username, password=password)
    html = client.get(f"/staff/applications/{m16.pk}/").content.decode()
    assert f'data-reasoned-assessment="{assessment.pk}"' in html
    assert 'data-cap="60000.00"' in html  # the page itself stays on the reference date


def test_a_verified_loan_prime_rate_needs_a_reason(enterprise, member, catalogue):
    facts = {
        "premium_cny": "0",
        "small_micro": False,
        "insured_via_single_window": False,
        "loan_principal_cny": "1000000",
        "loan_interest_paid_cny": "40000",
        "loan_days": 365,
    }
    application = make_application(enterprise=enterprise, submitter=member, code="M12", facts=facts)
    crew = Crew()
    application_take(user=crew.commerce, application=application, version=application.version)
    application.refresh_from_db()
    verified = {**facts, "lpr_rate": "0.0350"}
    with pytest.raises(ReviewError, match="loan prime rate"):
        review_save_facts(
            user=crew.commerce, application=application, facts=verified, version=application.version
        )
    assessment = review_save_facts(
        user=crew.commerce,
        application=application,
        facts=verified,
        version=application.version,
        reason="贷款合同约定利率，经银行证明",
    )
    assert assessment.amount_cny == Decimal("7000.00")
    assert any("贷款合同约定利率" in s["text_zh"] for s in assessment.result_zh["trace"])


def test_the_notice_cites_its_interpretations_with_a_link(m16, allocation, settings):
    settings.NOTICE_PUBLIC_URL = "https://notices.example.gov.cn"
    crew = Crew()
    advance(m16, State.APPROVED, crew=crew, amount="60000", allocation=allocation)
    notice = Notice.objects.get(application=m16)
    context = pdf.notice_context(notice, "zh")
    assert "I-7" in context["cited"] and "I-5" in context["cited"]
    assert context["interpretations_url"] == (
        "https://notices.example.gov.cn/interpretations/?version=HY-CBEC-2025"
    )
    html = pdf.render_html(notice, "zh")
    assert "所引解释（I-5、I-7、I-8）全文见" in html
    m16.refresh_from_db()
    assert m16.approved_components == {"subsidy": "60000.00"}


def test_a_same_year_m04_award_is_a_warning(enterprise, member, catalogue):
    facts = {"eligible_expenditure_cny": "600000"}
    earlier = make_application(enterprise=enterprise, submitter=member, code="M04", facts=facts)
    Application.objects.filter(pk=earlier.pk).update(
        state=State.APPROVED, approved_amount_cny=Decimal("300000.00")
    )
    second = make_application(enterprise=enterprise, submitter=member, code="M04", facts=facts)
    warnings = review_warnings(second)
    (warning,) = [w for w in warnings if w.code == "per_project"]
    assert "I-11" in warning.text and earlier.reference in warning.text
