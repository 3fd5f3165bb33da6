"""Pages: the permission matrix over every reviews URL, queues, downloads, notices."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from applications.models import Application, Evidence
from applications.workflow import State
from hengyang_cbec.accounts.roles import Role
from hengyang_cbec.audit.models import AuditEvent
from policies.models import Measure
from reviews.models import Assignment, CoReviewRequest, PublicNoticeItem, Stage
from reviews.services.publicity import objection_lodge
from reviews.services.review import coreview_request
from tests.factories import make_user

from .factories import (
    Crew,
    add_evidence,
    advance,
    make_application,
    make_enterprise,
    make_member,
    make_staff,
    publish,
)

pytestmark = pytest.mark.django_db

PERSONAS = (
    "anonymous",
    "applicant",
    "other_applicant",
    "commerce",
    "finance",
    "registrar",
    "coreviewer_other_unit",
    "auditor",
    "sysadmin",
    "secadmin",
    "auditadmin",
)


@pytest.fixture
def world(catalogue):
    crew = Crew()
    enterprise = make_enterprise()
    applicant = make_member(enterprise, "owner")
    other = make_enterprise()
    other_applicant = make_member(other, "stranger")
    application = make_application(enterprise=enterprise, submitter=applicant)
    advance(application, State.COMMERCE_REVIEW, crew=crew)
    pdf = add_evidence(application, sha256="11" * 32)
    png = add_evidence(application, sha256="22" * 32)
    Evidence.objects.filter(pk=png.pk).update(kind="png", content_type="image/png")
    pending = add_evidence(application, sha256="33" * 32, clean=False)
    (coreview,) = coreview_request(
        user=crew.commerce,
        application=application,
        units=["customs"],
        version=Application.objects.get(pk=application.pk).version,
    )
    noticed = make_application(enterprise=other, submitter=other_applicant)
    advance(noticed, State.PUBLIC_NOTICE, crew=crew)
    publish(noticed, crew.registrar)
    item = PublicNoticeItem.objects.get(application=noticed)
    from applications.tests.factories import pdf_upload

    objection = objection_lodge(
        user=make_user(username="citizen"),
        item=item,
        real_name="赵六",
        contact="13800000001",
        text="存疑",
        upload=pdf_upload(),
    )
    from reviews.tasks import scan_objection_file

    scan_objection_file.apply(args=[objection.pk])  # held like evidence until scanned clean
    users = {
        "anonymous": None,
        "applicant": applicant,
        "other_applicant": other_applicant,
        "commerce": make_staff(Role.COMMERCE_REVIEWER, "m_commerce"),
        "finance": make_staff(Role.FINANCE_REVIEWER, "m_finance"),
        "registrar": make_staff(Role.APPROVAL_REGISTRAR, "m_registrar"),
        "coreviewer_other_unit": make_staff(Role.CO_REVIEWER, "m_hrss", unit="hrss_bureau"),
        "auditor": make_staff(Role.AUDITOR, "m_auditor"),
        "sysadmin": make_staff(Role.SYSTEM_ADMINISTRATOR, "m_sysadmin"),
        "secadmin": make_staff(Role.SECURITY_ADMINISTRATOR, "m_secadmin"),
        "auditadmin": make_staff(Role.AUDIT_ADMINISTRATOR, "m_auditadmin"),
    }
    return {
        "application": application,
        "pdf": pdf,
        "png": png,
        "pending": pending,
        "coreview": coreview,
        "item": item,
        "objection": objection,
        "users": users,
    }


def codes(**by_persona):
    """Expected status per persona; unnamed logged-in personas get 403, anonymous 302."""
    expected = dict.fromkeys(PERSONAS, 403)
    expected["anonymous"] = 302
    expected.update(by_persona)
    return expected


READ = {"commerce": 200, "finance": 200, "registrar": 200, "auditor": 200}
# (name, method, args from the world, expected)
MATRIX = [
    (
        "workspace",
        "get",
        None,
        codes(**READ, coreviewer_other_unit=200),
    ),
    ("commerce_queue", "get", None, codes(commerce=200, auditor=200)),
    ("finance_queue", "get", None, codes(finance=200, auditor=200)),
    ("registrar_queue", "get", None, codes(registrar=200, auditor=200)),
    ("coreview_queue", "get", None, codes(coreviewer_other_unit=200)),
    ("review_detail", "get", "application", codes(**READ, coreviewer_other_unit=404)),
    ("evidence_download", "get", "pdf", codes(**READ, coreviewer_other_unit=404)),
    ("evidence_inline", "get", "png", codes(**READ, coreviewer_other_unit=404)),
    ("budgets", "get", None, codes(finance=200, registrar=200, auditor=200)),
    ("audit_log", "get", None, codes(auditor=200, auditadmin=200)),
    (
        "public_notices",
        "get",
        None,
        dict.fromkeys(PERSONAS, 200),
    ),
    (
        "lodge_objection",
        "get",
        "item",
        {**dict.fromkeys(PERSONAS, 200), "anonymous": 302},
    ),
    ("objection_file", "get", "objection", codes(**READ)),
    ("take", "post", "application", codes(commerce=302)),
    ("assign", "post", "application", codes(commerce=302, finance=302, registrar=302)),
    ("save_facts", "post", "application", codes(commerce=302)),
    ("request_coreview", "post", "application", codes(commerce=302)),
    ("return", "post", "application", codes(commerce=302)),
    ("reject", "post", "application", codes(commerce=302, finance=302)),
    ("recommend", "post", "application", codes(commerce=302)),
    ("return_to_commerce", "post", "application", codes(finance=302)),
    ("commit", "post", "application", codes(finance=302)),
    ("answer_coreview", "post", "coreview", codes(coreviewer_other_unit=404)),
    ("resolve_objection", "post", "objection", codes(commerce=302)),
    ("publish_notice", "post", None, codes(registrar=302)),
    ("close_notices", "post", None, codes(registrar=302)),
    ("record_approval", "post", None, codes(registrar=302)),
]


def test_every_reviews_url_is_in_the_matrix():
    from reviews.urls import urlpatterns
    from reviews.views import finance, forecast, statistics

    # The finance, forecast and statistics pages have their own matrices (test_finance.py,
    # test_entitlement_flow.py).
    own = (finance.__name__, forecast.__name__, statistics.__name__)
    names = {p.name for p in urlpatterns} - {
        p.name for p in urlpatterns if p.callback.__module__ in own
    }
    assert names == {name for name, *_rest in MATRIX}


@pytest.mark.parametrize(("name", "method", "arg", "expected"), MATRIX, ids=[m[0] for m in MATRIX])
def test_permission_matrix(client, world, name, method, arg, expected):
    url = reverse(f"reviews:{name}", args=[world[arg].pk] if arg else [])
    wrong = []
    for persona in PERSONAS:
        client.logout()
        user = world["users"][persona]
        if user is not None:
            client.force_login(user)
        response = getattr(client, method)(url)
        if response.status_code != expected[persona]:
            wrong.append(f"{persona}: {response.status_code} (expected {expected[persona]})")
        if persona == "anonymous" and expected[persona] == 302:
            assert response["Location"].startswith(reverse("login"))
    assert not wrong, f"{name}: " + "; ".join(wrong)


def test_the_routed_unit_sees_and_answers_its_request(client, world):
    customs = make_staff(Role.CO_REVIEWER, "m_customs", unit="customs")
    client.force_login(customs)
    queue = client.get(reverse("reviews:coreview_queue"))
    assert f'data-request="{world["coreview"].pk}"' in queue.content.decode()
    page = client.get(reverse("reviews:review_detail", args=[world["application"].pk]))
    assert page.status_code == 200
    response = client.post(
        reverse("reviews:answer_coreview", args=[world["coreview"].pk]),
        {"decision": "agree", "text": "出口额与海关统计一致"},
    )
    assert response.status_code == 302
    assert CoReviewRequest.objects.get(pk=world["coreview"].pk).status == "answered"


def test_evidence_downloads_are_attachments_with_nosniff_and_audited(client, world):
    client.force_login(world["users"]["commerce"])
    response = client.get(reverse("reviews:evidence_download", args=[world["pdf"].pk]))
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;") and "filename*=UTF-8''" in disposition
    assert response["X-Content-Type-Options"] == "nosniff"
    assert AuditEvent.objects.filter(action="evidence.download").exists()


def test_evidence_not_yet_scanned_is_not_downloadable_even_by_staff(client, world):
    client.force_login(world["users"]["auditor"])
    url = reverse("reviews:evidence_download", args=[world["pending"].pk])
    assert client.get(url).status_code == 404


def test_pdfs_are_never_served_inline(client, world):
    client.force_login(world["users"]["commerce"])
    assert client.get(reverse("reviews:evidence_inline", args=[world["pdf"].pk])).status_code == 404


def test_the_review_page_masks_the_bank_account_and_shows_the_trace(client, world):
    client.force_login(world["users"]["commerce"])
    html = client.get(reverse("reviews:review_detail", args=[world["application"].pk])).content
    html = html.decode()
    account = world["application"].enterprise.bank_account
    assert account not in html
    assert account[-4:] in html
    assert "data-trace" in html
    assert 'data-fact="cbec_export_volume_usd"' in html


def test_the_public_page_shows_name_measure_amount_and_nothing_else(client, world):
    html = client.get(reverse("reviews:public_notices")).content.decode()
    item = world["item"]
    assert item.enterprise_name in html
    assert "100,000.00" in html or "100000.00" in html
    application = item.application
    assert application.enterprise.bank_account not in html
    assert application.enterprise.uscc not in html
    assert application.reference not in html


def test_a_stale_page_shows_a_conflict_message(client, world):
    client.force_login(world["users"]["commerce"])
    application = world["application"]
    response = client.post(
        reverse("reviews:reject", args=[application.pk]),
        {"version": 1, "reason": "过期的页面"},
        follow=True,
    )
    assert "页面打开后该申报已有变化" in response.content.decode()
    application.refresh_from_db()
    assert application.state == State.COMMERCE_REVIEW


def test_a_logged_in_user_lodges_an_objection_through_the_form(client, world):
    client.force_login(world["users"]["other_applicant"])
    response = client.post(
        reverse("reviews:lodge_objection", args=[world["item"].pk]),
        {"real_name": "李强", "contact": "13900000000", "text": "金额偏高"},
    )
    assert response.status_code == 302
    assert world["item"].objections.count() == 2


def test_the_audit_page_reports_the_chain(client, world):
    client.force_login(world["users"]["auditor"])
    html = client.get(reverse("reviews:audit_log")).content.decode()
    assert "data-chain=" not in html and 'id="verify-chain"' in html
    html = client.get(reverse("reviews:audit_log") + "?verify=1").content.decode()
    assert 'data-chain="ok"' in html


# --- Queue queries ------------------------------------------------------------------------------


def _bulk(n: int, enterprise, submitter, commerce):
    measure = Measure.objects.get(code="M05")
    now = timezone.now()
    start = Application.objects.count()
    rows = [
        Application(
            enterprise=enterprise,
            measure=measure,
            year=2026,
            scope_key=f"s{start + i}",
            state=State.SUBMITTED if i % 3 else State.COMMERCE_REVIEW,
            reference=f"HY-CBEC-2026-{start + i:06d}",
            declared_facts={"cbec_export_volume_usd": "600000"},
            estimate_cny=100000,
            submitted_at=now - timedelta(days=i % 40),
            submitted_by=submitter,
            created_by=submitter,
            resubmission_count=1 if i % 5 == 0 else 0,
        )
        for i in range(n)
    ]
    created = Application.objects.bulk_create(rows)
    Assignment.objects.bulk_create(
        Assignment(application=a, stage=Stage.COMMERCE, assignee=commerce, assigned_by=commerce)
        for a in created
        if a.state == State.COMMERCE_REVIEW and a.pk is not None
    )


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("tab", ["submitted", "in_review", "resubmitted"])
def test_the_commerce_queue_keeps_a_constant_number_of_queries(
    client, catalogue, django_assert_max_num_queries, tab
):
    enterprise = make_enterprise()
    submitter = make_member(enterprise)
    commerce = make_staff(Role.COMMERCE_REVIEWER)
    client.force_login(commerce)
    url = reverse("reviews:commerce_queue") + f"?tab={tab}&sort=-age"
    _bulk(10, enterprise, submitter, commerce)
    client.get(url)  # warm the session and catalogue caches
    small = _queries(client, url)
    with django_assert_max_num_queries(small):
        client.get(url)
    _bulk(9990, enterprise, submitter, commerce)
    assert Application.objects.count() >= 10_000
    with django_assert_max_num_queries(small):
        response = client.get(url)
    assert response.content.decode().count("data-application=") <= 50


@pytest.mark.parametrize("name", ["finance_queue", "registrar_queue"])
def test_the_other_queues_keep_a_constant_number_of_queries(
    client, catalogue, django_assert_max_num_queries, name
):
    enterprise = make_enterprise()
    submitter = make_member(enterprise)
    role = Role.FINANCE_REVIEWER if name == "finance_queue" else Role.APPROVAL_REGISTRAR
    user = make_staff(role)
    client.force_login(user)
    url = reverse(f"reviews:{name}")
    _bulk(10, enterprise, submitter, user)
    Application.objects.update(
        state=State.FINANCE_REVIEW if role == Role.FINANCE_REVIEWER else State.PUBLIC_NOTICE
    )
    client.get(url)
    small = _queries(client, url)
    _bulk(990, enterprise, submitter, user)
    Application.objects.update(
        state=State.FINANCE_REVIEW if role == Role.FINANCE_REVIEWER else State.PUBLIC_NOTICE
    )
    with django_assert_max_num_queries(small):
        client.get(url)


def test_overdue_applications_stand_out(client, catalogue):
    commerce = make_staff(Role.COMMERCE_REVIEWER)
    client.force_login(commerce)
    old = make_application(submitted_days_ago=40)
    fresh = make_application(submitted_days_ago=1)
    html = client.get(reverse("reviews:commerce_queue")).content.decode()
    assert f'data-application="{old.pk}" class="table-warning" data-overdue="1"' in html
    assert f'data-application="{fresh.pk}">' in html
    overdue_only = client.get(reverse("reviews:commerce_queue") + "?age=overdue").content.decode()
    assert f'data-application="{fresh.pk}"' not in overdue_only


def test_take_from_the_queue(client, catalogue):
    commerce = make_staff(Role.COMMERCE_REVIEWER)
    client.force_login(commerce)
    application = make_application()
    response = client.post(
        reverse("reviews:take", args=[application.pk]), {"version": application.version}
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.state == State.COMMERCE_REVIEW
    assert Assignment.objects.get(application=application).assignee == commerce


@pytest.mark.parametrize("page", ["reviews:commerce_queue", "reviews:finance_reports"])
def test_year_pickers_follow_the_policy_validity(client, catalogue, password, page):
    from policies.models import Policy

    Policy.objects.update(valid_to=timezone.localdate().replace(year=2031, month=3, day=24))
    user = make_staff(Role.COMMERCE_REVIEWER, "year-picker")
    client.login(username=user.username, password=password)
    body = client.get(reverse(page)).content.decode()
    first = Policy.objects.order_by("valid_from").first().valid_from.year
    for year in range(first, 2032):
        assert f'<option value="{year}"' in body
    assert f'<option value="{first - 1}"' not in body
    assert '<option value="2032"' not in body


def test_figures_the_engine_refuses_are_named_on_the_review_page(client, catalogue):
    """The reviewer sees which figure stops the assessment, in Chinese, not a bare 'cannot'."""
    enterprise = make_enterprise()
    application = make_application(
        enterprise=enterprise,
        submitter=make_member(enterprise, "owner"),
        facts={"cbec_export_volume_usd": "600000", "had_cbec_exports_before": "maybe"},
    )
    client.force_login(make_user(Role.COMMERCE_REVIEWER, username="reader"))
    html = client.get(reverse("reviews:review_detail", args=[application.pk])).content.decode()
    label = catalogue.facts["had_cbec_exports_before"].label_zh
    assert f"数据暂不能测算。{label}：" in html
    assert "data-result-amount" not in html
