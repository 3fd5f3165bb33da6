"""Applications keep the policy version and reference date of their first submission (I-7)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client

from applications import services
from applications.models import Application, Evidence
from applications.workflow import State
from policies.tests.renewal import RENEWAL

from .factories import pdf_bytes

pytestmark = pytest.mark.django_db
BEIJING = ZoneInfo("Asia/Shanghai")


def on(day: date):
    """Travel to noon of `day` in Hengyang."""
    return time_machine.travel(
        datetime(day.year, day.month, day.day, 12, tzinfo=BEIJING), tick=False
    )


def open_draft(member, enterprise, *, year: int, code: str = "M16", **facts) -> Application:
    application = services.application_start(
        user=member, enterprise=enterprise, measure_code=code, year=year
    )
    values = facts or {"social_security_paid_cny": "600000"}
    services.application_autosave(user=member, application=application, values=values)
    for document_type in services.required_documents(application):
        name = default_storage.save("evidence/test/version.pdf", ContentFile(pdf_bytes()))
        Evidence.objects.create(
            application=application,
            document_type=document_type,
            file=name,
            original_name=f"{document_type}.pdf",
            kind="pdf",
            content_type="application/pdf",
            size=len(pdf_bytes()),
            sha256="ab" * 32,
            scan_state=Evidence.ScanState.CLEAN,
            uploaded_by=member,
        )
    application.refresh_from_db()
    return application


def submit(member, application: Application) -> Application:
    application.refresh_from_db()
    return services.application_submit(
        user=member,
        application=application,
        signer_name="王芳",
        declared=True,
        version=application.version,
    )


def test_submission_fixes_the_version_and_the_reference_date(member, enterprise):
    with on(date(2026, 6, 1)):
        application = submit(member, open_draft(member, enterprise, year=2026))
    assert application.reference_date == date(2026, 6, 1)
    assert application.policy.code == "HY-CBEC-2025"
    assert application.estimate["policy"] == "HY-CBEC-2025"
    assert ["M16.rate", "0.10", "2025-03-25"] in application.estimate["parameters_used"]
    assert application.estimate_cny == Decimal("60000.00")


def test_an_application_of_2025_keeps_its_rules_amounts_and_texts_after_the_renewal(
    member, enterprise, renewal
):
    with on(date(2026, 6, 1)):
        application = submit(member, open_draft(member, enterprise, year=2026))
    submitted_trace = application.estimate["trace"]
    with on(date(2027, 4, 2)):
        check = services.application_check(application)
        assert check.result.policy == "HY-CBEC-2025"
        assert check.result.amount_cny == Decimal("60000.00")
        assert [s.to_dict()["text"] for s in check.result.trace] == [
            s["text"] for s in submitted_trace
        ]
        assert services.application_catalogue(application).policy_code == "HY-CBEC-2025"


def test_a_resubmission_after_a_return_keeps_the_first_submission_date(member, enterprise, renewal):
    with on(date(2026, 6, 1)):
        application = submit(member, open_draft(member, enterprise, year=2026))
    Application.objects.filter(pk=application.pk).update(
        state=State.RETURNED, return_fields=["social_security_paid_cny"]
    )
    with on(date(2027, 4, 2)):
        application.refresh_from_db()
        services.application_autosave(
            user=member, application=application, values={"social_security_paid_cny": "500000"}
        )
        application = submit(member, application)
    assert application.state == State.SUBMITTED
    assert application.reference_date == date(2026, 6, 1)
    assert application.policy.code == "HY-CBEC-2025"
    assert application.estimate_cny == Decimal("50000.00")  # 10%, not the renewal's 15%


def test_a_new_application_on_2027_04_01_gets_the_2027_rules(member, enterprise, renewal):
    with on(date(2027, 4, 1)):
        assert services.covered_years() == [2027]
        application = submit(member, open_draft(member, enterprise, year=2027))
    assert application.policy.code == RENEWAL
    assert application.measure.policy.code == RENEWAL
    assert application.reference_date == date(2027, 4, 1)
    assert application.estimate_cny == Decimal("90000.00")


def test_a_submission_between_versions_is_refused_with_the_reason(member, enterprise, renewal):
    with on(date(2027, 3, 20)):
        application = open_draft(member, enterprise, year=2027)
    with on(date(2027, 3, 28)):
        with pytest.raises(services.ApplicationError) as refused:
            submit(member, application)
        assert "2027-03-28" in str(refused.value)
        assert "HY-CBEC-2025" in str(refused.value) and RENEWAL in str(refused.value)
        with pytest.raises(services.ApplicationError):
            services.application_start(
                user=member, enterprise=enterprise, measure_code="M13", year=2027
            )
        assert services.covered_years() == []
    application.refresh_from_db()
    assert application.state == State.DRAFT and application.reference_date is None


def test_a_draft_of_2025_submitted_after_the_renewal_is_assessed_by_the_renewal(
    member, enterprise, renewal
):
    with on(date(2027, 3, 20)):
        application = open_draft(member, enterprise, year=2027)
        assert application.measure.policy.code == "HY-CBEC-2025"
    with on(date(2027, 4, 1)):
        application = submit(member, application)
    assert application.policy.code == RENEWAL
    assert application.measure.policy.code == RENEWAL
    assert application.estimate_cny == Decimal("90000.00")


def test_the_portals_awards_carry_their_components_and_version(member, enterprise):
    facts = {
        "newly_settled_in_recognised_park": "on",
        "leased_area_sqm": "150",
        "cbec_volume_usd": "150000",
        "annual_rent_cny": "200000",
        "startup_costs_cny": "60000",
    }
    with on(date(2026, 6, 1)):
        application = submit(member, open_draft(member, enterprise, year=2026, code="M07", **facts))
    Application.objects.filter(pk=application.pk).update(
        state=State.APPROVED, approved_amount_cny=Decimal("100000.00")
    )
    (award,) = services.prior_awards_for(enterprise.pk)
    assert award.policy == "HY-CBEC-2025"
    # Approved below the computed 110,000: the start-up part is reduced first, rent kept whole.
    assert award.component_amounts == {"rent": Decimal("60000.00"), "startup": Decimal("40000.00")}
    with on(date(2026, 7, 1)):
        second = open_draft(member, enterprise, year=2026, code="M07", **facts)
        check = services.application_check(second)
    # I-9: 100,000 − 60,000 of rent remains; the start-up is one-time (I-3).
    assert check.result.amount_cny == Decimal("40000.00")


def test_between_versions_the_dashboard_says_why_nothing_can_be_filed(
    client, member, password, renewal
):
    with on(date(2027, 3, 28)):
        client.login(username=member.username, password=password)
        html = client.get("/my/").content.decode()
    assert "data-closed" in html and "2027-03-28 没有施行中的政策版本" in html
    assert 'data-measure="M16"' not in html
    later = Client()  # a new visit: the first session ended with the day
    with on(date(2027, 4, 1)):
        later.login(username=member.username, password=password)
        html = later.get("/my/").content.decode()
    assert "政策版本 HY-CBEC-2027。" in html and 'data-measure="M16"' in html
