"""Pages: the permission matrix over every reviews URL, queues, downloads, notices."""

from __future__ import annotations

import pytest
from django.urls import reverse

from applications.models import Application, Evidence
from applications.workflow import State
from hengyang_cbec.accounts.roles import Role
from hengyang_cbec.audit.models import AuditEvent
from reviews.models import CoReviewRequest, Objection, PublicNoticeItem
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
from .matrix_targets import POSTS, Target

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
    "supervisor",
    "officer",
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
    from applications.tests.factories import register

    claim = register(make_user(Role.APPLICANT, username="claimant"))
    users = {
        "anonymous": None,
        "applicant": applicant,
        "other_applicant": other_applicant,
        "commerce": make_staff(Role.COMMERCE_REVIEWER, "m_commerce"),
        "finance": make_staff(Role.FINANCE_REVIEWER, "m_finance"),
        "registrar": make_staff(Role.APPROVAL_REGISTRAR, "m_registrar"),
        "coreviewer_other_unit": make_staff(Role.CO_REVIEWER, "m_hrss", unit="hrss_bureau"),
        "auditor": make_staff(Role.AUDITOR, "m_auditor"),
        "supervisor": make_staff(Role.FINANCE_SUPERVISOR, "m_supervisor"),
        "officer": make_staff(Role.DISBURSEMENT_OFFICER, "m_officer"),
        "sysadmin": make_staff(Role.SYSTEM_ADMINISTRATOR, "m_sysadmin"),
        "secadmin": make_staff(Role.SECURITY_ADMINISTRATOR, "m_secadmin"),
        "auditadmin": make_staff(Role.AUDIT_ADMINISTRATOR, "m_auditadmin"),
    }
    from reviews.models import DossierJob
    from reviews.services.dossier import dossier_build, dossier_request

    dossier = dossier_request(
        user=users["auditor"], scope=DossierJob.Scope.APPLICATION, application=application
    )
    dossier_build(dossier.pk)
    from tests.portal_walk import World

    states = World()  # the walk's builder of 免申即享 states
    return {
        "states": states,
        "import": states.statistics_import(),
        "customs": "customs",
        "application": application,
        "pdf": pdf,
        "png": png,
        "pending": pending,
        "coreview": coreview,
        "item": item,
        "objection": objection,
        "claim": claim,
        "claim_document": claim.documents.first(),
        "dossier": dossier,
        "users": users,
    }


def codes(**by_persona):
    """Expected status per persona; unnamed logged-in personas get 403, anonymous 302."""
    expected = dict.fromkeys(PERSONAS, 403)
    expected["anonymous"] = 302
    expected.update(by_persona)
    return expected


READ = {"commerce": 200, "finance": 200, "registrar": 200, "auditor": 200}
STATISTICS_READ = {"commerce": 200, "finance": 200, "auditor": 200}
# (name, method, args from the world, expected)
MATRIX = [
    (
        "workspace",
        "get",
        None,
        codes(**READ, coreviewer_other_unit=200, officer=200),
    ),
    ("commerce_queue", "get", None, codes(commerce=200, auditor=200)),
    ("finance_queue", "get", None, codes(finance=200, auditor=200)),
    ("registrar_queue", "get", None, codes(registrar=200, auditor=200)),
    ("coreview_queue", "get", None, codes(coreviewer_other_unit=200)),
    ("review_detail", "get", "application", codes(**READ, coreviewer_other_unit=404)),
    ("evidence_download", "get", "pdf", codes(**READ, coreviewer_other_unit=404)),
    ("evidence_inline", "get", "png", codes(**READ, coreviewer_other_unit=404)),
    ("budgets", "get", None, codes(finance=200, registrar=200, auditor=200, officer=200)),
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
    # Enterprise verification: commerce staff only (not finance, the auditor or administrators).
    ("verification_queue", "get", None, codes(commerce=200)),
    ("verification_detail", "get", "claim", codes(commerce=200)),
    ("verification_document", "get", "claim_document", codes(commerce=200)),
    ("verification_detail", "post", "claim", codes(commerce=302)),
    # Anyone signed in may object to a notice item (the anonymous are sent to sign in).
    ("lodge_objection", "post", "item", dict.fromkeys(PERSONAS, 302)),
    # The auditor's dossier: auditors and finance supervisors; each sees only their own dossiers.
    ("dossiers", "get", None, codes(auditor=200, supervisor=200)),
    ("dossiers", "post", None, codes(auditor=302, supervisor=302)),
    ("dossier_job", "get", "dossier", codes(auditor=200, supervisor=404)),
    ("dossier_download", "get", "dossier", codes(auditor=200, supervisor=404)),
    # 免申即享: commerce, finance and the auditor read the imports and the entitlement list;
    # commerce reviewers import, decide (a second one), match and dispute a source (the other
    # readers posting an import are answered 404: their page has no form).
    ("statistics", "get", None, codes(**STATISTICS_READ)),
    ("statistics", "post", None, codes(commerce=302, finance=404, auditor=404)),
    ("statistics_detail", "get", "import", codes(**STATISTICS_READ)),
    ("statistics_file", "get", "import", codes(**STATISTICS_READ)),
    ("statistics_template", "get", "customs", codes(**STATISTICS_READ)),
    ("statistics_approve", "post", "import", codes(commerce=302)),
    ("statistics_reject", "post", "import", codes(commerce=302)),
    ("entitlements", "get", None, codes(**STATISTICS_READ)),
    ("entitlement_match", "post", None, codes(commerce=302)),
    ("dispute_source", "post", "application", codes(commerce=302)),
    # Finance's forecast: also commerce, the disbursement officers and the auditor.
    ("forecast", "get", None, codes(**STATISTICS_READ, officer=200)),
    ("forecast_export", "get", None, codes(**STATISTICS_READ, officer=200)),
]


def test_every_reviews_url_is_in_the_matrix():
    from reviews.urls import urlpatterns
    from reviews.views import finance

    # The finance pages have their own matrix (test_finance.py).
    names = {p.name for p in urlpatterns} - {
        p.name for p in urlpatterns if p.callback.__module__ == finance.__name__
    }
    assert names == {name for name, *_rest in MATRIX}


def test_every_reviews_post_is_in_the_matrix_with_a_valid_body():
    from tests.portal_walk import post_routes

    posts = {
        route.name.removeprefix("reviews:")
        for route in post_routes()
        if route.name.startswith("reviews:") and not route.name.startswith("reviews:finance_")
    }
    assert posts == {name for name, method, *_rest in MATRIX if method == "post"}


GETS = [row for row in MATRIX if row[1] == "get"]


def test_every_route_of_the_matrix_takes_each_method_once():
    rows = [(name, method) for name, method, *_rest in MATRIX]
    assert len(rows) == len(set(rows))


@pytest.mark.parametrize(("name", "method", "arg", "expected"), GETS, ids=[m[0] for m in GETS])
def test_permission_matrix(client, world, name, method, arg, expected):
    url = reverse(f"reviews:{name}", args=[getattr(world[arg], "pk", world[arg])] if arg else [])
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


# --- The matrix of actions: valid bodies, so that only the permission check can refuse ----------


def _body(target: Target) -> dict:
    """The body to post: a fresh one each time when it carries a file (read once when sent)."""
    return target.body() if callable(target.body) else target.body


def test_every_action_in_the_matrix_posts_a_valid_body():
    assert set(POSTS) == {name for name, method, *_rest in MATRIX if method == "post"}


@pytest.mark.parametrize("name", POSTS)
def test_action_permission_matrix_with_valid_bodies(client, world, name, settings, eager_tasks):
    """Each persona refused leaves the object as it was; each allowed one changes it (tasks the
    action starts, such as matching, run in-process also with a real broker)."""
    # Every persona posts from the one test address; the per-address limits are tested apart.
    settings.RATE_LIMITS = {limit: {} for limit in settings.RATE_LIMITS}
    expected = next(row[3] for row in MATRIX if row[0] == name and row[1] == "post")
    crew = Crew()
    allowed = [p for p in PERSONAS if expected[p] == 302 and world["users"][p] is not None]
    first = POSTS[name](world, crew, allowed[0] if allowed else None)
    before = first.observe()
    assert before != first.wanted
    wrong = []
    for persona in PERSONAS:
        if persona in allowed:
            continue
        client.logout()
        if world["users"][persona] is not None:
            client.force_login(world["users"][persona])
        response = client.post(first.url, _body(first))
        if response.status_code != expected[persona]:
            wrong.append(f"{persona}: {response.status_code} (expected {expected[persona]})")
        if first.observe() != before:
            wrong.append(f"{persona} changed it: {first.observe()!r}")
    for persona in allowed:
        target = first if persona == allowed[0] else POSTS[name](world, crew, persona)
        client.logout()
        client.force_login(world["users"][persona])
        response = client.post(target.url, _body(target))
        if response.status_code != 302 or target.observe() != target.wanted:
            wrong.append(f"{persona}: {response.status_code}, {target.observe()!r}")
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


CHINESE_NAME = "营业执照 2026.pdf"
# The ASCII fallback for old clients, then the UTF-8 name (RFC 5987), percent-encoded.
CHINESE_DISPOSITION = (
    'attachment; filename="2026.pdf"; '
    "filename*=UTF-8''%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7%202026.pdf"
)


@pytest.mark.parametrize(
    ("persona", "url_of", "action"),
    [
        (
            "commerce",
            lambda w: reverse("reviews:evidence_download", args=[w["pdf"].pk]),
            "evidence.download",
        ),
        (
            "applicant",
            lambda w: reverse(
                "applications:evidence_download", args=[w["application"].pk, w["pdf"].pk]
            ),
            "evidence.download",
        ),
        (
            "registrar",
            lambda w: reverse("reviews:objection_file", args=[w["objection"].pk]),
            "review.objection_file_download",
        ),
    ],
    ids=["staff_evidence", "applicant_evidence", "objection_file"],
)
def test_downloads_are_attachments_named_in_chinese_with_nosniff_and_audited(
    client, world, persona, url_of, action
):

    Objection.objects.filter(pk=world["objection"].pk).update(file_name=CHINESE_NAME)
    user = world["users"][persona]
    client.force_login(user)
    response = client.get(url_of(world))
    assert response.status_code == 200
    assert response["Content-Disposition"] == CHINESE_DISPOSITION
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    event = AuditEvent.objects.filter(action=action).latest("pk")
    assert event.actor_id == user.pk


def test_a_download_without_an_audit_event_is_refused_by_the_helper():
    from io import BytesIO

    from hengyang_cbec.downloads import PDF, file_download

    with pytest.raises(ValueError, match="audited"):
        file_download(BytesIO(b"%PDF"), filename=CHINESE_NAME, content_type=PDF, audit=None)


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
