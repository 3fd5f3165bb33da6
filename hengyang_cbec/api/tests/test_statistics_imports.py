"""Statistics sent by customs or the social-security agency through the API: the same checks as a
file, a proposal until a commerce reviewer approves it on the statistics pages."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.urls import reverse

from hengyang_cbec.accounts.roles import Role
from hengyang_cbec.api.models import Scope
from hengyang_cbec.audit.models import AuditEvent
from reviews.models import Entitlement, StatisticsImport, StatisticsRecord, StatisticsSource
from reviews.services.statistics import StatisticsError, import_approve
from reviews.tests.factories import make_enterprise, make_staff
from tests.factories import make_user

from .conftest import key_of, new_key


@pytest.fixture(autouse=True)
def _matching_in_process(eager_tasks):
    """Matching runs as a Celery task after an approval; these tests read its result in the same
    process, also when REDIS_URL points at a real broker."""


pytestmark = pytest.mark.django_db

URL = "/api/v1/statistics/imports"
DEMO_USCC = "91430400MA4L1A2B3Y"
OTHER_USCC = "91430400MA4QH7R2CL"


def rows():
    return [
        {"uscc": DEMO_USCC, "name": "衡阳湘南跨境贸易有限公司", "year": "2026",
         "export_usd": "1250000", "import_usd": "300000", "customs_office": "衡阳海关"},
        {"uscc": OTHER_USCC, "name": "衡阳南岳山货出口有限公司", "year": 2026,
         "export_usd": "650000.5", "import_usd": "0", "customs_office": "衡阳海关"},
    ]  # fmt: skip


def send(client, secret, body, **headers):
    return client.post(
        URL, data=body, content_type="application/json", HTTP_X_API_KEY=secret, **headers
    )


@pytest.fixture
def customs_key(make_key, catalogue):
    return make_key(Scope.IMPORT_STATISTICS, name="长沙海关统计系统")


def test_an_api_import_waits_until_a_commerce_reviewer_approves_it_on_the_page(
    client, customs_key, django_capture_on_commit_callbacks
):
    make_enterprise("衡阳湘南跨境贸易有限公司", uscc=DEMO_USCC)
    response = send(client, customs_key, {"source": "customs", "rows": rows(), "note": "十月"})
    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["state"], body["lines"]) == ("pending", 2)
    assert body["counts"] == {"new": 2, "changed": 0, "unchanged": 0}
    assert body["totals"] == {"export_usd": "1900000.50", "import_usd": "300000.00"}
    created = StatisticsImport.objects.get(pk=body["id"])
    key = key_of(customs_key)
    assert (created.api_key, created.imported_by) == (key, None)
    # A proposal: nothing is in use, nothing is matched.
    assert not StatisticsRecord.objects.filter(current=True).exists()
    assert not Entitlement.objects.exists()
    status = client.get(f"{URL}/{created.pk}", HTTP_X_API_KEY=customs_key).json()
    assert status["state"] == "pending"
    # The page names the system as importer and offers the approval to a commerce reviewer.
    reviewer = make_staff(Role.COMMERCE_REVIEWER, "approver")
    client.force_login(reviewer)
    page = client.get(reverse("reviews:statistics_detail", args=[created.pk]))
    assert "长沙海关统计系统" in page.content.decode() and page.context["may_decide"]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("reviews:statistics_approve", args=[created.pk]))
    created.refresh_from_db()
    assert (created.state, created.approved_by) == (StatisticsImport.State.APPLIED, reviewer)
    assert StatisticsRecord.objects.filter(current=True).count() == 2
    offered = Entitlement.objects.get(uscc=DEMO_USCC, measure__code="M05")
    assert offered.amount_cny == Decimal("500000.00")
    client.logout()
    status = client.get(f"{URL}/{created.pk}", HTTP_X_API_KEY=customs_key).json()
    assert (status["state"], status["counts"]["new"]) == ("applied", 2)
    assert status["approved_at"] is not None
    imported = AuditEvent.objects.get(action="statistics.import")
    assert imported.actor is None
    assert (imported.data["api_key"], imported.data["system"]) == (key.pk, "长沙海关统计系统")
    assert AuditEvent.objects.filter(action="api.call", object_id=str(key.pk)).count() == 3


def test_a_bad_row_is_refused_with_its_line_and_column_and_nothing_is_stored(client, customs_key):
    bad = rows()
    bad[1]["export_usd"] = "六十五万"
    del bad[0]["year"]
    response = send(client, customs_key, {"source": "customs", "rows": bad})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_rows"
    assert [e["line"] for e in body["errors"]] == [1, 2]
    assert "年度" in body["errors"][0]["message"]
    assert body["errors"][1]["message"].startswith("跨境电商出口额（美元）")
    assert body["detail"] == "数据未导入：共 2 处错误，未保存任何内容。"
    assert body["detail_en"] == "The rows were not imported: 2 errors. Nothing was stored."
    assert body["errors_en"][1]["message"].startswith("CBEC exports (USD): ")
    assert not StatisticsImport.objects.exists() and not StatisticsRecord.objects.exists()
    assert not AuditEvent.objects.filter(action="statistics.import").exists()


def test_malformed_requests_get_a_translated_400_not_a_500(client, customs_key):
    wrong_source = send(client, customs_key, {"source": "tax", "rows": rows()})
    assert (wrong_source.status_code, wrong_source.json()["code"]) == (400, "invalid")
    nothing = send(client, customs_key, {"source": "customs", "rows": []})
    assert (nothing.status_code, nothing.json()["fields"]) == (400, ["payload.rows"])
    unknown = send(client, customs_key, {"source": "customs", "rows": rows(), "corrects": 999})
    assert (unknown.status_code, unknown.json()["code"]) == (400, "unknown_import")
    assert not StatisticsImport.objects.exists()


def test_the_person_who_issued_the_key_may_not_approve_its_imports(client, catalogue):
    issuer = make_user(Role.SECURITY_ADMINISTRATOR, username="former-admin")
    _key, secret = new_key(issuer, Scope.IMPORT_STATISTICS)
    # Later moved from security administration to commerce review (never both at once).
    issuer.groups.remove(Group.objects.get(name=Role.SECURITY_ADMINISTRATOR.value))
    issuer.groups.add(Group.objects.get(name=Role.COMMERCE_REVIEWER.value))
    created = StatisticsImport.objects.get(
        pk=send(client, secret, {"source": "customs", "rows": rows()}).json()["id"]
    )
    with pytest.raises(StatisticsError, match="签发该 API 密钥的人员不得批准"):
        import_approve(user=issuer, statistics_import=created)
    client.force_login(issuer)
    page = client.get(reverse("reviews:statistics_detail", args=[created.pk]))
    assert not page.context["may_decide"]
    assert StatisticsImport.objects.get().state == StatisticsImport.State.PENDING


def test_an_import_has_exactly_one_importer_a_person_or_a_key(customs_key):
    with pytest.raises(IntegrityError), transaction.atomic():
        StatisticsImport.objects.create(source=StatisticsSource.CUSTOMS)
    with pytest.raises(IntegrityError), transaction.atomic():
        StatisticsImport.objects.create(
            source=StatisticsSource.CUSTOMS,
            imported_by=make_staff(Role.COMMERCE_REVIEWER),
            api_key=key_of(customs_key),
        )


def test_a_key_reads_only_the_imports_it_sent(client, customs_key, make_key):
    sent = send(client, customs_key, {"source": "customs", "rows": rows()}).json()
    other = make_key(Scope.IMPORT_STATISTICS, name="社保系统")
    response = client.get(f"{URL}/{sent['id']}", HTTP_X_API_KEY=other)
    assert (response.status_code, response.json()["code"]) == (404, "unknown_import")


def test_social_security_contributions_come_back_as_strings_with_two_decimals(
    client, make_key, catalogue
):
    secret = make_key(Scope.IMPORT_STATISTICS, name="社保系统")
    payload = {
        "source": "social_security",
        "rows": [{"uscc": DEMO_USCC, "year": "2026", "contributions_cny": "123456.7"}],
    }
    body = send(client, secret, payload).json()
    assert body["totals"] == {"contributions_cny": "123456.70"}
    assert body["source"] == "social_security"


def test_the_import_list_names_the_system_in_a_constant_number_of_queries(client, customs_key):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    reviewer = make_staff(Role.COMMERCE_REVIEWER, "reader")
    client.force_login(reviewer)
    send(client, customs_key, {"source": "customs", "rows": rows()})
    with CaptureQueriesContext(connection) as one:
        page = client.get(reverse("reviews:statistics"))
    assert "长沙海关统计系统（经接口提交）" in page.content.decode()
    for year in ("2024", "2025"):
        more = rows()
        for row in more:
            row["year"] = year
        send(client, customs_key, {"source": "customs", "rows": more})
    with CaptureQueriesContext(connection) as three:
        page = client.get(reverse("reviews:statistics"))
    assert page.content.decode().count("长沙海关统计系统（经接口提交）") == 3
    assert len(three.captured_queries) == len(one.captured_queries) > 0
