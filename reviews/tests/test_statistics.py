"""Official statistics (免申即享): imports validated whole, four eyes, supersession, matching."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from applications.workflow import State
from hengyang_cbec.accounts.roles import Role
from hengyang_cbec.audit.models import AuditEvent
from hengyang_cbec.notifications.models import Notification
from reviews.models import Entitlement, StatisticsImport, StatisticsRecord
from reviews.services.entitlements import match
from reviews.services.statistics import (
    StatisticsError,
    StatisticsInvalid,
    import_approve,
    import_create,
    preview,
    template_workbook,
)

from .factories import make_application, make_enterprise, make_member, make_staff


@pytest.fixture(autouse=True)
def _matching_in_process(eager_tasks):
    """Matching runs as a Celery task after an approval; these tests read its result in the same
    process, also when REDIS_URL points at a real broker."""


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "statistics"
DEMO_USCC = "91430400MA4L1A2B3Y"
OTHER_USCC = "91430400MA4QH7R2CL"

pytestmark = pytest.mark.django_db


def sample(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, (FIXTURES / name).read_bytes(), "text/csv")


@pytest.fixture
def importer(catalogue):
    return make_staff(Role.COMMERCE_REVIEWER, "importer")


@pytest.fixture
def approver(catalogue):
    return make_staff(Role.COMMERCE_REVIEWER, "approver")


def customs_rows(changes=None):
    rows = [
        {"uscc": DEMO_USCC, "name": "衡阳湘南跨境贸易有限公司", "year": "2026",
         "export_usd": "1250000", "import_usd": "300000", "customs_office": "衡阳海关"},
        {"uscc": OTHER_USCC, "name": "衡阳南岳山货出口有限公司", "year": "2026",
         "export_usd": "650000", "import_usd": "0", "customs_office": "衡阳海关"},
    ]  # fmt: skip
    for (index, key), value in (changes or {}).items():
        rows[index][key] = value
    return rows


def applied(importer, approver, rows, source="customs", **kwargs) -> StatisticsImport:
    statistics_import = import_create(user=importer, source=source, rows=rows, **kwargs)
    return import_approve(user=approver, statistics_import=statistics_import)


def test_the_sample_customs_file_imports_and_waits_for_a_second_reviewer(importer, approver):
    statistics_import = import_create(
        user=importer, source="customs", upload=sample("customs-cbec-2026.csv")
    )
    assert statistics_import.state == StatisticsImport.State.PENDING
    assert statistics_import.row_count == 5
    assert len(statistics_import.sha256) == 64 and statistics_import.file
    assert not StatisticsRecord.objects.filter(current=True).exists()
    with pytest.raises(StatisticsError, match="may not approve their own"):
        import_approve(user=importer, statistics_import=statistics_import)
    import_approve(user=approver, statistics_import=statistics_import)
    demo = StatisticsRecord.objects.get(uscc=DEMO_USCC, current=True)
    assert (demo.line, demo.export_usd, demo.customs_office) == (
        2,
        Decimal("1250000.00"),
        "衡阳海关",
    )
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"statistics.import", "statistics.approve"} <= actions


def test_a_file_with_one_bad_line_imports_nothing_and_names_the_line(importer):
    text = (FIXTURES / "customs-cbec-2026.csv").read_text(encoding="utf-8")
    bad = text.replace("91430406MA7K2N5P3H", "91430406MA7K2N5P3J")  # wrong check character
    upload = SimpleUploadedFile("bad.csv", bad.encode("utf-8"), "text/csv")
    with pytest.raises(StatisticsInvalid) as caught:
        import_create(user=importer, source="customs", upload=upload)
    assert [e.line for e in caught.value.errors] == [5]
    assert "check character" in str(caught.value.errors[0])
    assert not StatisticsImport.objects.exists()
    assert not StatisticsRecord.objects.exists()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({(1, "export_usd"): "-5"}, "may not be negative"),
        ({(1, "export_usd"): "1e9"}, "at most two decimals"),
        ({(1, "export_usd"): "500000000000"}, "implausibly large"),
        ({(1, "year"): "2031"}, "must be a year"),
        ({(1, "uscc"): DEMO_USCC}, "same credit code and year as line 2"),
        ({(1, "name"): ""}, "missing"),
    ],
    ids=["negative", "exponent", "absurd", "future-year", "duplicate", "missing-name"],
)
def test_bad_values_are_refused_by_line(importer, change, expected):
    with pytest.raises(StatisticsInvalid) as caught:
        import_create(user=importer, source="customs", rows=customs_rows(change))
    assert caught.value.errors[0].line == 3
    assert expected in str(caught.value.errors[0])
    assert not StatisticsImport.objects.exists()


def test_preview_shows_new_changed_and_unchanged_with_the_differences(importer, approver):
    applied(importer, approver, customs_rows())
    correction = import_create(
        user=importer, source="customs", rows=customs_rows({(0, "export_usd"): "1300000"})
    )
    result = preview(correction)
    assert (result.new, result.changed, result.unchanged) == (0, 1, 1)
    changed = next(line for line in result.lines if line.change == "changed")
    assert changed.uscc == DEMO_USCC
    assert [(str(old), str(new)) for _label, old, new in changed.differences] == [
        ("1250000.00", "1300000.00")
    ]


def test_a_correction_supersedes_and_keeps_the_history(importer, approver):
    first = applied(importer, approver, customs_rows())
    original = StatisticsRecord.objects.get(statistics_import=first, uscc=DEMO_USCC)
    second = applied(importer, approver, customs_rows({(0, "export_usd"): "400000"}))
    original.refresh_from_db()
    replacement = StatisticsRecord.objects.get(statistics_import=second, uscc=DEMO_USCC)
    assert not original.current and original.superseded_by == replacement
    assert replacement.current and replacement.export_usd == Decimal("400000.00")
    # The unchanged line stays with its first record.
    assert StatisticsRecord.objects.get(uscc=OTHER_USCC, current=True).statistics_import == first
    assert second.summary == {"new": 0, "changed": 1, "unchanged": 1}


def test_matching_offers_m05_with_a_trace_citing_clause_and_import_line(importer, approver):
    enterprise = make_enterprise("衡阳湘南跨境贸易有限公司", uscc=DEMO_USCC)
    make_member(enterprise, "applicant-a")
    statistics_import = applied(importer, approver, customs_rows())
    match()
    entitlement = Entitlement.objects.get(uscc=DEMO_USCC, measure__code="M05")
    assert entitlement.status == Entitlement.Status.OFFERED
    assert entitlement.enterprise == enterprise
    assert entitlement.amount_cny == Decimal("500000.00")
    texts = [step["text_zh"] for step in entitlement.result_zh["trace"]]
    clauses = {step["clause"] for step in entitlement.result_zh["trace"]}
    assert "II(3)5" in clauses
    assert any(f"导入第 {statistics_import.pk} 号第 2 行" in text for text in texts), texts
    assert entitlement.sourced_facts["cbec_export_volume_usd"]["line"] == 2
    # The unregistered enterprise waits for registration; M08 needs more than USD 50 million.
    waiting = Entitlement.objects.get(uscc=OTHER_USCC, measure__code="M05")
    assert waiting.enterprise is None and waiting.amount_cny == Decimal("100000.00")
    assert not Entitlement.objects.filter(measure__code="M08").exists()
    message = Notification.objects.get(user__username="applicant-a").message_zh
    assert "依据海关统计，贵单位 2026 年可享受 M05 奖励 500,000.00 元" in message


def test_matching_twice_changes_nothing(importer, approver):
    make_enterprise(uscc=DEMO_USCC)
    applied(importer, approver, customs_rows())
    match()
    before = list(Entitlement.objects.values_list("pk", "assessed_at", "fingerprint"))
    report = match()
    assert report.offered == report.updated == report.expired == 0
    assert report.unchanged == 2
    assert list(Entitlement.objects.values_list("pk", "assessed_at", "fingerprint")) == before


def test_a_correction_reassesses_exactly_the_entitlements_it_touches(
    importer, approver, django_capture_on_commit_callbacks
):
    make_enterprise(uscc=DEMO_USCC)
    applied(importer, approver, customs_rows())
    match()
    untouched = Entitlement.objects.get(uscc=OTHER_USCC)
    with django_capture_on_commit_callbacks(execute=True):
        applied(importer, approver, customs_rows({(0, "export_usd"): "400000"}))
    touched = Entitlement.objects.get(uscc=DEMO_USCC)
    assert touched.amount_cny == Decimal("20000.00")
    assert touched.reassessed == 1 and touched.status == Entitlement.Status.OFFERED
    after = Entitlement.objects.get(uscc=OTHER_USCC)
    assert (after.assessed_at, after.reassessed) == (untouched.assessed_at, 0)


def test_prior_awards_hold_one_time_rules_and_claimed_measures_get_no_offer(importer, approver):
    enterprise = make_enterprise(uscc=DEMO_USCC)
    make_application(enterprise=enterprise, code="M05", year=2025, state=State.APPROVED)
    enterprise.applications.update(approved_amount_cny=Decimal("20000.00"))
    applied(importer, approver, customs_rows())
    match()
    assert not Entitlement.objects.filter(uscc=DEMO_USCC, measure__code="M05").exists()


def test_social_security_contributions_offer_m16(importer, approver):
    make_enterprise(uscc=DEMO_USCC)
    applied(importer, approver, customs_rows())
    applied(
        importer,
        approver,
        [{"uscc": DEMO_USCC, "year": 2026, "contributions_cny": "520000"}],
        source="social_security",
    )
    match()
    entitlement = Entitlement.objects.get(uscc=DEMO_USCC, measure__code="M16")
    assert entitlement.amount_cny == Decimal("52000.00")
    assert set(entitlement.sourced_facts) >= {"social_security_paid_cny"}


def test_the_template_is_a_workbook_with_the_columns_and_their_notes():
    import io

    import openpyxl

    workbook = openpyxl.load_workbook(io.BytesIO(template_workbook("customs")))
    header = [cell.value for cell in workbook.worksheets[0][1]]
    assert header[0] == "Unified social credit code" and len(header) == 6
    assert workbook.worksheets[1].max_row >= 7


def test_of_an_overlap_group_only_the_better_measure_is_offered(importer, approver):
    """I-6: M05 and M08 reward the same volume; the larger of the two is offered."""
    rows = customs_rows({(0, "export_usd"): "80000000", (0, "import_usd"): "40000000"})
    applied(importer, approver, rows)
    match()
    offered = Entitlement.objects.filter(uscc=DEMO_USCC, status=Entitlement.Status.OFFERED)
    assert [(e.measure.code, e.amount_cny) for e in offered] == [("M08", Decimal("1000000.00"))]
    assert Entitlement.objects.get(uscc=DEMO_USCC, measure__code="M08").open_facts == [
        "introduced_this_year"
    ]
    assert match().offered == 0  # still idempotent


def test_registering_with_an_invited_credit_code_binds_the_entitlement(
    importer, approver, django_capture_on_commit_callbacks
):
    from applications.enterprises import enterprise_register
    from applications.models import Enterprise
    from applications.tests.factories import claim_documents
    from policies.models import Place
    from tests.factories import make_user

    applied(importer, approver, customs_rows())
    match()
    waiting = Entitlement.objects.get(uscc=OTHER_USCC)
    assert waiting.enterprise is None
    user = make_user(Role.APPLICANT, username="invited")
    data = {
        "name": "衡阳南岳山货出口有限公司",
        "entity_type": "enterprise",
        "district": Place.objects.first(),
        "registered_address": "衡阳市南岳区",
        "legal_representative": "刘一",
        "contact_name": "刘二",
        "contact_phone": "13800000001",
        "bank_name": "中国银行衡阳分行",
        "bank_account": "62170000000000000001",
        "customs_code": "",
        **dict.fromkeys(Enterprise.GENERAL_FACTS, True),
    }
    with django_capture_on_commit_callbacks(execute=True):
        claim = enterprise_register(
            user=user, uscc=OTHER_USCC, data=data, documents=claim_documents()
        )
    enterprise = claim.enterprise
    waiting.refresh_from_db()
    assert waiting.enterprise == enterprise and waiting.status == Entitlement.Status.OFFERED
    assert "M05" in Notification.objects.get(user=user).message_zh


def test_a_zero_is_kept_as_zero_and_an_api_may_send_numbers(importer, approver):
    rows = customs_rows({(1, "import_usd"): Decimal("0E-2"), (1, "export_usd"): 650000})
    applied(importer, approver, rows)
    record = StatisticsRecord.objects.get(uscc=OTHER_USCC, current=True)
    assert (record.import_usd, record.export_usd) == (Decimal("0.00"), Decimal("650000.00"))


def test_the_staff_lists_keep_a_constant_number_of_queries(
    importer, approver, client, django_assert_max_num_queries
):
    from django.urls import reverse

    from .factories import make_uscc

    client.force_login(approver)
    applied(importer, approver, customs_rows())
    match()
    with django_assert_max_num_queries(25):
        client.get(reverse("reviews:entitlements"))
    rows = [
        {"uscc": make_uscc(900 + n), "name": f"企业{n}", "year": 2026,
         "export_usd": "650000", "import_usd": "0"}
        for n in range(30)
    ]  # fmt: skip
    applied(importer, approver, rows)
    match()
    assert Entitlement.objects.count() > 30
    with django_assert_max_num_queries(25):
        page = client.get(reverse("reviews:entitlements")).content.decode()
    assert page.count("data-entitlement=") > 30
    with django_assert_max_num_queries(25):
        client.get(reverse("reviews:statistics"))
