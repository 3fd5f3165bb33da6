"""免申即享 from the enterprise's click to the reviewer's page: sourced facts filled, locked and
shown with their provenance; only the declaration and two documents are asked for."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from applications import services as applicant_services
from applications.entitlements import entitlement_confirm, entitlement_decline
from applications.forms import application_form
from applications.services import ApplicationError, required_documents
from applications.workflow import State
from hengyang_cbec.accounts.roles import Role
from hengyang_cbec.audit.models import AuditEvent
from reviews.models import Entitlement
from reviews.services.entitlements import match
from reviews.services.review import application_take
from reviews.services.statistics import import_approve, import_create

from .factories import add_evidence, make_enterprise, make_member, make_staff


@pytest.fixture(autouse=True)
def _matching_in_process(eager_tasks):
    """Matching runs as a Celery task after an approval; these tests read its result in the same
    process, also when REDIS_URL points at a real broker."""


pytestmark = pytest.mark.django_db
USCC = "91430400MA4L1A2B3Y"


@pytest.fixture
def offered(catalogue):
    enterprise = make_enterprise("衡阳湘南跨境贸易有限公司", uscc=USCC)
    applicant = make_member(enterprise, "applicant-flow")
    importer = make_staff(Role.COMMERCE_REVIEWER, "importer-flow")
    approver = make_staff(Role.COMMERCE_REVIEWER, "approver-flow")
    rows = [
        {"uscc": USCC, "name": enterprise.name, "year": 2026, "export_usd": "1250000",
         "import_usd": "300000", "customs_office": "衡阳海关"},
    ]  # fmt: skip
    statistics_import = import_create(user=importer, source="customs", rows=rows)
    import_approve(user=approver, statistics_import=statistics_import)
    match()
    return Entitlement.objects.get(uscc=USCC, measure__code="M05"), applicant


def test_confirming_opens_an_application_with_the_sourced_facts_locked(offered):
    entitlement, applicant = offered
    application = entitlement_confirm(user=applicant, entitlement=entitlement)
    assert application.draft_facts["cbec_export_volume_usd"] == "1250000.00"
    assert application.sourced_facts["cbec_export_volume_usd"]["line"] == 2
    form = application_form(application)
    assert form.fields["cbec_export_volume_usd"].disabled
    assert not form.fields["had_cbec_exports_before"].disabled
    # Typing over a sourced figure changes nothing.
    applicant_services.application_autosave(
        user=applicant, application=application, values={"cbec_export_volume_usd": "1"}
    )
    application.refresh_from_db()
    assert application.draft_facts["cbec_export_volume_usd"] == "1250000.00"
    assert required_documents(application) == ["credit_commitment_letter", "bank_account_proof"]
    entitlement.refresh_from_db()
    assert entitlement.status == Entitlement.Status.CONFIRMED
    assert entitlement.application == application


def test_the_enterprise_submits_with_only_the_declaration_and_two_documents(offered, client):
    entitlement, applicant = offered
    application = entitlement_confirm(user=applicant, entitlement=entitlement)
    application = applicant_services.application_autosave(
        user=applicant, application=application, values={"had_cbec_exports_before": "no"}
    )
    for document_type in ("credit_commitment_letter", "bank_account_proof"):
        add_evidence(application, document_type=document_type, frozen=False, sha256="c1" * 32)
    submitted = applicant_services.application_submit(
        user=applicant,
        application=application,
        signer_name="王芳",
        declared=True,
        version=application.version,
    )
    assert submitted.state == State.SUBMITTED
    assert submitted.estimate_cny == Decimal("500000.00")
    reviewer = make_staff(Role.COMMERCE_REVIEWER, "reviewer-flow")
    application_take(user=reviewer, application=submitted, version=submitted.version)
    client.force_login(reviewer)
    page = client.get(reverse("reviews:review_detail", args=[submitted.pk]))
    text = page.content.decode()
    assert 'data-provenance="cbec_export_volume_usd"' in text
    number = entitlement.sourced_facts["cbec_export_volume_usd"]["import"]
    assert f"导入第 {number} 号第 2 行" in text
    assert "data-proactive" in text


def test_declining_needs_a_reason_and_is_kept(offered):
    entitlement, applicant = offered
    with pytest.raises(ApplicationError):
        entitlement_decline(user=applicant, entitlement=entitlement, reason=" ")
    entitlement_decline(user=applicant, entitlement=entitlement, reason="已另行申报")
    entitlement.refresh_from_db()
    assert (entitlement.status, entitlement.decline_reason) == ("declined", "已另行申报")
    assert AuditEvent.objects.filter(action="entitlement.decline").exists()
    # Matching again does not offer it again.
    match()
    entitlement.refresh_from_db()
    assert entitlement.status == Entitlement.Status.DECLINED


def test_another_enterprise_cannot_confirm(offered):
    entitlement, _applicant = offered
    outsider = make_member(make_enterprise(), "outsider-flow")
    with pytest.raises(ApplicationError):
        entitlement_confirm(user=outsider, entitlement=entitlement)


def test_the_dashboard_lists_the_offer_with_its_amount(offered, client):
    entitlement, applicant = offered
    client.force_login(applicant)
    text = client.get(reverse("applications:dashboard")).content.decode()
    assert f'data-entitlement="{entitlement.pk}"' in text
    assert "500,000.00 元" in text


def test_staff_pages_answer(offered, client):
    reviewer = make_staff(Role.COMMERCE_REVIEWER, "reader-flow")
    client.force_login(reviewer)
    for url in (
        reverse("reviews:statistics"),
        reverse("reviews:entitlements"),
        reverse("reviews:entitlements") + "?registered=no",
        reverse("reviews:statistics_detail", args=[1]),
        reverse("reviews:statistics_template", args=["customs"]),
    ):
        response = client.get(url)
        assert response.status_code in (200, 404), url
    assert client.get(reverse("reviews:statistics_template", args=["x"])).status_code == 404


def test_the_queue_filters_proactive_applications_with_a_shorter_target(
    offered, client, settings, django_assert_max_num_queries
):
    from django.utils import timezone

    from .factories import make_application

    entitlement, applicant = offered
    application = entitlement_confirm(user=applicant, entitlement=entitlement)
    application.state = State.SUBMITTED
    application.submitted_at = timezone.now() - timezone.timedelta(days=7)
    application.reference = "HY-CBEC-2026-990001"
    application.save(update_fields=["state", "submitted_at", "reference"])
    other = make_application(enterprise=make_enterprise(), submitted_days_ago=7)
    reviewer = make_staff(Role.COMMERCE_REVIEWER, "queue-flow")
    client.force_login(reviewer)
    settings.PROACTIVE_REVIEW_TARGET_DAYS = 5
    page = client.get(reverse("reviews:commerce_queue") + "?proactive=yes").content.decode()
    assert f'data-application="{application.pk}" class="table-warning"' in page
    assert f'data-application="{other.pk}"' not in page
    with django_assert_max_num_queries(30):
        page = client.get(reverse("reviews:commerce_queue")).content.decode()
    # Seven days is late for 免申即享 (target 5) but not for an ordinary application (20).
    assert f'data-application="{other.pk}" class="table-warning"' not in page
    assert f'data-application="{other.pk}"' in page


STATISTICS_READ = {"commerce": 200, "finance": 200, "auditor": 200}
# (name, method, args, expected by persona); unnamed personas get 403, anonymous 302.
STATISTICS_MATRIX = [
    ("statistics", "get", None, STATISTICS_READ),
    ("statistics_detail", "get", "import", STATISTICS_READ),
    ("statistics_approve", "post", "import", {"commerce": 302}),
    ("statistics_reject", "post", "import", {"commerce": 302}),
    ("statistics_file", "get", "import", {"commerce": 200, "finance": 200, "auditor": 200}),
    ("statistics_template", "get", "customs", STATISTICS_READ),
    ("entitlements", "get", None, STATISTICS_READ),
    ("entitlement_match", "post", None, {"commerce": 302}),
    ("dispute_source", "post", "application", {"commerce": 302}),
    ("forecast", "get", None, STATISTICS_READ),
    ("forecast_export", "get", None, STATISTICS_READ),
]
PERSONAS = ("anonymous", "applicant", "commerce", "finance", "registrar", "auditor")


def test_every_statistics_url_is_in_its_matrix():
    from reviews.urls import urlpatterns
    from reviews.views import forecast, statistics

    own = (statistics.__name__, forecast.__name__)
    names = {p.name for p in urlpatterns if p.callback.__module__ in own}
    assert names == {name for name, *_rest in STATISTICS_MATRIX}


@pytest.mark.parametrize(
    ("name", "method", "arg", "allowed"), STATISTICS_MATRIX, ids=[m[0] for m in STATISTICS_MATRIX]
)
def test_statistics_permission_matrix(client, offered, name, method, arg, allowed):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from reviews.models import StatisticsImport
    from tests.factories import make_user

    from .factories import make_application

    entitlement, applicant = offered
    importer = StatisticsImport.objects.get().imported_by
    upload = SimpleUploadedFile(
        "s.csv",
        "统一社会信用代码,年度,缴纳社会保险费（元）\n%s,2026,1000\n".encode() % USCC.encode(),
    )
    pending = import_create(user=importer, source="social_security", upload=upload)
    args = {
        None: [],
        "import": [pending.pk],
        "customs": ["customs"],
        "application": [make_application(enterprise=entitlement.enterprise).pk],
    }[arg]
    users = {
        "anonymous": None,
        "applicant": applicant,
        "commerce": make_staff(Role.COMMERCE_REVIEWER, "matrix-commerce"),
        "finance": make_staff(Role.FINANCE_REVIEWER, "matrix-finance"),
        "registrar": make_staff(Role.APPROVAL_REGISTRAR, "matrix-registrar"),
        "auditor": make_user(Role.AUDITOR, username="matrix-auditor"),
    }
    wrong = []
    for persona in PERSONAS:
        client.logout()
        if users[persona] is not None:
            client.force_login(users[persona])
        expected = allowed.get(persona, 302 if persona == "anonymous" else 403)
        response = getattr(client, method)(reverse(f"reviews:{name}", args=args))
        if response.status_code != expected:
            wrong.append(f"{persona}: {response.status_code} (expected {expected})")
    assert not wrong, f"{name}: " + "; ".join(wrong)


def test_the_forecast_sets_entitlements_against_the_budget(offered, client):
    import io

    import openpyxl

    from reviews.services.forecast import forecast

    from .factories import make_allocation

    entitlement, applicant = offered
    make_allocation("300000")
    tables = forecast(2026)
    measure = next(row for row in tables["by_measure"] if row["measure__code"] == "M05")
    assert (measure["offered"], measure["offered_cny"]) == (1, Decimal("500000.00"))
    year = tables["by_year"][0]
    assert (year["potential_cny"], year["remaining"], year["shortfall"]) == (
        Decimal("500000.00"),
        Decimal("300000.00"),
        Decimal("200000.00"),
    )
    entitlement_decline(user=applicant, entitlement=entitlement, reason="不需要")
    assert forecast(2026)["by_year"][0]["shortfall"] == Decimal("0.00")
    client.force_login(make_staff(Role.FINANCE_REVIEWER, "forecast-finance"))
    page = client.get(reverse("reviews:forecast")).content.decode()
    assert "<svg" in page and 'data-measure="M05"' in page
    workbook = openpyxl.load_workbook(
        io.BytesIO(b"".join(client.get(reverse("reviews:forecast_export")).streaming_content))
    )
    values = [cell.value for cell in workbook.active[2]]
    assert values[:3] == [2026, "M05", "当年统筹预算"]


def test_a_correction_reaches_a_confirmed_draft_and_is_recorded(
    offered, django_capture_on_commit_callbacks
):
    from reviews.models import StatisticsImport

    entitlement, applicant = offered
    application = entitlement_confirm(user=applicant, entitlement=entitlement)
    first = StatisticsImport.objects.get()
    rows = [
        {"uscc": USCC, "name": "衡阳湘南跨境贸易有限公司", "year": 2026, "export_usd": "1300000",
         "import_usd": "300000", "customs_office": "衡阳海关"},
    ]  # fmt: skip
    correction = import_create(user=first.imported_by, source="customs", rows=rows, corrects=first)
    with django_capture_on_commit_callbacks(execute=True):
        import_approve(user=first.approved_by, statistics_import=correction)
    application.refresh_from_db()
    assert application.draft_facts["cbec_export_volume_usd"] == "1300000.00"
    assert application.sourced_facts["cbec_export_volume_usd"]["import"] == correction.pk
    event = AuditEvent.objects.get(action="entitlement.source_changed")
    assert event.application_id == application.pk
    assert event.data["changes"]["cbec_export_volume_usd"] == ["1250000.00", "1300000.00"]
